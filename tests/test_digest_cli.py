"""`mailroom report digest [--format text|html] [--send]` as typed: printing marks
nothing; `--send` without [smtp] writes one .eml, a second `--send` sends nothing and says
so; a mail recorded after the first digest is in the second only; and through a real
SMTP server (aiosmtpd) the digest arrives as a new auto-generated mail to the office."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest

from support.cli import maildir_config, restore_logging, run  # noqa: F401  (restore_logging: autouse)
from support.items import CORRECTED_TEXT, CORRECTED_TITLE, JOINT_FIRST, OTHER
from support.mail import deliver, make_mail
from support.smtp import SmtpServer

CST = timezone(timedelta(hours=8))
UNITS = """
[office]
addresses = ["office@example.cn", "head@example.cn"]
name = "永宁县自然资源局"
[[units]]
name = "国土空间规划股"
officers = ["ghg@example.cn"]
[[units]]
name = "办公室"
officers = ["bgs@example.cn"]
"""


def deliver_to(config: Path, subject: str, body: str, day: int, sender: str) -> None:
    deliver(config.parent / "inbox", make_mail(subject, sender=sender, body=body),
            datetime(2019, 5, day, 9, tzinfo=CST))


def plain(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_print_send_twice_and_a_later_mail(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    config = maildir_config(tmp_path, UNITS)
    deliver_to(config, f"国土空间规划股+{JOINT_FIRST.title}", JOINT_FIRST.text(), 14,
               "ghg@example.cn")
    deliver_to(config, f"办公室+{CORRECTED_TITLE}", CORRECTED_TEXT, 15, "bgs@example.cn")
    assert run(capsys, "--config", str(config), "poll", "--once")[0] == 0
    sent = tmp_path / "var" / "sent"

    code, text, err = run(capsys, "--config", str(config), "report", "digest")
    assert (code, err) == (0, "")
    assert "二、本期统计" in text and "确认重复 201905-0002 201905-0001" in text
    code, html, _ = run(capsys, "--config", str(config), "report", "digest", "--format", "html")
    assert code == 0 and html.startswith("<!DOCTYPE html>") and "201905-0002" in html
    before = set(sent.glob("mailroom.digest.*.eml"))
    assert before == set()  # printing sends and marks nothing

    code, out, _ = run(capsys, "--config", str(config), "report", "digest", "--send")
    assert code == 0 and "for 2 recipients (office@example.cn, head@example.cn)" in out
    assert "outbox: 1 sent" in out
    [first] = sent.glob("mailroom.digest.*.eml")
    message = email.message_from_bytes(first.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert "确认重复 201905-0002 201905-0001" in plain(message)
    assert str(message["Subject"]).strip().startswith("信息报送日报 ")

    code, out, _ = run(capsys, "--config", str(config), "report", "digest", "--send")
    assert code == 0 and out.startswith("nothing new since the last digest (")
    assert out.rstrip().endswith(": nothing sent")
    assert list(sent.glob("mailroom.digest.*.eml")) == [first]
    code, out, _ = run(capsys, "--config", str(config), "report", "digest")
    assert code == 0 and out.startswith("nothing new since the last digest")

    deliver_to(config, f"国土空间规划股+{OTHER.title}", OTHER.text(), 16, "ghg@example.cn")
    assert run(capsys, "--config", str(config), "poll", "--once")[0] == 0
    code, out, _ = run(capsys, "--config", str(config), "report", "digest", "--send")
    assert code == 0 and "queued 信息报送日报" in out
    [second] = set(sent.glob("mailroom.digest.*.eml")) - {first}
    text = plain(email.message_from_bytes(second.read_bytes(),  # type: ignore[arg-type]
                                          policy=email.policy.default))
    assert "201905-0003" in text and "201905-0002" not in text and "新收信息 1 件" in text


def test_the_digest_arrives_over_smtp(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      smtp_server: SmtpServer) -> None:
    section = smtp_server.section()
    smtp = "\n[smtp]\n" + "".join(
        f"{key} = {value!r}\n".replace("'", '"') if isinstance(value, str)
        else f"{key} = {value}\n" for key, value in section.items())
    config = maildir_config(tmp_path, UNITS + smtp)
    deliver_to(config, f"国土空间规划股+{JOINT_FIRST.title}", JOINT_FIRST.text(), 14,
               "ghg@example.cn")
    assert run(capsys, "--config", str(config), "poll", "--once")[0] == 0
    receipts = len(smtp_server.received)
    code, out, _ = run(capsys, "--config", str(config), "report", "digest", "--send")
    assert code == 0 and "outbox: 1 sent" in out
    [received] = smtp_server.received[receipts:]
    assert set(received.rcpt_tos) == {"office@example.cn", "head@example.cn"}
    message = received.message
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Mailroom"] == "digest"
    assert str(message["Message-ID"]).startswith("<mailroom.digest.")
    assert message["In-Reply-To"] is None and message["References"] is None  # a new thread
    assert message["X-Auto-Response-Suppress"] == "All"
    assert str(message["From"]).endswith(f"<{section['sender']}>")
    assert message.get_body(("html",)) is not None
    assert "201905-0001" in plain(message) and "永宁县自然资源局办公室" in plain(message)
    assert section["password"] not in out
