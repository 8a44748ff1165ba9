"""Faults: the backoff policy (pure), then the daemon against real servers going away —
Dovecot stopped and restarted mid-run, a server that accepts and never answers, a refused
login (mailed to the office once per outage), SMTP stopped and restarted."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from select import select as readable
from typing import Any

import psycopg
import pytest
from sqlalchemy import select

from mailroom import outages
from mailroom.app import App
from mailroom.backoff import Backoff, Outage
from mailroom.clock import FixedClock
from mailroom.daemon import RetryPolicy, Stopper, run_forever
from mailroom.store.models import Outage as OutageRow
from mailroom.store.models import OutgoingMail
from support.dovecot import HOST, DovecotServer, ImapAccount
from support.mail import deliver, make_mail
from support.smtp import SmtpServer

# -- the policy --------------------------------------------------------------------------


def test_backoff_doubles_up_to_its_cap_and_starts_over_after_a_success() -> None:
    highest = Backoff(5.0, 60.0, uniform=lambda low, high: high)
    assert [highest.next_delay() for _ in range(6)] == [5, 10, 20, 40, 60, 60]
    highest.reset()
    assert highest.next_delay() == 5
    lowest = Backoff(5.0, 60.0, uniform=lambda low, high: low)
    assert [lowest.next_delay() for _ in range(5)] == [2.5, 5, 10, 20, 30]


def test_backoff_jitter_stays_between_half_and_all_of_the_step() -> None:
    backoff = Backoff(4.0, 100.0)
    for step in (4, 8, 16, 32, 64, 100, 100):
        assert step / 2 <= backoff.next_delay() <= step


def test_an_outage_is_reported_once_when_it_starts_and_once_when_it_ends() -> None:
    outage = Outage("imap")
    assert outage.recovered(0.0) is None  # up, and it stays up: nothing to say
    assert [outage.failed("down", t) for t in (1.0, 2.0, 3.0)] == [True, False, False]
    assert outage.tries == 3 and outage.down
    assert outage.recovered(10.0) == 9.0
    assert outage.recovered(11.0) is None and not outage.down


# -- the daemon against servers that go away -----------------------------------------------


def quick() -> RetryPolicy:
    return RetryPolicy(mailbox=Backoff(0.1, 0.3), login=Backoff(0.2, 0.3),
                       database=Backoff(0.1, 0.3))


def run_through(app: App, steps: Callable[[], None], restore: Callable[[], None]) -> None:
    """Run the daemon while `steps` (a server going away and coming back) play in a thread;
    `restore` puts the server back whatever happened, then SIGTERM stops the daemon. A
    failed step fails the test once the daemon has stopped."""
    failures: list[BaseException] = []

    def chaos() -> None:
        try:
            steps()
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            restore()
            os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=chaos)
    thread.start()
    try:
        run_forever(app, Stopper(), quick())
    finally:
        thread.join()
    assert not failures, failures


class CountingStopper(Stopper):
    """Stops the daemon after `limit` waits (a backoff's or the poll interval's)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.sleeps = 0

    def sleep(self, seconds: float) -> bool:
        self.sleeps += 1
        if self.sleeps >= self.limit:
            self.requested = True
        return super().sleep(min(seconds, 0.3))


def messages(caplog: pytest.LogCaptureFixture, needle: str, level: int = logging.INFO) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if needle in r.getMessage() and r.levelno >= level]


@pytest.fixture
def hanging_server() -> Iterator[int]:
    """A port that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def imap_section(account: ImapAccount, **overrides: Any) -> dict[str, Any]:
    values = {"host": HOST, "port": account.server.port, "security": "plain",
              "username": account.username, "password": account.password, "timeout": 2,
              "poll_interval": 1}
    values.update(overrides)
    return values


def test_a_refused_login_is_mailed_to_the_office_once_per_outage_and_retried_slowly(
    make_app: Callable[..., App], imap_account: ImapAccount, smtp_server: SmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="mailroom")
    app = make_app(imap=imap_section(imap_account, password="expired-code-1234"),
                   smtp=smtp_server.section())
    for _ in range(2):  # a restart within the outage tells nobody again
        run_forever(app, CountingStopper(3), quick())
    office = [m for m in smtp_server.messages() if "登录" in str(m["Subject"])]
    assert len(office) == 1, [str(m["Subject"]) for m in smtp_server.messages()]
    assert office[0]["To"] == "office@example.cn"
    assert imap_account.username in str(office[0]["Subject"])
    body = office[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "授权码" in body and "expired-code-1234" not in body
    refused = messages(caplog, "mailbox login refused", logging.ERROR)
    assert len(refused) == 2  # once per process start, not once per try (3 tries each)
    assert "expired-code-1234" not in caplog.text
    with app.sessions() as session:
        assert outages.describe_open(session, app.settings)[0].startswith(
            "imap login failing since")

    fixed = make_app(imap=imap_section(imap_account, idle=False), smtp=smtp_server.section())
    imap_account.append(make_mail("执法大队+登录恢复后的信息"), datetime(2019, 5, 6, tzinfo=UTC))
    run_forever(fixed, CountingStopper(1), quick())
    with fixed.sessions() as session:
        rows = session.scalars(select(OutageRow)).all()
        assert [(r.service, r.ended_at is not None) for r in rows] == [("imap", True)]
        assert outages.describe_open(session, fixed.settings) == []
    assert imap_account.count("mailroom/processed") == 1


def test_dovecot_stopped_and_restarted_mid_run_is_one_outage_and_no_mail_is_lost(
    make_app: Callable[..., App], dovecot: DovecotServer, imap_account: ImapAccount,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="mailroom")
    app = make_app(imap=imap_section(imap_account))
    imap_account.append(make_mail("执法大队+停机前的信息"), datetime(2019, 5, 6, tzinfo=UTC))

    def steps() -> None:
        assert wait_for(lambda: processed(imap_account) == 1)
        dovecot.stop()
        assert wait_for(lambda: len(messages(caplog, "still unavailable",
                                             logging.DEBUG)) >= 2)
        dovecot.start(keep_ports=True)
        imap_account.append(make_mail("执法大队+恢复后的信息"),
                            datetime(2019, 5, 6, 9, tzinfo=UTC))
        assert wait_for(lambda: processed(imap_account) == 2)

    def restore() -> None:
        if not dovecot.running:
            dovecot.start(keep_ports=True)

    run_through(app, steps, restore)
    assert len(messages(caplog, "mailbox unavailable", logging.ERROR)) == 1
    assert len(messages(caplog, "mailbox available again")) == 1
    assert processed(imap_account) == 2 and imap_account.count() == 0


def test_an_imap_server_that_accepts_and_never_answers_is_timed_out_and_retried(
    make_app: Callable[..., App], hanging_server: int, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="mailroom")
    app = make_app(imap={"host": HOST, "port": hanging_server, "security": "plain",
                         "username": "office", "password": "secret-never-logged",
                         "timeout": 1})
    started = time.monotonic()
    run_forever(app, CountingStopper(3), quick())
    elapsed = time.monotonic() - started
    assert elapsed < 8, elapsed  # three tries of 1 s each, not a hang
    errors = messages(caplog, "mailbox unavailable", logging.ERROR)
    assert len(errors) == 1 and "timed out" in errors[0], errors
    assert len(messages(caplog, "still unavailable", logging.DEBUG)) == 2
    assert "secret-never-logged" not in caplog.text


def test_smtp_down_hanging_refusing_and_back_each_logged_once(
    make_app: Callable[..., App], smtp_server: SmtpServer, hanging_server: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="mailroom")
    at = datetime(2019, 6, 2, tzinfo=UTC)
    imap = {"host": HOST, "port": 1, "username": "o@126.com", "password": "x"}
    hanging = make_app(clock_at=at, imap=imap,
                       smtp=smtp_server.section(port=hanging_server, timeout=1))
    outages.login_failed(hanging.sessions, hanging.settings, hanging.clock, "imap", "refused")
    started = time.monotonic()
    report = hanging.outbox().drain()
    assert time.monotonic() - started < 5
    assert report.sent == 0 and report.deferred == 1
    assert len(messages(caplog, "outbox: cannot send mail", logging.WARNING)) == 1

    smtp_server.stop()
    down = make_app(clock_at=at, imap=imap, smtp=smtp_server.section())
    sender = down.outbox()
    for _ in range(3):
        clock_of(down).advance(timedelta(hours=2))
        assert sender.drain().deferred == 1
    warnings = messages(caplog, "outbox: cannot send mail", logging.WARNING)
    assert len(warnings) == 2  # one for the hanging server, one for this outage
    smtp_server.start()
    clock_of(down).advance(timedelta(hours=2))
    assert sender.drain().sent == 1
    assert len(messages(caplog, "outbox: mail works again")) == 1
    assert len(smtp_server.received) == 1


def test_a_refused_smtp_login_is_recorded_and_check_says_the_office_was_not_told(
    make_app: Callable[..., App], smtp_server: SmtpServer,
) -> None:
    app = make_app(smtp=smtp_server.section(password="wrong-code-5678"))
    with app.sessions.begin() as session:  # a receipt waiting, as a pass would queue it
        session.add(OutgoingMail(
            purpose="receipt", channel="mail", message_id="m1@example.cn", source_pk=None,
            reply_to="", source_received_at=None, sender="office@example.cn",
            recipients=["r@example.cn"], subject="s", raw=b"Subject: s\r\n\r\nbody\r\n",
            status="pending", attempts=0, next_attempt_at=app.clock.now(), last_error="",
            created_at=app.clock.now(), sent_at=None, delivered_to=""))
    report = app.outbox().drain()
    assert report.deferred == 1 and smtp_server.received == []
    with app.sessions() as session:
        lines = outages.describe_open(session, app.settings)
    assert len(lines) == 1 and lines[0].startswith("smtp login failing since")
    assert "not mailed (SMTP itself fails)" in lines[0]
    assert "wrong-code-5678" not in lines[0]


# -- helpers ---------------------------------------------------------------------------------


def clock_of(app: App) -> FixedClock:
    assert isinstance(app.clock, FixedClock)
    return app.clock


def processed(account: ImapAccount) -> int:
    return account.count("mailroom/processed") if "mailroom/processed" in account.folders() \
        else 0


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except Exception:  # noqa: BLE001 - the server may be restarting
            pass
        time.sleep(0.1)
    return False


def test_postgresql_refusing_connections_mid_run_is_one_outage_and_no_mail_is_lost(
    make_app: Callable[..., App], postgres_url: str, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The database goes away under the daemon (its sessions killed, new ones refused, as
    in a server restart) and comes back: one line each way, the lock taken again."""
    caplog.set_level(logging.DEBUG, logger="mailroom")
    app = make_app(database={"url": postgres_url})
    name = postgres_url.rsplit("/", 1)[1]
    admin = postgres_url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] \
        + "/mailroom"
    deliver(tmp_path / "inbox", make_mail("执法大队+断库前的信息"),
            datetime(2019, 5, 6, tzinfo=UTC))

    def database(allow: bool) -> None:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS {str(allow).lower()}")
            if not allow:
                connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE datname = %s", (name,))

    def recorded() -> int:
        with psycopg.connect(admin.rsplit("/", 1)[0] + f"/{name}") as connection:
            return int(connection.execute("SELECT count(*) FROM messages").fetchone()[0])

    def steps() -> None:
        assert wait_for(lambda: recorded() == 1)
        database(allow=False)
        deliver(tmp_path / "inbox", make_mail("执法大队+断库时到的信息"),
                datetime(2019, 5, 6, 9, tzinfo=UTC))
        assert wait_for(lambda: len(messages(caplog, "database still unavailable",
                                             logging.DEBUG)) >= 2)
        database(allow=True)
        assert wait_for(lambda: recorded() == 2)

    run_through(app, steps, lambda: database(allow=True))
    assert len(messages(caplog, "database unavailable", logging.ERROR)) == 1
    assert len(messages(caplog, "database available again")) == 1
    assert app.instance_lock("test").holder() is None  # released at the stop


class FreezingProxy:
    """A TCP proxy to the server that can freeze: it then stops passing anything either
    way (a server that answers, then hangs), and passes again once thawed."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.frozen = threading.Event()
        self.stopped = threading.Event()
        self.listener = socket.socket()
        self.listener.bind((HOST, 0))
        self.listener.listen(8)
        self.listener.settimeout(0.1)
        self.port = int(self.listener.getsockname()[1])
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client = self.listener.accept()[0]
            except OSError:
                continue
            server = socket.create_connection(self.upstream)
            for source, target in ((client, server), (server, client)):
                thread = threading.Thread(target=self._pump, args=(source, target), daemon=True)
                thread.start()
                self.threads.append(thread)

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while not self.stopped.is_set():
                if self.frozen.is_set() or not readable([source], [], [], 0.1)[0]:
                    time.sleep(0.02)
                    continue
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
        except (OSError, ValueError):  # the other direction closed it
            pass
        finally:
            for sock in (source, target):
                with suppress(OSError):
                    sock.close()

    def close(self) -> None:
        self.stopped.set()
        for thread in self.threads:
            thread.join(timeout=5)
        self.listener.close()


def test_a_server_that_hangs_in_idle_is_timed_out_and_reconnected(
    make_app: Callable[..., App], dovecot: DovecotServer, imap_account: ImapAccount,
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """IDLE is re-issued at least every half watchdog period (2 s here; 25 min at most
    without a watchdog); the server stops answering mid-IDLE: DONE times out after
    [imap] timeout, the reconnect through the hung server times out too, and once it
    answers again the mail that came meanwhile is processed."""
    caplog.set_level(logging.DEBUG, logger="mailroom")
    monkeypatch.setenv("WATCHDOG_USEC", "4000000")
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    proxy = FreezingProxy((HOST, dovecot.port))
    app = make_app(imap=imap_section(imap_account, port=proxy.port, timeout=1))
    imap_account.append(make_mail("执法大队+挂起前的信息"), datetime(2019, 5, 6, tzinfo=UTC))

    def steps() -> None:
        assert wait_for(lambda: processed(imap_account) == 1)
        time.sleep(0.5)  # into IDLE
        proxy.frozen.set()
        assert wait_for(lambda: len(messages(caplog, "mailbox unavailable",
                                             logging.ERROR)) == 1)
        imap_account.append(make_mail("执法大队+挂起时到的信息"),
                            datetime(2019, 5, 6, 9, tzinfo=UTC))
        assert wait_for(lambda: len(messages(caplog, "still unavailable",
                                             logging.DEBUG)) >= 1)
        proxy.frozen.clear()
        assert wait_for(lambda: processed(imap_account) == 2)

    try:
        run_through(app, steps, proxy.frozen.clear)
    finally:
        proxy.close()
    errors = messages(caplog, "mailbox unavailable", logging.ERROR)
    assert len(errors) == 1 and "timed out" in errors[0], errors
    assert len(messages(caplog, "mailbox available again")) == 1
