"""The outbox against a real SMTP server (aiosmtpd on 127.0.0.1): receipts, threading,
TLS and AUTH, the failure modes, retries, the .eml fallback."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mailroom.app import App
from mailroom.clock import FixedClock
from mailroom.daemon import poll_once
from mailroom.outbox.sender import Throttle, drain_lock
from mailroom.store.models import Message, OutgoingMail
from support.mail import deliver, make_mail
from support.smtp import SmtpServer

CST = timezone(timedelta(hours=8))
AT = datetime(2019, 5, 8, 9, 30, tzinfo=CST)
TITLE = "开展违法用地专项整治行动"
GOOD_PARTS = [(f"自然资源综合执法大队+{TITLE}.docx", b"PK\x03\x04"), ("签字稿.pdf", b"%PDF-1.4")]


def inbox(app: App) -> Path:
    assert app.settings.maildir is not None
    return Path(app.settings.maildir.path)


def smtp_app(make_app: Callable[..., App], server: SmtpServer, **sections: Any) -> App:
    return make_app(clock_at=AT.astimezone(UTC) + timedelta(minutes=1),
                    smtp=server.section(**sections.pop("smtp", {})), **sections)


def rows(app: App) -> list[OutgoingMail]:
    with app.sessions() as session:
        return list(session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)))


def details(app: App) -> list[dict[str, Any]]:
    with app.sessions() as session:
        return [m.detail for m in session.scalars(select(Message).order_by(Message.id))]


def clock(app: App) -> FixedClock:
    assert isinstance(app.clock, FixedClock)
    return app.clock


def test_one_threaded_auto_submitted_receipt_per_submission(
    make_app: Callable[..., App], smtp_server: SmtpServer
) -> None:
    app = smtp_app(make_app, smtp_server)
    raw = make_mail(f"执法大队+{TITLE}", attachments=GOOD_PARTS,
                    headers={"References": "<older@example.cn>"})
    deliver(inbox(app), raw, AT)
    report = poll_once(app)
    assert report.outbox is not None and report.outbox.sent == 1
    [received] = smtp_server.received
    assert received.mail_from == "office@example.cn"
    assert received.rcpt_tos == ("zfdd@example.cn",)
    message = received.message
    original_id = raw.split(b"Message-ID: ")[1].split(b"\n")[0].strip().decode()
    assert message["In-Reply-To"] == original_id
    assert message["References"].split() == ["<older@example.cn>", original_id]
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Mailroom"] == "receipt"
    assert message["To"] == "zfdd@example.cn"
    assert "201905-0001" in message["Subject"] and TITLE in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert "编号：201905-0001" in text and "单位：自然资源综合执法大队" in text
    assert "状态：已计数" in text
    assert "本月（2019-05）自然资源综合执法大队已计数 1 篇，月度任务 2 篇，还差 1 篇" in text
    assert "提示" not in text and "尚未登记" not in text
    html = message.get_body(("html",)).get_content()
    assert TITLE in html and "201905-0001" in html
    [row] = rows(app)
    assert row.status == "sent" and row.sent_at is not None
    assert message["Message-ID"] == f"<{row.message_id}>"
    assert details(app)[0]["receipt"] == row.message_id
    # a second poll sends nothing more
    assert poll_once(app).outbox.sent == 0  # type: ignore[union-attr]
    assert len(smtp_server.received) == 1


def test_receipt_says_quota_met_and_lists_warnings(
    make_app: Callable[..., App], smtp_server: SmtpServer
) -> None:
    app = smtp_app(make_app, smtp_server)
    deliver(inbox(app), make_mail("执法大队+第一条信息"), AT)
    deliver(inbox(app), make_mail("执法大队+第二条信息"), AT + timedelta(minutes=5))
    poll_once(app)
    first, second = (m.get_body(("plain",)).get_content() for m in smtp_server.messages())
    assert "还差 1 篇" in first
    assert "已计数 2 篇，月度任务 2 篇，已完成" in second
    for warning in ("未附电子版", "未附分管领导签字的扫描件", "未见以“单位+信息标题”命名的附件"):
        assert warning in second
    subjects = [m["Subject"] for m in smtp_server.messages()]
    assert len(set(subjects)) == 2  # NetEase rejects runs of identical subjects


def test_unknown_sender_and_unassigned_receipt_say_how_to_fix(
    make_app: Callable[..., App], smtp_server: SmtpServer
) -> None:
    app = smtp_app(make_app, smtp_server)
    deliver(inbox(app), make_mail("关于春季造林的信息", sender="someone@163.com"), AT)
    poll_once(app)
    [message] = smtp_server.messages()
    text = message.get_body(("plain",)).get_content()
    assert "未识别单位，暂不计入任何单位" in text
    assert "请以“单位+信息标题”为邮件主题重新报送" in text
    assert "您的邮箱尚未登记为信息员" in text and "+信息员张三" in text


def test_implicit_tls_server(make_app: Callable[..., App], smtp_tls_server: SmtpServer) -> None:
    app = smtp_app(make_app, smtp_tls_server)
    deliver(inbox(app), make_mail(f"执法大队+{TITLE}"), AT)
    poll_once(app)
    assert len(smtp_tls_server.received) == 1


def test_unverified_certificate_is_refused_and_the_receipt_waits(
    make_app: Callable[..., App], smtp_server: SmtpServer
) -> None:
    app = smtp_app(make_app, smtp_server, smtp={"ca_file": ""})  # the test CA is not trusted
    deliver(inbox(app), make_mail(f"执法大队+{TITLE}"), AT)
    report = poll_once(app)
    assert report.outbox is not None and report.outbox.deferred == 1
    assert smtp_server.received == []
    [row] = rows(app)
    assert row.status == "pending" and "TLS" in row.last_error
    assert row.next_attempt_at > clock(app).now()


def test_wrong_password_is_not_logged_and_the_receipt_waits(
    make_app: Callable[..., App], smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    app = smtp_app(make_app, smtp_server, smtp={"password": "wrong-pw-5521"})
    deliver(inbox(app), make_mail(f"执法大队+{TITLE}"), AT)
    poll_once(app)
    [row] = rows(app)
    assert row.status == "pending" and "refused the login" in row.last_error
    assert "wrong-pw-5521" not in caplog.text + row.last_error


@pytest.mark.parametrize("answer", ["421", "drop"])
def test_temporary_failure_retries_with_backoff_then_sends(
    make_app: Callable[..., App], smtp_server: SmtpServer, answer: str
) -> None:
    app = smtp_app(make_app, smtp_server)
    deliver(inbox(app), make_mail(f"执法大队+{TITLE}"), AT)
    smtp_server.answer_next(answer)
    report = poll_once(app)
    assert report.outbox is not None and report.outbox.deferred == 1
    assert smtp_server.received == []
    [row] = rows(app)
    assert row.status == "pending" and row.attempts == 1
    assert row.next_attempt_at == clock(app).now() + timedelta(seconds=60)
    assert app.outbox().drain().sent == 0  # not due yet
    clock(app).advance(timedelta(seconds=61))
    assert app.outbox().drain().sent == 1
    [received] = smtp_server.received
    [row] = rows(app)
    assert row.status == "sent" and row.attempts == 2
    assert received.message["Message-ID"] == f"<{row.message_id}>"
    if answer == "drop":  # the server may have kept the dropped copy: it is the same mail
        [dropped] = smtp_server.dropped
        assert dropped == received.raw


def test_permanent_failure_is_recorded_and_not_retried(
    make_app: Callable[..., App], smtp_server: SmtpServer
) -> None:
    app = smtp_app(make_app, smtp_server)
    deliver(inbox(app), make_mail(f"执法大队+{TITLE}"), AT)
    deliver(inbox(app), make_mail("执法大队+另一条信息"), AT + timedelta(minutes=1))
    smtp_server.answer_next("550")
    report = poll_once(app)
    assert report.outbox is not None
    assert (report.outbox.failed, report.outbox.sent) == (1, 1)  # the next one still goes
    failed, sent = rows(app)
    assert failed.status == "failed" and failed.last_error.startswith("server answered 550")
    assert sent.status == "sent"
    clock(app).advance(timedelta(days=1))
    assert app.outbox().drain().sent == 0
    assert len(smtp_server.received) == 1


def test_server_down_defers_everything_then_gives_up_after_two_days(
    make_app: Callable[..., App], smtp_server: SmtpServer
) -> None:
    app = smtp_app(make_app, smtp_server)
    smtp_server.stop()
    for index in range(3):
        deliver(inbox(app), make_mail(f"执法大队+第{index}条"), AT + timedelta(minutes=index))
    report = poll_once(app)
    assert report.outbox is not None and report.outbox.deferred == 3
    assert {row.status for row in rows(app)} == {"pending"}
    assert all("cannot connect" in row.last_error for row in rows(app))
    clock(app).advance(timedelta(days=2, minutes=1))
    assert app.outbox().drain().failed == 3
    assert {row.status for row in rows(app)} == {"failed"}


def test_throttle_waits_when_the_minute_is_full() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    throttle = Throttle(3, sleep, lambda: now[0])
    for _ in range(3):
        throttle.wait()
        now[0] += 1
    assert slept == []
    throttle.wait()
    assert slept == [57.0]
    now[0] += 70
    throttle.wait()
    assert slept == [57.0]


def test_sender_honours_max_per_minute(
    make_app: Callable[..., App], smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = smtp_app(make_app, smtp_server, smtp={"max_per_minute": 2})
    for index in range(3):
        deliver(inbox(app), make_mail(f"执法大队+第{index}条"), AT + timedelta(minutes=index))
    app.pipeline().run_pass(app.open_source())
    slept: list[float] = []
    sender = app.outbox()
    sender.throttle.sleep = slept.append
    assert sender.drain().sent == 3
    assert len(slept) == 1 and 59 <= slept[0] <= 60


def test_without_smtp_mail_is_written_as_eml_named_by_message_id(
    make_app: Callable[..., App], tmp_path: Path
) -> None:
    app = make_app(clock_at=AT.astimezone(UTC))
    deliver(inbox(app), make_mail(f"执法大队+{TITLE}"), AT)
    poll_once(app)
    [row] = rows(app)
    [written] = (tmp_path / "sent").iterdir()
    assert written.name == f"{row.message_id}.eml"
    assert written.read_bytes() == row.raw
    with app.sessions.begin() as session:  # a crash before "sent" was recorded: resent
        session.get_one(OutgoingMail, row.id).status = "pending"
    assert app.outbox().drain().sent == 1
    assert [p.name for p in (tmp_path / "sent").iterdir()] == [written.name]
    assert written.read_bytes() == row.raw


def test_a_second_drain_beside_a_running_one_sends_nothing(
    make_app: Callable[..., App], tmp_path: Path
) -> None:
    app = make_app(clock_at=AT.astimezone(UTC))
    deliver(inbox(app), make_mail(f"执法大队+{TITLE}"), AT)
    app.pipeline().run_pass(app.open_source())
    lock = Path(app.settings.storage.path) / ".outbox.lock"
    with drain_lock(lock) as held:  # as the daemon holds it while it sends
        assert held
        report = app.outbox().drain()
        assert report.busy and report.sent == 0
        assert "another mailroom process" in report.summary()
        assert [row.status for row in rows(app)] == ["pending"]
    assert app.outbox().drain().sent == 1
    assert len(list((tmp_path / "sent").iterdir())) == 1
