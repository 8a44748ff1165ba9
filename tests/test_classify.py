from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from mailroom.parsing.letter import Letter
from mailroom.rules.classify import Classification, ClassifyContext, classify, command_word

CONTEXT = ClassifyContext(
    own_addresses=frozenset({"ynlyj452@126.com"}),
    office_addresses=frozenset({"office@example.cn"}),
    is_roster_subject=False,
)

BASE = Letter(
    raw_sha256="0" * 64, message_id="a@b", sender="zfdd@example.cn", sender_name="",
    recipients=("ynlyj452@126.com",), subject="执法大队+开展专项整治", date=None,
    received_at=datetime(2019, 5, 8, tzinfo=UTC), body="正文", attachments=(),
    headers={}, content_type="text/plain", return_path=None,
)


def letter(headers: dict[str, str] | None = None, **fields: object) -> Letter:
    merged = {name.lower(): (value,) for name, value in (headers or {}).items()}
    return replace(BASE, headers=merged, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mail", "kind"),
    [
        (letter(), "submission"),
        (letter({"X-Mailroom": "receipt"}), "own"),
        (letter(message_id="mailroom.abc@126.com", sender="ynlyj452@126.com"), "own"),
        (letter(sender="ynlyj452@126.com"), "submission"),  # the office may mail itself
        (letter(content_type="multipart/report"), "bounce"),
        (letter({"Content-Type": "multipart/report; report-type=delivery-status"}), "bounce"),
        (letter(return_path=""), "bounce"),
        (letter(sender="MAILER-DAEMON@126.com"), "bounce"),
        (letter(sender="postmaster@example.cn"), "bounce"),
        (letter(sender="noreply@example.cn"), "submission"),  # no receipt (replies), not a bounce
        (letter(subject="Undeliverable: 执法大队+开展专项整治"), "bounce"),
        (letter(subject="系统退信"), "bounce"),
        (letter({"Auto-Submitted": "auto-replied"}), "auto-reply"),
        (letter({"Auto-Submitted": "auto-generated"}), "auto-reply"),
        (letter({"Auto-Submitted": "no"}), "submission"),
        (letter({"Auto-Submitted": "no (typed by a person)"}), "submission"),
        (letter({"Auto-Submitted": "auto-notified; owner-email=a@b.cn"}), "auto-reply"),
        (letter({"Auto-Submitted": "notify-extension"}), "auto-reply"),  # any keyword but "no"
        (letter({"X-Autoreply": "yes"}), "auto-reply"),
        (letter({"Precedence": "auto_reply"}), "auto-reply"),
        (letter(subject="自动回复：执法大队+开展专项整治"), "auto-reply"),
        (letter(subject="Automatic reply: 执法大队+开展专项整治"), "auto-reply"),
        (letter(subject="Out of Office: back Monday"), "auto-reply"),
        (letter({"List-Id": "<news.example.cn>"}), "list"),
        (letter({"List-Unsubscribe": "<mailto:x@y>"}), "list"),
        (letter({"Precedence": "bulk"}), "list"),
        (letter({"Precedence": "junk"}), "list"),
        (letter(sender="office@example.cn", subject="采用 201905-0001 县政府网站"), "command"),
        (letter(sender="office@example.cn", subject="撤销采用 201905-0001"), "command"),
        (letter(sender="office@example.cn", subject="【批示】201905-0003 伍局长"), "command"),
        (letter(sender="office@example.cn", subject="办公室+召开信息工作会议"), "submission"),
        (letter(sender="zfdd@example.cn", subject="采用 201905-0001 县政府网站"), "submission"),
        (letter(sender="office@example.cn", subject="Re: 采用 201905-0001 县政府网站"), "command"),
        # the reply confirming a held command mail (README "Office commands by mail")
        (letter(sender="office@example.cn", subject="Re: 确认码 ABCD2345：请确认 1 项命令"),
         "command"),
        (letter(sender="office@example.cn", subject="确认", body="确认码：abcd2345"), "command"),
        (letter({"In-Reply-To": "<mailroom.confirm-request.0a1b@126.com>"},
                sender="office@example.cn", subject="好的"), "command"),
        (letter({"In-Reply-To": "<mailroom.receipt.0a1b@126.com>"},
                sender="office@example.cn", subject="好的"), "submission"),
        (letter(sender="zfdd@example.cn", subject="Re: 确认码 ABCD2345：请确认"), "submission"),
        (letter({"In-Reply-To": "<mailroom.confirm-request.0a1b@126.com>"},
                sender="zfdd@example.cn", subject="好的"), "submission"),
        # a bounce that also auto-submits is a bounce: the order is SPEC's
        (letter({"Auto-Submitted": "auto-replied"}, return_path=""), "bounce"),
        (letter({"X-Mailroom": "receipt", "Auto-Submitted": "auto-replied"}), "own"),
    ],
)
def test_kinds_in_spec_order(mail: Letter, kind: str) -> None:
    assert classify(mail, CONTEXT).kind == kind


def test_roster_and_reason() -> None:
    found = classify(letter(subject="望洪林业站+信息员张三"),
                     replace(CONTEXT, is_roster_subject=True))
    assert found == Classification("roster", "subject names 信息员")
    assert classify(letter(return_path=""), CONTEXT).reason == "null return path <>"


def test_command_word_longest_first() -> None:
    assert command_word("撤销采用 201905-0001") == "撤销采用"
    assert command_word("采用201905-0001") == "采用"
    assert command_word("  确认重复 201905-0002") == "确认重复"
    assert command_word("关于采用的说明") is None
