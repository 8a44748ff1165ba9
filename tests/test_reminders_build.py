"""Who gets a 催报 reminder and what it says, pure (reminders/build.py and the templates):
below quota as the bulletin counts (suspected items count, per-unit quotas), the units with
nothing, recipients from the config, the roster and the heads, month ends (February, leap
years, the zone), days left and the bulletin's day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from mailroom.config import Settings, parse_settings
from mailroom.errors import InvalidInput
from mailroom.outbox import compose
from mailroom.reminders.build import ItemLine, deadline, month_end, next_firing, plan
from mailroom.reports.build import build_monthly
from mailroom.reports.records import ItemRecord, Records

ZONE = ZoneInfo("Asia/Shanghai")


def settings(**sections: Any) -> Settings:
    data: dict[str, Any] = {
        "office": {"name": "永宁县自然资源局"},
        "units": [
            {"name": "办公室", "officers": ["bgs@example.cn"], "heads": ["head@example.cn"]},
            {"name": "执法大队", "officers": ["ZF@example.cn"], "quota": 3,
             "heads": ["zf@example.cn", "boss@example.cn"]},
            {"name": "规划股", "quota": 1},
            {"name": "林场"},
            {"name": "林业站", "quota": 0},
        ],
        "quota": {"monthly_minimum": 2},
    }
    data.update(sections)
    return parse_settings(data)


def item(unit: str | None, status: str, size: int = 1, month: str = "2019-05") -> ItemRecord:
    return ItemRecord("", month, unit, status, "x@example.cn", size=size)


RECORDS = Records(items=(
    item("办公室", "counted"), item("办公室", "suspected"),  # 2 of 2: suspected counts
    item("执法大队", "counted", 2), item("执法大队", "duplicate"), item("执法大队", "rejected"),
    item("规划股", "suspected"),  # 1 of its own quota 1
    item(None, "unassigned", 3),  # nobody's
    item("林场", "counted", 5, month="2019-04"),  # April's: not May's
    item("撤销股", "counted"),  # no longer configured: default quota, still listed
), officers=(), first_full_month="2019-05")
AS_OF = datetime(2019, 5, 20, 9, 0, tzinfo=ZONE)


def reminders_of(records: Records = RECORDS, **sections: Any) -> Any:
    config = settings(**sections)
    report = build_monthly(records, "2019-05", config, AS_OF)
    items = {"执法大队": [ItemLine("201905-0002", "标题", "counted", "2019-05-08 10:00")]}
    roster = {"执法大队": ["wang@example.cn", "zf@example.cn"], "林场": ["lc@example.cn"]}
    return plan(report, items, roster, config, AS_OF)


def test_exactly_the_units_below_quota_are_due() -> None:
    reminders = reminders_of()
    assert [u.unit for u in reminders.due] == ["执法大队", "林场", "撤销股"]
    assert [u.unit for u in reminders.at_quota] == ["办公室", "规划股", "林业站"]
    enforce = reminders.due[0]
    assert (enforce.counted, enforce.quota, enforce.short, enforce.submitted) == (2, 3, 1, 4)
    assert [i.number for i in enforce.items] == ["201905-0002"]
    office = reminders.at_quota[0]
    assert (office.counted, office.suspected, office.short) == (2, 1, 0)
    forest = reminders.due[1]  # nothing in May (April's items are April's)
    assert (forest.submitted, forest.counted, forest.short, forest.items) == (0, 0, 2, ())
    gone = reminders.due[2]
    assert (gone.quota, gone.recipients) == (2, ())
    assert reminders.unreachable == (gone,)


def test_the_default_quota_and_overrides() -> None:
    reminders = reminders_of(quota={"monthly_minimum": 1})
    assert [u.unit for u in reminders.due] == ["执法大队", "林场"]  # 撤销股 has its 1
    assert reminders.due[1].quota == 1


def test_recipients_officers_roster_and_heads_each_once() -> None:
    enforce, forest, _gone = reminders_of().due
    assert enforce.recipients == ("zf@example.cn", "wang@example.cn", "boss@example.cn")
    assert forest.recipients == ("lc@example.cn",)  # the roster alone


def test_month_ends() -> None:
    assert month_end("2019-02") == date(2019, 2, 28)
    assert month_end("2020-02") == date(2020, 2, 29)  # leap year
    assert month_end("2100-02") == date(2100, 2, 28)  # a century, not a leap year
    assert month_end("2000-02") == date(2000, 2, 29)
    assert month_end("2019-04") == date(2019, 4, 30)
    assert month_end("2019-12") == date(2019, 12, 31)


@pytest.mark.parametrize(("month", "at", "left", "over"), [
    ("2019-05", datetime(2019, 5, 20, 9, 0, tzinfo=ZONE), 11, False),
    ("2019-05", datetime(2019, 5, 1, 0, 0, tzinfo=ZONE), 30, False),
    ("2019-05", datetime(2019, 5, 31, 23, 59, tzinfo=ZONE), 0, False),  # the last day
    ("2019-05", datetime(2019, 5, 31, 16, 0, tzinfo=UTC), 0, True),  # 1 June in Shanghai
    ("2019-05", datetime(2019, 5, 31, 15, 59, tzinfo=UTC), 0, False),  # 23:59 in Shanghai
    ("2020-02", datetime(2020, 2, 20, 9, 0, tzinfo=ZONE), 9, False),  # leap: the 29th
    ("2019-02", datetime(2019, 2, 20, 9, 0, tzinfo=ZONE), 8, False),
    ("2019-12", datetime(2019, 12, 31, 9, 0, tzinfo=ZONE), 0, False),
    ("2019-11", datetime(2019, 12, 1, 9, 0, tzinfo=ZONE), 0, True),
])
def test_days_left(month: str, at: datetime, left: int, over: bool) -> None:
    d = deadline(month, at, ZONE)
    assert (d.days_left, d.over) == (left, over)


def test_a_month_not_begun_is_refused() -> None:
    with pytest.raises(InvalidInput, match="2019-06 has not begun"):
        deadline("2019-06", datetime(2019, 5, 31, 15, 59, tzinfo=UTC), ZONE)
    deadline("2019-06", datetime(2019, 5, 31, 16, 0, tzinfo=UTC), ZONE)  # 1 June, 00:00


def test_the_bulletin_day() -> None:
    last = date(2019, 5, 31)
    at = datetime(2019, 5, 20, 9, 0, tzinfo=ZONE)
    assert next_firing("0 9 28 * *", at, last, ZONE) == datetime(2019, 5, 28, 9, 0, tzinfo=ZONE)
    late = datetime(2019, 5, 28, 9, 0, tzinfo=ZONE)  # firing now: it has fired
    assert next_firing("0 9 28 * *", late, last, ZONE) is None
    early = datetime(2019, 5, 28, 8, 0, tzinfo=ZONE)
    assert next_firing("0 9,17 28 * *", early, last, ZONE) == late
    assert next_firing("0 9 30 * *", datetime(2019, 2, 1, tzinfo=ZONE), date(2019, 2, 28),
                       ZONE) is None  # no 30 February
    # weekdays, 0 = Sunday: "5" is Friday, and the first Friday after Monday 20 May is the 24th
    assert next_firing("30 16 * * 5", at, last, ZONE) == \
        datetime(2019, 5, 24, 16, 30, tzinfo=ZONE)
    assert deadline("2019-05", at, ZONE, "0 9 28 * *").bulletin == \
        datetime(2019, 5, 28, 9, 0, tzinfo=ZONE)


def test_the_mail_as_a_unit_reads_it() -> None:
    items = {"执法大队": [
        ItemLine("201905-0002", "<b>执法</b>检查", "counted", "2019-05-08 10:00"),
        ItemLine("201905-0003", "巡查", "suspected", "2019-05-09 10:00", "201905-0001"),
        ItemLine("201905-0004", "学习", "rejected", "2019-05-10 10:00", None,
                 ("signed_scan",)),
    ]}
    config = settings(imap={"host": "imap.126.com", "username": "ynlyj452@126.com",
                            "password": "x"})
    reminders = plan(build_monthly(RECORDS, "2019-05", config, AS_OF), items, {}, config,
                     AS_OF)
    unit = reminders.due[0]
    text, html = compose.render("reminder", x=reminders, u=unit)
    assert compose.subject("reminder", x=reminders, u=unit) == \
        "催报：执法大队2019年5月报送信息尚差1篇（已计数2篇，定额3篇）"
    assert text.startswith("执法大队：\n\n截至2019年5月20日 09:00，本月（2019年5月）你单位已报送"
                           "信息4篇，计数2篇，月度定额3篇，尚差1篇。距月底（5月31日）还有11天")
    assert "办公室将于5月28日对本月信息报送情况进行通报。" in text
    assert "5月9日 10:00 收到｜疑似重复（与 201905-0001 内容相近），暂予计数，待办公室确认" in text
    assert "未计数：未附分管领导签字的扫描件（pdf、jpg 或 png），请补正后重新报送" in text
    assert "发送至信息报送邮箱ynlyj452@126.com" in text
    assert "永宁县自然资源局办公室\n2019年5月20日" in text
    assert "&lt;b&gt;执法&lt;/b&gt;检查" in html and "<b>执法" not in html
    assert "<script" not in html and "<style" not in html  # inline styles only
    for said in ("你单位已报送信息4篇，计数2篇，月度定额3篇，尚差1篇。",
                 "距月底（5月31日）还有11天", "办公室将于5月28日",
                 "发送至信息报送邮箱ynlyj452@126.com", "永宁县自然资源局办公室"):
        assert said in html  # the HTML says what the text says
    nobody = reminders.due[1]
    text, _html = compose.render("reminder", x=reminders, u=nobody)
    assert "尚未收到你单位报送的信息，计数0篇，月度定额2篇，尚差2篇" in text
    assert "已报送的信息（" not in text


def test_a_month_that_is_over() -> None:
    config = settings()
    june = datetime(2019, 6, 3, 9, 0, tzinfo=ZONE)
    reminders = plan(build_monthly(RECORDS, "2019-05", config, june), {}, {}, config, june)
    assert reminders.deadline.over and reminders.deadline.bulletin is None
    text, _html = compose.render("reminder", x=reminders, u=reminders.due[0])
    assert "2019年5月已结束。当月你单位已报送信息4篇，计数2篇，月度定额3篇，未完成（差1篇）" in text
    assert "月底以后收到的信息计入次月" in text and "距月底" not in text
    assert "（即本邮件的发件邮箱）" in text  # no [imap] / [smtp] address to name
