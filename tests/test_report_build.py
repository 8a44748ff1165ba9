"""Report building (reports/build.py) on hand-made records: no database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from mailroom.config import Settings, parse_settings
from mailroom.errors import InvalidInput
from mailroom.reports.build import build_annual, build_monthly, competition_ranks, year_months
from mailroom.reports.records import ItemRecord, OfficerRecord, Records
from mailroom.reports.render_json import render_json

CHANNELS = [{"name": "县政府网站", "score": 1}, {"name": "银川市级", "score": 3},
            {"name": "自治区级", "score": 5}]


def settings(**overrides: Any) -> Settings:
    data: dict[str, Any] = {
        "office": {"addresses": ["office@example.cn"], "name": "永宁县自然资源局"},
        "units": [{"name": "办公室"}, {"name": "执法大队", "quota": 3},
                  {"name": "规划股"}, {"name": "林场", "quota": 0}],
        "adoption_channels": CHANNELS,
        "scoring": {"mode": "sum", "instruction_bonus": 2},
    }
    data.update(overrides)
    return parse_settings(data)


_numbers = iter(range(1, 100_000))


def item(unit: str | None, status: str = "counted", month: str = "2019-05",
         channels: tuple[str, ...] = (), instructions: int = 0,
         sender: str = "a@example.cn") -> ItemRecord:
    return ItemRecord(number=f"{month.replace('-', '')}-{next(_numbers):04d}", month=month,
                      unit=unit, status=status, sender=sender, title=f"{unit}的信息",
                      channels=channels, instructions=instructions)


def records(*items: ItemRecord, officers: tuple[OfficerRecord, ...] = (),
            first: str = "2019-05") -> Records:
    return Records(items=items, officers=officers, first_full_month=first)


AS_OF = datetime(2019, 5, 28, 1, 0, tzinfo=UTC)


def monthly(*items: ItemRecord, period: str = "2019-05", **overrides: Any) -> dict[str, Any]:
    report = build_monthly(records(*items), period, settings(**overrides), AS_OF)
    data: dict[str, Any] = json.loads(render_json(report))
    return data


def unit(data: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(u for u in data["units"] if u["unit"] == name)
    return found


def test_counting_as_spec() -> None:
    data = monthly(
        item("办公室"), item("办公室", "suspected"), item("办公室", "duplicate"),
        item("办公室", "rejected"), item("办公室", "counted", channels=("县政府网站", "银川市级")),
        item(None, "unassigned"), item(None, "unassigned", channels=("县政府网站",)))
    office = unit(data, "办公室")
    assert office == {
        "unit": "办公室", "submitted": 5, "counted": 3, "duplicates": 1, "suspected": 1,
        "rejected": 1, "adopted": 1, "adoptions": {"县政府网站": 1, "银川市级": 1, "自治区级": 0},
        "score": 4, "quota": 2, "meets_quota": True, "rank": 1}
    assert data["unassigned"] == 2  # nobody's: in no unit's numbers
    assert sum(u["submitted"] for u in data["units"]) == 5
    # SPEC's keys, then the month's 约稿 (R14, an addition)
    assert list(data) == ["period", "units", "below_quota", "zero_report", "unassigned",
                          "requests"]
    assert data["period"] == "2019-05"


def test_every_configured_unit_listed_zero_report_and_below_quota() -> None:
    data = monthly(item("执法大队"), item("执法大队"), item("规划股", "duplicate"))
    assert [u["unit"] for u in data["units"]] == ["执法大队", "办公室", "规划股", "林场"]
    assert data["zero_report"] == ["办公室", "林场"]  # 规划股 sent a duplicate: not 零报送
    # per-unit quota override: 执法大队 needs 3, 林场 0 (meets it with nothing)
    assert unit(data, "执法大队")["quota"] == 3
    assert unit(data, "执法大队")["meets_quota"] is False
    assert unit(data, "林场")["meets_quota"] is True
    assert data["below_quota"] == ["执法大队", "办公室", "规划股"]


def test_default_quota_from_config() -> None:
    data = monthly(item("办公室"), quota={"monthly_minimum": 1})
    assert unit(data, "办公室")["quota"] == 1
    assert unit(data, "办公室")["meets_quota"] is True
    assert unit(data, "规划股")["quota"] == 1


def test_rank_by_score_then_counted_ties_share() -> None:
    data = monthly(
        item("办公室", channels=("县政府网站",)), item("办公室"),        # score 1, counted 2
        item("执法大队", channels=("县政府网站",)), item("执法大队"),    # score 1, counted 2
        item("规划股", channels=("县政府网站",)),                        # score 1, counted 1
    )
    ranks = {u["unit"]: u["rank"] for u in data["units"]}
    assert ranks == {"办公室": 1, "执法大队": 1, "规划股": 3, "林场": 4}
    assert [u["unit"] for u in data["units"]] == ["办公室", "执法大队", "规划股", "林场"]


def test_competition_ranks() -> None:
    assert competition_ranks([5, 5, 3, 3, 3, 1], lambda x: (x,)) == [1, 1, 3, 3, 3, 6]
    assert competition_ranks([], lambda x: (x,)) == []


@pytest.mark.parametrize(("mode", "score"), [("sum", 1 + 3 + 5 + 2 * 2), ("highest", 5 + 2 * 2)])
def test_scoring_modes_and_instruction_bonus(mode: str, score: int) -> None:
    data = monthly(item("办公室", channels=("县政府网站", "银川市级", "自治区级"), instructions=2),
                   scoring={"mode": mode, "instruction_bonus": 2})
    office = unit(data, "办公室")
    assert office["score"] == score
    assert office["adopted"] == 1
    assert office["adoptions"] == {"县政府网站": 1, "银川市级": 1, "自治区级": 1}


def test_instruction_without_adoption_scores_the_bonus() -> None:
    data = monthly(item("规划股", instructions=1),
                   scoring={"mode": "sum", "instruction_bonus": 2.5})
    assert unit(data, "规划股")["score"] == 2.5
    assert unit(data, "规划股")["adopted"] == 0


def test_channel_no_longer_configured_counts_with_score_zero() -> None:
    report = build_monthly(records(item("办公室", channels=("媒体", "县政府网站"))), "2019-05",
                           settings(), AS_OF)
    assert report.channels == ("县政府网站", "银川市级", "自治区级", "媒体")
    line = next(line for line in report.units if line.unit == "办公室")
    assert line.tally.adoptions["媒体"] == 1
    assert line.tally.score == 1
    assert report.adopted_items[0].channels == ("县政府网站", "媒体")


def test_adoption_counts_in_the_items_month_and_cumulative_score() -> None:
    april = item("办公室", month="2019-04", channels=("自治区级",))
    may = item("办公室", month="2019-05", channels=("县政府网站",))
    last_year = item("办公室", month="2018-12", channels=("自治区级",))
    report = build_monthly(records(april, may, last_year), "2019-05", settings(), AS_OF)
    office = next(line for line in report.units if line.unit == "办公室")
    assert office.tally.score == 1  # April's adoption, decided whenever, stays in April
    assert office.tally.adopted == 1
    assert office.cumulative_score == 6  # the year through May; not 2018
    april_report = build_monthly(records(april, may), "2019-04", settings(), AS_OF)
    office = next(line for line in april_report.units if line.unit == "办公室")
    assert (office.tally.score, office.cumulative_score) == (5, 5)  # May not yet


def test_february_and_leap_year() -> None:
    feb = [item("办公室", month="2020-02"), item("办公室", month="2020-02"),
           item("规划股", month="2020-03")]
    data = monthly(*feb, period="2020-02")
    assert unit(data, "办公室")["submitted"] == 2
    assert unit(data, "规划股")["submitted"] == 0
    assert data["period"] == "2020-02"
    annual = build_annual(records(*feb, first="2020-01"), 2020, settings(),
                          datetime(2020, 2, 29, 15, 59, tzinfo=UTC))  # 23:59 in Shanghai
    assert annual.months == ("2020-01", "2020-02")
    annual = build_annual(records(*feb, first="2020-01"), 2020, settings(),
                          datetime(2020, 2, 29, 16, 0, tzinfo=UTC))  # March 1st in Shanghai
    assert annual.months == ("2020-01", "2020-02", "2020-03")


def test_year_months() -> None:
    assert len(year_months(2019, datetime(2020, 1, 1, tzinfo=UTC))) == 12
    assert year_months(2019, datetime(2019, 1, 5, tzinfo=UTC)) == ("2019-01",)
    with pytest.raises(InvalidInput):
        year_months(2020, datetime(2019, 12, 31, tzinfo=UTC))


def test_unknown_unit_in_records_is_listed_not_dropped() -> None:
    data = monthly(item("已撤销的股室"))
    assert unit(data, "已撤销的股室")["submitted"] == 1
    assert unit(data, "已撤销的股室")["quota"] == 2


def test_adopted_items_in_rank_order_with_star() -> None:
    report = build_monthly(records(
        item("规划股", channels=("县政府网站",)),
        item("执法大队", channels=("自治区级",), instructions=1),
        item(None, "unassigned", channels=("县政府网站",))), "2019-05", settings(), AS_OF)
    assert [(i.unit, i.instructed, i.score) for i in report.adopted_items] == [
        ("执法大队", True, 7), ("规划股", False, 1), (None, False, 1)]
    assert report.totals.submitted == 3
    assert report.unassigned == 1


def test_annual_units_reporters_months_below_quota() -> None:
    officers = (OfficerRecord("zhang@example.cn", "执法大队", "张三"),
                OfficerRecord("li@example.cn", "办公室", ""))
    items = [
        item("执法大队", month="2019-01", sender="zhang@example.cn"),
        item("执法大队", month="2019-01", sender="zhang@example.cn"),
        item("执法大队", month="2019-01", sender="zhang@example.cn", channels=("自治区级",)),
        item("执法大队", month="2019-02", sender="zhang@example.cn", instructions=1),
        item("办公室", month="2019-01", sender="li@example.cn"),
        item("办公室", month="2019-01", sender="li@example.cn", status="duplicate"),
        item("办公室", month="2019-02", sender="wang@example.cn"),
        item("办公室", month="2019-02", sender="wang@example.cn"),
        item(None, "unassigned", month="2019-02", sender="zhang@example.cn"),
        item("办公室", month="2019-04", sender="li@example.cn"),  # after as_of: not counted
    ]
    as_of = datetime(2019, 3, 15, tzinfo=UTC)
    report = build_annual(Records(tuple(items), officers, "2019-01"), 2019, settings(), as_of)
    assert report.months == ("2019-01", "2019-02", "2019-03")
    data = json.loads(render_json(report))
    assert data["period"] == "2019"
    zfdd = unit(data, "执法大队")
    assert zfdd["rank"] == 1 and zfdd["score"] == 7 and zfdd["counted"] == 4
    assert zfdd["quota"] == 9  # 3 a month, 3 months
    assert zfdd["months_below_quota"] == ["2019-02", "2019-03"]
    assert zfdd["meets_quota"] is False
    office = unit(data, "办公室")
    assert (office["submitted"], office["counted"], office["duplicates"]) == (4, 3, 1)
    assert office["months_below_quota"] == ["2019-01", "2019-03"]
    assert unit(data, "林场")["months_below_quota"] == []
    assert unit(data, "林场")["meets_quota"] is True
    assert data["zero_report"] == ["规划股", "林场"]
    assert data["unassigned"] == 1
    reporters = {r["sender"]: r for r in data["reporters"]}
    assert reporters["zhang@example.cn"]["reporter"] == "张三"
    assert reporters["zhang@example.cn"]["submitted"] == 4  # the unassigned one is nobody's
    assert reporters["li@example.cn"]["reporter"] == "li@example.cn"  # registered, no name
    assert reporters["wang@example.cn"]["unit"] == "办公室"  # unregistered: its items' unit
    assert [(r["sender"], r["rank"]) for r in data["reporters"]] == [
        ("zhang@example.cn", 1), ("wang@example.cn", 2), ("li@example.cn", 3)]
    assert set(data["reporters"][0]) == {
        "reporter", "sender", "unit", "submitted", "counted", "duplicates", "suspected",
        "rejected", "adopted", "adoptions", "score", "rank"}
    assert report.best_units == ("执法大队", "办公室")  # nobody else did anything
    assert report.best_reporters[0] == "张三"
