"""The outbox against a real SMTP server (aiosmtpd on 127.0.0.1): receipts, threading,
TLS and AUTH, the failure modes, retries, the .eml fallback."""

from __future__ import annotations

import signal
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mailroom.app import App
from mailroom.clock import FixedClock
from mailroom.daemon import Stopper, poll_once
from mailroom.outbox.sender import Throttle, drain_lock
from mailroom.store.models import Message, OutgoingMail
from support.mail import deliver, make_mail
from support.process import Mailroom, fill_inbox, query, write_config
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


class FakeTime:
    """The throttle's clock and sleep for unit tests: sleeping moves the clock, nobody waits."""

    def __init__(self, clock: FixedClock, stop_after: int | None = None) -> None:
        self.clock = clock
        self.slept: list[float] = []
        self.stop_after = stop_after  # the sleep after this many is cut short by a "signal"

    def sleep(self, seconds: float) -> bool:
        if self.stop_after is not None and len(self.slept) >= self.stop_after:
            return True
        self.slept.append(round(seconds, 3))
        self.clock.advance(timedelta(seconds=seconds))
        return False


class FakeStopper(Stopper):
    """poll_once's stopper (never signalled here) with the fake time's sleep."""

    def __init__(self, fake: FakeTime) -> None:
        super().__init__()
        self.fake = fake

    def sleep(self, seconds: float) -> bool:
        return self.fake.sleep(seconds)


def test_throttle_waits_when_the_minute_is_full() -> None:
    fake = FakeTime(FixedClock(AT))
    throttle = Throttle(3, [], fake.clock.now, fake.sleep)
    for _ in range(3):
        assert throttle.wait() == "send"
        throttle.sent(fake.clock.now())
        fake.clock.advance(timedelta(seconds=1))
    assert fake.slept == []
    assert throttle.wait() == "send"  # after the first send of the minute has aged out
    assert fake.slept == [57.0]
    throttle.sent(fake.clock.now())
    fake.clock.advance(timedelta(seconds=70))
    assert throttle.wait() == "send"
    assert fake.slept == [57.0]


def test_throttle_counts_the_sends_of_earlier_runs_and_waits_only_as_allowed() -> None:
    fake = FakeTime(FixedClock(AT))
    earlier = [AT - timedelta(seconds=s) for s in (50, 40, 30)]  # another run's sends
    assert Throttle(3, earlier, fake.clock.now, fake.sleep).pause() == 10.0
    assert Throttle(4, earlier, fake.clock.now, fake.sleep).pause() == 0.0
    older = [AT - timedelta(seconds=s) for s in (90, 61, 60)]  # out of the minute
    assert Throttle(1, older, fake.clock.now, fake.sleep).pause() == 0.0
    later = [AT + timedelta(hours=1)]  # "sent" after now: the clock was set back
    assert Throttle(1, later, fake.clock.now, fake.sleep).pause() == 0.0
    bounded = Throttle(3, earlier, fake.clock.now, fake.sleep, max_wait=5)
    assert bounded.wait() == "later" and fake.slept == []  # 10 s needed, 5 allowed
    stopped = FakeTime(FixedClock(AT), stop_after=0)
    assert Throttle(3, earlier, stopped.clock.now, stopped.sleep).wait() == "stopped"


def test_sender_honours_max_per_minute(
    make_app: Callable[..., App], smtp_server: SmtpServer
) -> None:
    app = smtp_app(make_app, smtp_server, smtp={"max_per_minute": 2})
    for index in range(3):
        deliver(inbox(app), make_mail(f"执法大队+第{index}条"), AT + timedelta(minutes=index))
    app.pipeline().run_pass(app.open_source())
    fake = FakeTime(clock(app))
    assert app.outbox(fake.sleep).drain().sent == 3
    assert fake.slept == [60.0]


def test_poll_waits_for_the_throttle_a_minute_at_most_and_says_what_stays_queued(
    make_app: Callable[..., App], smtp_server: SmtpServer
) -> None:
    app = smtp_app(make_app, smtp_server, smtp={"max_per_minute": 2})
    for index in range(7):
        deliver(inbox(app), make_mail(f"执法大队+第{index}条"), AT + timedelta(minutes=index))
    start = clock(app).now()
    fake = FakeTime(clock(app))
    stopper = FakeStopper(fake)
    report = poll_once(app, stopper)
    assert report.outbox is not None
    assert (report.outbox.sent, report.outbox.queued) == (4, 3)
    assert fake.slept == [60.0]  # 2 sent, a minute's wait, 2 more; the next would wait again
    assert report.outbox.summary() == (
        "outbox: 4 sent, 3 still queued (SMTP throttle: max_per_minute = 2), 0 to retry, "
        "0 failed; the daemon or the next poll sends them")
    # a second poll right away counts the sends of the first: it waits before sending
    second = poll_once(app, stopper)
    assert second.outbox is not None and (second.outbox.sent, second.outbox.queued) == (2, 1)
    assert fake.slept == [60.0, 60.0]
    sent_at = [row.sent_at for row in rows(app) if row.sent_at is not None]
    assert [(at - start).total_seconds() for at in sent_at] == [0, 0, 60, 60, 120, 120]
    assert len(smtp_server.received) == 6


def test_a_stop_during_the_throttle_wait_ends_the_drain(
    make_app: Callable[..., App], smtp_server: SmtpServer
) -> None:
    app = smtp_app(make_app, smtp_server, smtp={"max_per_minute": 2})
    for index in range(4):
        deliver(inbox(app), make_mail(f"执法大队+第{index}条"), AT + timedelta(minutes=index))
    app.pipeline().run_pass(app.open_source())
    fake = FakeTime(clock(app), stop_after=0)
    report = app.outbox(fake.sleep).drain()
    assert (report.sent, report.queued, report.stopped) == (2, 2, True)
    assert "2 still queued (stopped)" in report.summary()
    requested = [False]
    sender = app.outbox(FakeTime(clock(app)).sleep, stop=lambda: requested[0])
    requested[0] = True  # asked before each row: nothing more is sent
    assert sender.drain().sent == 0
    assert len(smtp_server.received) == 2


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


def test_poll_once_keeps_the_smtp_throttle_across_runs_end_to_end(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    config = write_config(tmp_path, smtp_server, max_per_minute=2)
    fill_inbox(tmp_path, 2)
    first = Mailroom(config, "poll", "--once")
    assert first.wait(timeout=60) == 0, first.err
    assert "outbox: 2 sent, 0 to retry, 0 failed" in first.out
    fill_inbox(tmp_path, 1, first=2)
    # right after: the minute is full from the first run, so this one waits (about 60 s) …
    second = Mailroom(config, "poll", "--once")
    try:
        assert second.wait_for_log("([smtp] max_per_minute); waiting", timeout=60), second.err
        assert len(smtp_server.received) == 2
        second.signal(signal.SIGTERM)  # … until a signal ends the wait
        assert second.wait(timeout=5) == 0, second.err
    finally:
        second.kill()
    assert "outbox: 0 sent, 1 still queued (stopped)" in second.out
    assert "stopped by a signal" in second.out
    assert len(smtp_server.received) == 2
    # a minute later (as the table says) the next poll sends it at once
    query(tmp_path, "UPDATE outbox SET sent_at = datetime(sent_at, '-60 seconds') "
                    "WHERE status = 'sent'")
    third = Mailroom(config, "poll", "--once")
    assert third.wait(timeout=60) == 0, third.err
    assert "outbox: 1 sent, 0 to retry, 0 failed" in third.out
    assert len(smtp_server.received) == 3
