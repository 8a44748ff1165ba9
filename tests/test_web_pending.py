"""What the console's /decide, /requests, /roster and /outbox pages read (web/pending.py,
web/lists.py), on a real database: mail delivered to the Maildir and polled, then the
values checked — what is pending now, not what is new since a digest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, update

from mailroom.app import App
from mailroom.daemon import poll_once
from mailroom.decisions import Actor, Decisions
from mailroom.dedupe.engine import Dedupe
from mailroom.requests import service
from mailroom.store.models import Message, OutgoingMail, ProcessingFailure, Submission
from mailroom.vocabulary import DecisionSource, Kind
from mailroom.web import lists, pending
from support.items import CORRECTED_TEXT, CORRECTED_TITLE, JOINT_FIRST, OTHER
from support.mail import deliver, make_mail

CST = timezone(timedelta(hours=8))
NOW = datetime(2019, 5, 20, 9, 0, tzinfo=UTC)


def send(app: App, raw: bytes, day: int, hour: int = 9) -> None:
    assert app.settings.maildir is not None
    deliver(Path(app.settings.maildir.path), raw, datetime(2019, 5, day, hour, tzinfo=CST))


@pytest.fixture
def app(make_app: Callable[..., App]) -> App:
    """0001 counted, 0002 suspected of it, 0003 unassigned from an unknown sender, a
    failed mail; 0004 from a registered officer."""
    app = make_app(clock_at=NOW)
    send(app, make_mail(f"国土空间规划股+{JOINT_FIRST.title}", sender="ghg@example.cn",
                        body=JOINT_FIRST.text()), 14)
    send(app, make_mail(f"办公室+{CORRECTED_TITLE}", sender="bgs@example.cn",
                        body=CORRECTED_TEXT), 15)
    send(app, make_mail(f"{OTHER.title}", sender='"张<b>三</b>" <nobody@example.cn>',
                        body=OTHER.text()), 16)
    send(app, b"\x89PNG\r\n\x1a\n not a mail at all", 17)
    send(app, make_mail("执法大队+某村开展土地卫片执法检查", sender="zfdd@example.cn"), 18)
    poll_once(app)
    return app


def read(app: App) -> pending.Pending:
    with app.sessions() as session:
        return pending.read_pending(session, app.settings, app.files, app.clock.now())


def test_what_waits_for_the_office(app: App) -> None:
    p = read(app)
    [pair] = p.pairs.entries
    assert (pair.item.number, pair.first.number) == ("201905-0002", "201905-0001")
    assert pair.item.unit == "办公室" and pair.first.unit == "国土空间规划股"
    assert pair.score is not None and 75 <= pair.score < 90
    assert any(segment.marked for segment in pair.item_excerpt)  # the passages in both
    assert any(segment.marked for segment in pair.first_excerpt)
    assert [(e.number, e.sender) for e in p.unassigned.entries] == [
        ("201905-0003", "nobody@example.cn")]
    [sender] = p.unknown_senders.entries
    assert (sender.address, sender.name, sender.count) == ("nobody@example.cn", "张<b>三</b>", 1)
    assert [e.number for e in sender.items] == ["201905-0003"]
    [failed] = p.failed.entries
    assert failed.reason.startswith("not a mail message")
    assert p.flagged.entries == () and p.retrying.entries == ()
    assert p.total == 4


def test_a_decision_takes_it_off_the_page(app: App) -> None:
    decisions = Decisions(app.settings, Dedupe(app.settings.dedupe))
    actor = Actor("刘婧", DecisionSource.WEB, NOW)
    with app.sessions.begin() as session:
        decisions.review(session, "201905-0002", duplicate=False, of=None, actor=actor)
        decisions.assign(session, "201905-0003", "耕地保护股", actor)
        session.execute(update(Message).where(Message.kind == Kind.FAILED).values(
            received_at=NOW - timedelta(days=pending.RECENT_DAYS + 1)))
    p = read(app)
    assert p.pairs.entries == () and p.unassigned.entries == () and p.failed.entries == ()
    assert [s.address for s in p.unknown_senders.entries] == ["nobody@example.cn"]
    with app.sessions.begin() as session:
        from mailroom import officers
        officers.add_officer(session, app.settings, "nobody@example.cn", "耕地保护股", "张三",
                             NOW)
    assert read(app).total == 0


def test_authentication_flags_and_mails_retried(app: App) -> None:
    with app.sessions.begin() as session:  # what a forged sender's item looks like (R2)
        item = session.scalars(select(Submission).where(
            Submission.number == "201905-0004")).one()
        item.status, item.warnings = "rejected", ["sender_authentication_failed"]
        item.message.detail = {"flag": "sender_authentication_failed: dmarc=fail "
                                       "header.from=example.cn"}
        session.add(ProcessingFailure(  # a mail whose processing failed, tried again later
            mailbox="INBOX", uidvalidity=7, uid="42", raw_sha256="ab" * 32, attempts=2,
            last_error="OperationalError: database is locked", first_at=NOW, last_at=NOW))
        session.add(ProcessingFailure(  # the failed mail, recorded after its attempts
            mailbox="INBOX", uidvalidity=7, uid="43", attempts=3, last_error="x",
            raw_sha256=session.scalars(select(Message.raw_sha256).where(
                Message.kind == Kind.FAILED)).one(), first_at=NOW, last_at=NOW))
    p = read(app)
    [flag] = p.flagged.entries
    assert flag.item.number == "201905-0004"
    assert flag.why == "dmarc=fail header.from=example.cn"
    assert p.retrying.entries == (pending.Retrying(
        "INBOX / 42", 2, "OperationalError: database is locked", "2019-05-20 17:00"),)


def test_a_section_says_how_many_it_left_out(app: App,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pending, "LIMIT", 0)
    monkeypatch.setattr(pending, "PAIRS", 0)
    p = read(app)
    assert (p.pairs.entries, p.pairs.more) == ((), 1)
    assert (p.unassigned.entries, p.unassigned.more) == ((), 1)
    assert (p.unknown_senders.entries, p.unknown_senders.more) == ((), 1)
    assert (p.failed.entries, p.failed.more) == ((), 1)


def test_requests_roster_and_outbox_lists(app: App) -> None:
    actor = Actor("刘婧", DecisionSource.WEB, NOW)
    with app.sessions.begin() as session:
        added = service.add_request(session, app.settings, title="春季森林防火工作开展情况",
                                    units=["执法大队", "耕地保护股"], due=date(2019, 5, 25),
                                    note="800字以内", actor=actor)
        service.add_request(session, app.settings, title="土地执法", units=["办公室"],
                            due=date(2019, 5, 21), note="", actor=actor)
        service.close_request(session, "约稿201905-02", actor)
    with app.sessions() as session:
        views = lists.request_views(session, app.settings.zone, date(2019, 5, 26))
    assert [(v.code, v.open, v.overdue) for v in views] == [
        (added.code, True, True), ("约稿201905-02", False, False)]
    assert views[0].units == ("自然资源综合执法大队", "耕地保护股")
    assert views[0].missing == ("自然资源综合执法大队", "耕地保护股")
    assert (views[0].created_by, views[0].source) == ("刘婧", "web")
    assert views[1].closed_by == "刘婧"

    with app.sessions() as session:
        units = lists.roster_views(session, app.settings)
    by_name = {u.name: u for u in units}
    assert [o.address for o in by_name["自然资源综合执法大队"].officers] == ["zfdd@example.cn"]
    assert by_name["自然资源综合执法大队"].officers[0].in_config
    assert by_name["自然资源综合执法大队"].aliases == ("执法大队", "综合执法大队")
    assert by_name["耕地保护股"].officers == () and by_name["耕地保护股"].quota == 2

    with app.sessions() as session:
        everything = lists.outbox_page(session, app.settings.zone, None, 1, NOW)
        failed = lists.outbox_page(session, app.settings.zone, "failed", 1, NOW)
        total = len(session.scalars(select(OutgoingMail.id)).all())
    assert everything.total == total == sum(everything.counts.values())
    assert everything.rows[0].purpose == "request"  # the newest first
    assert failed.rows == () and failed.total == 0 and failed.pages == 1
