"""约稿 requests (R14) on a real database, SQLite and PostgreSQL: recorded with a code that is
never reused, mailed to the units' officers and heads, refused when they name what is not
there; the submissions that answer them linked in their own transaction (and their
receipts saying so); the due-date reminder (injected clock); the bulletin's list."""

from __future__ import annotations

import email
import email.policy
import json
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailroom.app import App
from mailroom.daemon import poll_once
from mailroom.decisions import Actor
from mailroom.errors import DecisionError, InvalidInput
from mailroom.outbox import deferred
from mailroom.reports import service as reports
from mailroom.reports.render_docx import render_docx
from mailroom.reports.render_html import render_html
from mailroom.reports.render_json import render_json
from mailroom.reports.render_text import render_text
from mailroom.requests import service
from mailroom.requests.reminding import scheduled_due_reminders
from mailroom.showing import submission_text, submission_view
from mailroom.store.models import OutgoingMail, Request, RequestLink, RequestUnit, Submission
from mailroom.vocabulary import DecisionSource
from support.mail import deliver, make_mail

CST = timezone(timedelta(hours=8))
NOW = datetime(2019, 5, 10, 9, 0, tzinfo=CST)
CLERK = Actor("刘婧", DecisionSource.CLI, NOW)
FIRE = "2019年春季森林防火工作开展情况"
UNITS: list[dict[str, Any]] = [
    {"name": "办公室", "officers": ["bgs@example.cn"]},
    {"name": "自然资源综合执法大队", "aliases": ["执法大队"], "officers": ["zfdd@example.cn"],
     "heads": ["zfdd-head@example.cn"]},
    {"name": "国土空间规划股", "officers": ["ghg@example.cn"]},
    {"name": "耕地保护股"},
    {"name": "望洪林业站", "officers": ["whlyz@example.cn"]},
    {"name": "望远林业站", "heads": ["wylyz-head@example.cn"]},
]


def build(make_app: Callable[..., App], **sections: Any) -> App:
    return make_app(clock_at=NOW, units=UNITS, office={
        "addresses": ["office@example.cn"], "name": "永宁县自然资源局"}, **sections)


@pytest.fixture
def app(make_app: Callable[..., App]) -> App:
    """SQLite; the tests of what PostgreSQL could do differently (codes, links, reminders)
    take `both`."""
    return build(make_app)


@pytest.fixture(params=["sqlite", "postgresql"])
def both(request: pytest.FixtureRequest, make_app: Callable[..., App]) -> App:
    if request.param == "postgresql":
        return build(make_app, database={"url": request.getfixturevalue("postgres_url")})
    return build(make_app)


@pytest.fixture
def session(app: App) -> Iterator[Session]:
    with app.sessions.begin() as opened:
        yield opened


def add(session: Session, app: App, title: str = FIRE, units: tuple[str, ...] = (
        "执法大队", "耕地保护股", "望洪林业站"), due: date = date(2019, 5, 31),
        note: str = "800字以内，附照片2张", actor: Actor = CLERK) -> service.Added:
    return service.add_request(session, app.settings, title=title, units=units, due=due,
                               note=note, actor=actor)


def mails(session: Session, purpose: str) -> list[EmailMessage]:
    rows = session.scalars(select(OutgoingMail).where(OutgoingMail.purpose == purpose)
                           .order_by(OutgoingMail.id))
    return [email.message_from_bytes(row.raw, policy=email.policy.default)  # type: ignore[misc]
            for row in rows]


def plain(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def test_a_request_is_recorded_and_mailed_to_each_unit(app: App, session: Session) -> None:
    added = add(session, app)
    assert added.code == "约稿201905-01"
    assert added.units == ("自然资源综合执法大队", "耕地保护股", "望洪林业站")
    assert added.sent_to == {"自然资源综合执法大队": ("zfdd@example.cn", "zfdd-head@example.cn"),
                             "望洪林业站": ("whlyz@example.cn",)}
    assert added.nobody == ("耕地保护股",)  # recorded all the same
    request = session.scalars(select(Request)).one()
    assert (request.status, request.created_by, request.source, request.due) == \
        ("open", "刘婧", "cli", "2019-05-31")
    sent = mails(session, "request")
    assert [tuple(m["To"].split(", ")) for m in sent] == list(added.sent_to.values())
    ids = {unit: mid for unit, mid in session.execute(
        select(RequestUnit.unit, RequestUnit.message_id))}
    assert ids["耕地保护股"] is None
    assert ids["望洪林业站"] == sent[1]["Message-ID"].strip("<>")
    assert ids["望洪林业站"] == service.mail_id(app.settings, "request", added.code, "望洪林业站")
    body = plain(sent[1])
    for part in ("望洪林业站：", "约稿编号：约稿201905-01", f"《{FIRE}》",
                 "2019年5月31日（星期五）", "800字以内，附照片2张", "约稿201905-01",
                 "直接回复本邮件", "永宁县自然资源局"):
        assert part in body, part
    assert str(sent[1]["Subject"]).strip() == \
        f"约稿通知：《{FIRE}》（约稿201905-01，请于5月31日前报送）"
    assert sent[1]["Auto-Submitted"] == "auto-generated"


def test_codes_count_per_month_and_are_never_reused(both: App) -> None:
    with both.sessions.begin() as session:
        codes_never_reused(both, session)


def codes_never_reused(app: App, session: Session) -> None:
    first = add(session, app)
    second = add(session, app, title="防汛准备工作情况", units=("国土空间规划股",))
    service.close_request(session, "201905-02", CLERK)
    third = add(session, app, title="耕地保护宣传月活动", units=("办公室",))
    june = Actor("刘婧", DecisionSource.CLI, datetime(2019, 6, 1, 0, 30, tzinfo=CST))
    fourth = add(session, app, title="地质灾害防治", units=("办公室",), actor=june,
                 due=date(2019, 6, 30))
    assert [first.code, second.code, third.code, fourth.code] == \
        ["约稿201905-01", "约稿201905-02", "约稿201905-03", "约稿201906-01"]
    with pytest.raises(DecisionError, match="already closed by 刘婧"):
        service.close_request(session, "约稿201905-02", CLERK)
    with pytest.raises(DecisionError) as raised:
        service.close_request(session, "201905-09", CLERK)
    assert raised.value.code == "unknown_request"


@pytest.mark.parametrize(("units", "due", "title", "code", "said"), [
    (("财务股",), date(2019, 5, 31), FIRE, "unknown_unit", "no unit named '财务股'"),
    (("林业站",), date(2019, 5, 31), FIRE, "ambiguous_unit", "望洪林业站、望远林业站"),
    (("执法大队",), date(2019, 5, 9), FIRE, "past_due", "before today (2019-05-10)"),
    (("执法大队",), date(2019, 5, 31), "  ", "missing_title", "needs a title"),
    ((), date(2019, 5, 31), FIRE, "no_units", "name the units"),
])
def test_what_cannot_be_asked_is_refused_and_nothing_written(
        app: App, session: Session, units: tuple[str, ...], due: date, title: str, code: str,
        said: str) -> None:
    with pytest.raises(DecisionError) as raised:
        add(session, app, title=title, units=units, due=due)
    assert raised.value.code == code and said in str(raised.value)
    assert isinstance(raised.value, InvalidInput)  # the CLI's exit 2
    assert session.scalar(select(func.count()).select_from(Request)) == 0
    assert mails(session, "request") == []


def test_units_by_alias_or_a_unique_part_and_the_roster(app: App, session: Session) -> None:
    from mailroom.store import queries

    queries.register_officer(session, address="gd@example.cn", unit="耕地保护股", source="cli",
                             at=NOW, name="王芳")
    added = add(session, app, units=("执法大队", "耕地保护", "望远林业站", "自然资源综合执法大队"))
    assert added.units == ("自然资源综合执法大队", "耕地保护股", "望远林业站")
    assert added.sent_to["耕地保护股"] == ("gd@example.cn",)
    assert added.sent_to["望远林业站"] == ("wylyz-head@example.cn",)
    assert added.nobody == ()


def submit(app: App, subject: str, sender: str, body: str, at: datetime,
           headers: dict[str, str] | None = None) -> None:
    assert app.settings.maildir is not None
    deliver(Path(app.settings.maildir.path),
            make_mail(subject, sender=sender, body=body, headers=headers), at)


def answered_month(app: App) -> str:
    """Three requests, then a month of answers; returns the request mail id to 望洪林业站."""
    with app.sessions.begin() as session:
        add(session, app)  # 01: 执法大队, 耕地保护股, 望洪林业站
        add(session, app, title="防汛准备工作情况", units=("国土空间规划股", "望洪林业站"))
        add(session, app, title="工作动态", units=("办公室",))
        reply_to = service.mail_id(app.settings, "request", "约稿201905-02", "望洪林业站")
    day = NOW + timedelta(days=2)
    submit(app, "执法大队+约稿201905-01 森林防火巡查", "zfdd@example.cn", "已开展巡查。", day)
    submit(app, "Re: 约稿通知", "whlyz@example.cn", "望洪林业站防汛物资已备齐。",
           day + timedelta(minutes=1), {"In-Reply-To": f"<{reply_to}>"})
    submit(app, f"国土空间规划股+关于{FIRE}的报告", "ghg@example.cn", "规划股协助防火。",
           day + timedelta(minutes=2))  # by title; the unit was not asked
    submit(app, "办公室+本周工作动态汇总", "bgs@example.cn", "一周工作。",
           day + timedelta(minutes=3))  # a short title does not link by a part
    submit(app, "望洪林业站+开展春季植树造林", "whlyz@example.cn", "植树。",
           day + timedelta(minutes=4))
    assert poll_once(app).kinds == {"submission": 5}
    return reply_to


def test_answers_are_linked_and_listed_and_receipts_say_so(both: App) -> None:
    app = both
    answered_month(app)
    with app.sessions() as session:
        links = session.execute(select(Request.code, RequestLink.how).join(
            RequestLink, RequestLink.request_id == Request.id).order_by(Request.code)).all()
        assert [tuple(link) for link in links] == [
            ("约稿201905-01", "code"), ("约稿201905-01", "title"), ("约稿201905-02", "reply")]
        listed = service.request_objects(session, service.all_requests(session))
        receipts = {row.recipients[0]: deferred.render(row.render) for row in session.scalars(
            select(OutgoingMail).where(OutgoingMail.purpose == "receipt")) if row.render}
        view = submission_view(session, "201905-0003", app.files, app.settings.zone)
    assert listed == [
        {"code": "约稿201905-01", "title": FIRE,
         "units": ["自然资源综合执法大队", "耕地保护股", "望洪林业站"], "due": "2019-05-31",
         "answered": {"自然资源综合执法大队": ["201905-0001"], "国土空间规划股": ["201905-0003"]},
         "missing": ["耕地保护股", "望洪林业站"], "status": "open"},
        {"code": "约稿201905-02", "title": "防汛准备工作情况",
         "units": ["国土空间规划股", "望洪林业站"], "due": "2019-05-31",
         "answered": {"望洪林业站": ["201905-0002"]}, "missing": ["国土空间规划股"],
         "status": "open"},
        {"code": "约稿201905-03", "title": "工作动态", "units": ["办公室"], "due": "2019-05-31",
         "answered": {}, "missing": ["办公室"], "status": "open"}]
    zfdd = email.message_from_bytes(receipts["zfdd@example.cn"], policy=email.policy.default)
    assert f"本稿已登记为对约稿201905-01《{FIRE}》的回复。" in plain(zfdd)  # type: ignore[arg-type]
    ghg = email.message_from_bytes(receipts["ghg@example.cn"], policy=email.policy.default)
    assert "（该约稿未点名你单位，仍予登记。）" in plain(ghg)  # type: ignore[arg-type]
    assert "约稿" not in plain(email.message_from_bytes(  # type: ignore[arg-type]
        receipts["bgs@example.cn"], policy=email.policy.default))
    assert view["requests"] == [{"code": "约稿201905-01", "title": FIRE, "how": "title",
                                 "asked": False}]
    assert "约稿201905-01  《" in submission_text(view) and "unit not asked" in \
        submission_text(view)


def test_a_closed_or_later_request_links_nothing(app: App) -> None:
    with app.sessions.begin() as session:
        add(session, app)
        service.close_request(session, "约稿201905-01", CLERK)
    submit(app, "执法大队+约稿201905-01 森林防火巡查", "zfdd@example.cn", "巡查。",
           NOW + timedelta(hours=1))
    submit(app, f"执法大队+{FIRE}", "zfdd@example.cn", "早于约稿的信息。",
           NOW - timedelta(hours=1))
    poll_once(app)
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(RequestLink)) == 0


def test_a_mail_dated_before_the_request_answers_it_by_code_not_by_title(app: App) -> None:
    # its INTERNALDATE says earlier (a migrated mailbox, a skewed server), but naming the
    # code shows the unit knew the request; a title alone then is a coincidence
    with app.sessions.begin() as session:
        add(session, app)
    submit(app, "执法大队+约稿201905-01 森林防火巡查", "zfdd@example.cn", "巡查。",
           NOW - timedelta(days=3))
    submit(app, f"耕地保护股+{FIRE}", "gdbh@example.cn", "早于约稿的信息。",
           NOW - timedelta(days=2))
    poll_once(app)
    with app.sessions() as session:
        links = session.execute(select(Submission.number, RequestLink.how).join(
            RequestLink, RequestLink.submission_id == Submission.id)).all()
    assert [tuple(link) for link in links] == [("201905-0001", "code")]


def test_units_that_have_not_answered_are_reminded_two_days_before(both: App) -> None:
    app = both
    answered_month(app)  # due 2019-05-31; 01 misses 耕地保护股 (nobody), 望洪林业站
    clock_now = datetime(2019, 5, 29, 9, 0, tzinfo=CST)
    with app.sessions.begin() as session:
        early = scheduled_due_reminders(session, app.settings, app.clock, clock_now
                                        - timedelta(days=1))
        assert early == "request reminders: no open request due 2019-05-30"
        line = scheduled_due_reminders(session, app.settings, app.clock, clock_now)
    assert line == ("request reminders: 3 queued for 3 request(s) due 2019-05-31; nobody to "
                    "mail: 约稿201905-01 耕地保护股")
    with app.sessions.begin() as session:
        again = scheduled_due_reminders(session, app.settings, app.clock, clock_now)
        assert again.startswith("request reminders: 0 queued") and "3 already queued" in again
        sent = mails(session, "request-reminder")
    assert [m["To"] for m in sent] == ["whlyz@example.cn", "ghg@example.cn", "bgs@example.cn"]
    first = plain(sent[0])
    for part in ("望洪林业站：", "2019年5月10日，我们向你单位约稿", f"《{FIRE}》",
                 "截止时间为2019年5月31日（星期五）", "尚未收到"):
        assert part in first, part
    request_id = service.mail_id(app.settings, "request", "约稿201905-01", "望洪林业站")
    assert sent[0]["In-Reply-To"] == f"<{request_id}>"  # a reply to it names the request


def test_the_bulletin_lists_the_months_requests(both: App, tmp_path: Path) -> None:
    app = both
    answered_month(app)
    with app.sessions.begin() as session:
        add(session, app, title="地质灾害防治", units=("办公室",), due=date(2019, 6, 30),
            actor=Actor("刘婧", DecisionSource.CLI, datetime(2019, 6, 3, tzinfo=CST)))
        add(session, app, title="春耕备耕用地保障", units=("办公室",), due=date(2019, 5, 6),
            actor=Actor("刘婧", DecisionSource.CLI, datetime(2019, 4, 26, tzinfo=CST)))
    with app.sessions() as session:
        may = reports.monthly(session, app.settings, "2019-05", NOW + timedelta(days=30))
        june = reports.monthly(session, app.settings, "2019-06", NOW + timedelta(days=30))
        april = reports.monthly(session, app.settings, "2019-04", NOW + timedelta(days=30))
    data = json.loads(render_json(may))
    # made in April, due in May: in both months' bulletins
    assert [q["code"] for q in data["requests"]] == \
        ["约稿201904-01", "约稿201905-01", "约稿201905-02", "约稿201905-03"]
    assert [q["code"] for q in json.loads(render_json(april))["requests"]] == ["约稿201904-01"]
    data["requests"] = data["requests"][1:]
    assert data["requests"][0]["answered"] == {"自然资源综合执法大队": ["201905-0001"],
                                               "国土空间规划股": ["201905-0003"]}
    assert [q["code"] for q in json.loads(render_json(june))["requests"]] == ["约稿201906-01"]
    text = render_text(may).decode()
    assert "四、约稿情况" in text and "本月涉及约稿4项" in text
    assert ("已报送：自然资源综合执法大队（201905-0001）、"
            "国土空间规划股（201905-0003，非约稿单位）。") in text
    assert "未报送：耕地保护股、望洪林业站。" in text
    html = render_html(may).decode()
    assert "四、约稿情况" in html and "非约稿单位" in html
    docx = render_docx(may)
    (tmp_path / "may.docx").write_bytes(docx)
    (tmp_path / "may.html").write_bytes(render_html(may))
    from docx import Document

    paragraphs = [p.text for p in Document(str(tmp_path / "may.docx")).paragraphs]
    assert "四、约稿情况" in paragraphs and "未报送：办公室。" in paragraphs
