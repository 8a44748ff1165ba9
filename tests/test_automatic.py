"""Signs that a mail was sent by a program (rules/automatic.py): pure, on built Letters."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from mailroom.parsing.letter import Letter
from mailroom.rules import automatic

BASE = Letter(
    raw_sha256="0" * 64, message_id="a@b", sender="zfdd@example.cn", sender_name="",
    recipients=("ynlyj452@126.com",), subject="执法大队+开展专项整治", date=None,
    received_at=datetime(2019, 5, 8, tzinfo=UTC), body="正文", attachments=(),
    headers={}, content_type="text/plain", return_path=None,
)


def with_headers(**headers: str) -> Letter:
    fields = {name.replace("_", "-").lower(): (value,) for name, value in headers.items()}
    return replace(BASE, headers=fields)


@pytest.mark.parametrize(
    ("address", "daemon", "no_reply"),
    [
        ("MAILER-DAEMON@mx.126.com", True, True),
        ("mailer-daemon", True, True),  # as some MTAs write it, without a domain
        ("postmaster@example.cn", True, True),
        ("mail-daemon@example.cn", True, True),
        ("postmaster+tag@example.cn", False, True),
        ("noreply@example.cn", False, True),
        ("no-reply@gov.cn", False, True),
        ("no_reply@gov.cn", False, True),
        ("donotreply@gov.cn", False, True),
        ("do-not-reply@gov.cn", False, True),
        ("bounces+12345-zfdd=example.cn@lists.example.cn", False, True),
        ("bounce@example.cn", False, True),
        ("notifications@github.com", False, True),
        ("notification-noreply@example.cn", False, True),
        ("noreply-alerts@example.cn", False, True),
        ("zfdd@example.cn", False, False),
        ("noreplyer@example.cn", False, False),
        ("postmasters@example.cn", False, False),
        ("daemon@example.cn", False, False),
        ("", False, False),
    ],
)
def test_addresses(address: str, daemon: bool, no_reply: bool) -> None:
    assert (automatic.daemon_address(address) is not None) is daemon
    assert (automatic.no_reply_address(address) is not None) is no_reply


def test_address_reasons() -> None:
    assert automatic.daemon_address("postmaster@x.cn") == "sent by postmaster@x.cn"
    assert automatic.no_reply_address("noreply@x.cn") == "no-reply address noreply@x.cn"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("auto-replied", "Auto-Submitted: auto-replied"),
        ("auto-generated", "Auto-Submitted: auto-generated"),
        ("Auto-Generated (failure)", "Auto-Submitted: auto-generated (failure)"),
        ("auto-notified; owner-email=a@b.cn", "Auto-Submitted: auto-notified; owner-email=a@b.cn"),
        ("notify-extension", "Auto-Submitted: notify-extension"),  # a keyword, not "no"
        ("no", None),
        ("No", None),
        (" no ; x=1", None),  # parameters ignored (RFC 3834 §5)
        ("no (typed by a person)", None),  # a comment is not the keyword
        ("", None),
    ],
)
def test_auto_submitted(value: str, expected: str | None) -> None:
    letter = with_headers(Auto_Submitted=value) if value else BASE
    assert automatic.auto_submitted(letter) == expected


def test_auto_reply_headers() -> None:
    assert automatic.auto_reply_headers(with_headers(X_Autoreply="yes")) == "has X-Autoreply"
    assert automatic.auto_reply_headers(with_headers(X_Autorespond="x")) == "has X-Autorespond"
    assert automatic.auto_reply_headers(with_headers(Precedence=" Auto_Reply")) == (
        "Precedence: auto_reply")
    assert automatic.auto_reply_headers(with_headers(Precedence="bulk")) is None
    assert automatic.auto_reply_headers(BASE) is None


@pytest.mark.parametrize("value", ["bulk", "junk", "list", "BULK "])
def test_bulk_precedence(value: str) -> None:
    assert automatic.bulk_precedence(with_headers(Precedence=value)) == (
        f"Precedence: {value.strip().lower()}")


def test_not_bulk() -> None:
    for value in ("auto_reply", "first-class", "urgent"):
        assert automatic.bulk_precedence(with_headers(Precedence=value)) is None
    assert automatic.bulk_precedence(BASE) is None


def test_list_headers() -> None:
    letter = with_headers(List_Unsubscribe="<mailto:u@x.cn>", List_Id="<news.x.cn>")
    assert automatic.list_headers(letter) == "list headers: list-id, list-unsubscribe"
    assert automatic.list_headers(with_headers(List_Unsubscribe_Post="List-Unsubscribe=One-Click"))
    assert automatic.list_headers(with_headers(Listed="no")) is None
    assert automatic.list_headers(BASE) is None


def test_null_return_path() -> None:
    assert automatic.null_return_path(replace(BASE, return_path="")) == "null return path <>"
    assert automatic.null_return_path(replace(BASE, return_path="zfdd@example.cn")) is None
    assert automatic.null_return_path(BASE) is None  # no Return-Path header at all
