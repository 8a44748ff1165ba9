"""Never a loop: the reply rules (pure) and, through the pipeline, no receipt for any
mail that must not get one, with the reason recorded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mailroom.app import App
from mailroom.daemon import poll_once
from mailroom.parsing.letter import parse_letter
from mailroom.rules.replies import ReplyContext, why_not_reply
from mailroom.store.models import Message, OutgoingMail
from support.mail import deliver, make_mail
from support.smtp import SmtpServer

CST = timezone(timedelta(hours=8))
AT = datetime(2019, 5, 8, 9, 30, tzinfo=CST)
OWN = "office@example.cn"


def context(**overrides: Any) -> ReplyContext:
    values: dict[str, Any] = {"own_addresses": frozenset({OWN}), "now": AT, "sent_in_hour": 0,
                              "max_per_hour": 10, "skip_older_than_hours": 0}
    values.update(overrides)
    return ReplyContext(**values)


def letter(sender: str = "zfdd@example.cn", headers: dict[str, str] | None = None,
           received_at: datetime = AT, raw_prefix: bytes = b"") -> Any:
    raw = raw_prefix + make_mail("执法大队+一条信息", sender=sender, headers=headers)
    return parse_letter(raw, received_at)


NO_REPLY_LETTERS = {
    "null return path": dict(raw_prefix=b"Return-Path: <>\n"),
    "own address": dict(sender=OWN),
    "MAILER-DAEMON": dict(sender="MAILER-DAEMON@mx.126.com"),
    "postmaster": dict(sender="postmaster@example.cn"),
    "noreply": dict(sender="noreply@example.cn"),
    "no-reply": dict(sender="no-reply@gov.cn"),
    "donotreply": dict(sender="donotreply@gov.cn"),
    "List-Id": dict(headers={"List-Id": "<news.example.cn>"}),
    "List-Unsubscribe": dict(headers={"List-Unsubscribe": "<mailto:u@example.cn>"}),
    "Precedence bulk": dict(headers={"Precedence": "bulk"}),
    "Precedence junk": dict(headers={"Precedence": "junk"}),
    "Precedence list": dict(headers={"Precedence": "list"}),
    "Auto-Submitted auto-replied": dict(headers={"Auto-Submitted": "auto-replied"}),
    "Auto-Submitted auto-generated": dict(headers={"Auto-Submitted": "auto-generated"}),
    "Auto-Submitted auto-notified": dict(headers={"Auto-Submitted": "auto-notified; x=1"}),
    "X-Autoreply": dict(headers={"X-Autoreply": "yes"}),
    "Precedence auto_reply": dict(headers={"Precedence": "auto_reply"}),
    "notifications": dict(sender="notifications@example.cn"),
}


@pytest.mark.parametrize("case", NO_REPLY_LETTERS)
def test_rules_refuse_every_no_reply_case(case: str) -> None:
    assert why_not_reply(letter(**NO_REPLY_LETTERS[case]), context()) is not None


def test_rules_allow_an_ordinary_submission_and_auto_submitted_no() -> None:
    assert why_not_reply(letter(), context()) is None
    assert why_not_reply(letter(headers={"Auto-Submitted": "no"}), context()) is None
    typed = letter(headers={"Auto-Submitted": "no (typed by a person)"})
    assert why_not_reply(typed, context()) is None
    assert why_not_reply(letter(sender="noreplyer@example.cn"), context()) is None


def test_rate_cap_and_age_rules() -> None:
    assert why_not_reply(letter(), context(sent_in_hour=9)) is None
    assert "rate cap" in (why_not_reply(letter(), context(sent_in_hour=10)) or "")
    assert "rate cap" in (why_not_reply(letter(), context(max_per_hour=0)) or "")
    old = letter(received_at=AT - timedelta(hours=5))
    assert why_not_reply(old, context()) is None  # 0: off
    assert why_not_reply(old, context(skip_older_than_hours=6)) is None
    assert "skip_older_than_hours" in (why_not_reply(old, context(skip_older_than_hours=4))
                                       or "")


# -- through the pipeline and a real SMTP server ------------------------------------------


def inbox(app: App) -> Path:
    assert app.settings.maildir is not None
    return Path(app.settings.maildir.path)


def smtp_app(make_app: Callable[..., App], server: SmtpServer, clock_at: datetime = AT,
             **sections: Any) -> App:
    return make_app(clock_at=clock_at.astimezone(UTC) + timedelta(minutes=1),
                    smtp=server.section(), **sections)


def recorded(app: App) -> list[tuple[str, dict[str, Any]]]:
    with app.sessions() as session:
        return [(m.kind, m.detail) for m in session.scalars(select(Message).order_by(Message.id))]


@pytest.mark.parametrize("case", NO_REPLY_LETTERS)
def test_no_receipt_for_no_reply_mail_and_the_reason_is_recorded(
    make_app: Callable[..., App], smtp_server: SmtpServer, case: str
) -> None:
    app = smtp_app(make_app, smtp_server)
    options = dict(NO_REPLY_LETTERS[case])
    prefix = options.pop("raw_prefix", b"")
    raw = prefix + make_mail("执法大队+一条信息", **options)  # type: ignore[arg-type]
    deliver(inbox(app), raw, AT)
    poll_once(app)
    assert smtp_server.received == []
    [(kind, detail)] = recorded(app)
    if kind == "submission":  # the classifier let it through; the reply rules stopped it
        assert detail["receipt"].startswith("none: ")
    else:
        assert kind in ("own", "bounce", "auto-reply", "list")
    with app.sessions() as session:
        assert session.scalars(select(OutgoingMail)).all() == []


def test_rate_cap_per_sender_per_hour_of_arrival(
    make_app: Callable[..., App], smtp_server: SmtpServer
) -> None:
    app = smtp_app(make_app, smtp_server, clock_at=AT + timedelta(hours=3),
                   receipts={"max_per_sender_per_hour": 2})
    for minute in (0, 10, 20):
        raw = make_mail(f"执法大队+第{minute}分的信息")
        deliver(inbox(app), raw, AT + timedelta(minutes=minute))
    deliver(inbox(app), make_mail("国土空间规划股+别人的信息", sender="ghg@example.cn"),
            AT + timedelta(minutes=25))
    deliver(inbox(app), make_mail("执法大队+两小时后的信息"), AT + timedelta(hours=2))
    poll_once(app)
    assert [r.rcpt_tos for r in smtp_server.received] == [
        ("zfdd@example.cn",), ("zfdd@example.cn",), ("ghg@example.cn",), ("zfdd@example.cn",)]
    third = recorded(app)[2][1]
    assert third["receipt"].startswith("none: rate cap")


def test_no_receipts_for_a_backlog_older_than_the_cutoff(
    make_app: Callable[..., App], smtp_server: SmtpServer
) -> None:
    app = smtp_app(make_app, smtp_server, clock_at=AT + timedelta(days=3),
                   receipts={"skip_older_than_hours": 24})
    deliver(inbox(app), make_mail("执法大队+三天前的信息"), AT)
    deliver(inbox(app), make_mail("执法大队+刚到的信息"), AT + timedelta(days=3))
    poll_once(app)
    [received] = smtp_server.received
    assert "刚到的信息" in received.message["Subject"]
    assert "skip_older_than_hours" in recorded(app)[0][1]["receipt"]


def test_our_own_receipt_coming_back_is_kind_own(
    make_app: Callable[..., App], smtp_server: SmtpServer
) -> None:
    app = smtp_app(make_app, smtp_server)
    deliver(inbox(app), make_mail("执法大队+一条信息"), AT)
    poll_once(app)
    [receipt] = smtp_server.received
    deliver(inbox(app), receipt.raw, AT + timedelta(minutes=2))  # e.g. a reporter bounces it
    poll_once(app)
    assert [kind for kind, _ in recorded(app)] == ["submission", "own"]
    assert len(smtp_server.received) == 1
