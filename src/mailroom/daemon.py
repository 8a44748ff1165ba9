"""The long-running side: one pass, the fetch loop with IDLE, signals, sd_notify, and `check`.

Signals follow rq. The first SIGTERM (or SIGINT) asks for a stop: the mail in hand
finishes its transaction and is filed away, no further mail is started or fetched and no
further outgoing mail is sent; a wait (IDLE, the poll interval, the SMTP throttle) ends at
once. A second signal, or anything still holding the process GRACE seconds after the
first (a server that stopped answering), stops it at once (`Aborted`, exit 1): the
transaction in hand rolls back and its mail stays in the inbox for the next run.

One `run` per mailbox and database: it holds the instance lock (store/instance.py) for
its life; a second `run` is refused saying who holds it (InstanceBusy, exit 2), and a
`poll --once` beside it leaves the mailbox to it (MailboxBusy, exit 0). One pass at a time
per store: a pass holds the pass lock in the storage folder; a `poll --once` that finds it
held leaves the mailbox to its holder.

Faults: a mailbox, SMTP or database failure is retried with capped exponential backoff
with jitter (backoff.py), logged once when the outage starts and once when it ends. A
refused login (an expired authorisation code) is retried slowly and told to the office
once per outage (outages.py). Every connection has a socket timeout ([imap] / [smtp]
timeout), so a server that answers but hangs is dropped and reconnected. Under systemd,
READY=1, WATCHDOG=1 (every half WatchdogSec, also between mails and during waits) and
STOPPING=1 go to $NOTIFY_SOCKET.

Scheduled jobs (schedule/runner.py) run before each pass and while the mailbox is down, their
mail sent on the drain after; every wait ends by the next job's time. `poll --once` runs none.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy.exc import OperationalError

from mailroom import outages
from mailroom.app import App
from mailroom.backoff import Backoff, Outage, describe_length
from mailroom.errors import ConnectError, MailboxError, StoreError
from mailroom.mailbox.base import MailSource
from mailroom.mailbox.maildir import MaildirSource
from mailroom.outbox.sender import OutboxSender
from mailroom.pipeline import PassReport, Pipeline
from mailroom.schedule.runner import Schedule
from mailroom.store.instance import InstanceLock
from mailroom.store.locks import PASS_LOCK, try_lock
from mailroom.systemd import Watchdog, sd_notify

log = logging.getLogger(__name__)

MAX_BACKOFF = 300.0
LOGIN_RETRY = 300.0  # a refused login: an expired authorisation code waits for a person
LOGIN_RETRY_CAP = 3600.0
IDLE_WINDOW = 25 * 60.0  # re-issue IDLE well within the 29 minutes servers allow (RFC 2177)
GRACE = 8.0  # seconds from the first signal to a forced stop: systemd & admins expect < 10 s
POLL_THROTTLE_WAIT = 60.0  # SPEC: `poll --once` waits for the SMTP throttle this long in all
DAEMON_THROTTLE_WAIT = 60.0  # per drain, so the daemon fetches mail between throttled sends
BUSY = "another mailroom process is processing this mailbox; left to it"


class MailboxBusy(Exception):
    """Another process holds the pass lock: it fetches, records and sends; we leave it."""


class Aborted(KeyboardInterrupt):
    """Stop now (a second signal, or the grace ran out). An interrupt, as Ctrl-C is: no
    `except Exception` on the way mistakes it for a mail's failure, and the PostgreSQL
    driver cancels the statement in hand."""


class _Interrupted(Exception):
    """Raised from the signal handler only while the process is waiting."""


class Stopper:
    """The stop request the signals make; waits that a stop cuts short."""

    def __init__(self) -> None:
        self.requested = False
        self.waiting = False
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        for signum, handler in ((signal.SIGTERM, self._handle), (signal.SIGINT, self._handle),
                                (signal.SIGALRM, self._overdue)):
            self._previous[signum] = signal.signal(signum, handler)

    def uninstall(self) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.requested:
            log.warning("signal %s again: stopping now; the mail in hand is rolled back and "
                        "stays in the inbox", name)
            raise Aborted(name)
        self.requested = True
        log.info("signal %s: stopping after the mail in hand", name)
        signal.setitimer(signal.ITIMER_REAL, GRACE)
        if self.waiting:
            raise _Interrupted

    def _overdue(self, signum: int, frame: FrameType | None) -> None:
        log.warning("still busy %.0f s after the stop signal; stopping now: the mail in hand "
                    "is rolled back and stays in the inbox", GRACE)
        raise Aborted("grace")

    def stop_requested(self) -> bool:
        return self.requested

    def wait(self, waiter: Callable[[], object]) -> None:
        """Run a blocking wait (IDLE, a sleep) that a stop request cuts short."""
        try:
            self.waiting = True
            if not self.requested:
                waiter()
        except _Interrupted:
            pass
        finally:
            self.waiting = False

    def sleep(self, seconds: float) -> bool:
        """Sleep unless a stop is requested meanwhile; True when it was."""
        self.wait(partial(time.sleep, seconds))
        return self.requested


def require_writable_storage(path: Path) -> Path:
    """Refuse to start a pass when the store cannot take files (every mail would fail)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        for folder in (path, *(sub for sub in (path / "raw", path / "attachments")
                               if sub.is_dir())):
            probe = folder / f".mailroom-check-{os.getpid()}"
            probe.write_bytes(b"ok")
            probe.unlink()
    except FileExistsError:
        raise StoreError(f"storage {path} is not writable: it is not a folder") from None
    except OSError as exc:
        raise StoreError(f"storage {path} is not writable: {exc.strerror or exc}") from None
    return path


def poll_once(app: App, stopper: Stopper | None = None) -> PassReport:
    """One pass over the mailbox, then the outbox drained (what `poll --once` does), waiting
    for the SMTP throttle at most POLL_THROTTLE_WAIT in all. Raises MailboxBusy when another
    process holds the pass lock (it does both). `stopper`: a stop request ends the pass
    after the mail in hand and sends nothing more."""
    stopper = stopper or Stopper()
    storage = require_writable_storage(Path(app.settings.storage.path))
    holder = app.instance_lock("poll").holder()
    if holder is not None:
        raise MailboxBusy(f"{holder.describe()} is processing this mailbox; left to it")
    pipeline = app.pipeline()
    with try_lock(storage / PASS_LOCK) as mine:
        try:
            if not mine:
                raise MailboxBusy(BUSY)
            with _closing(app.open_source()) as source:
                report = pipeline.run_pass(source, stop=stopper.stop_requested)
        finally:
            pipeline.close()
        if not stopper.requested:
            sender = app.outbox(stopper.sleep, stopper.stop_requested)
            report.outbox = sender.drain(max_wait=POLL_THROTTLE_WAIT)
    return report


@dataclass
class RetryPolicy:
    """How soon to try again: a server that is down or hangs (quick, capped at 5 min); a
    login the server refuses (slowly: an expired authorisation code needs a person);
    the database."""

    mailbox: Backoff = field(default_factory=lambda: Backoff(5.0, MAX_BACKOFF))
    login: Backoff = field(default_factory=lambda: Backoff(LOGIN_RETRY, LOGIN_RETRY_CAP))
    database: Backoff = field(default_factory=lambda: Backoff(5.0, MAX_BACKOFF))


def run_forever(app: App, stopper: Stopper | None = None, retry: RetryPolicy | None = None,
                schedule: Schedule | None = None) -> None:
    """Fetch and process mail and run `schedule` (default: `[schedule]`'s jobs) until
    signalled, holding the mailbox's instance lock (InstanceBusy when another process holds
    it); reconnect with backoff on failures."""
    stopper = stopper or Stopper()
    lock = app.instance_lock("run")
    lock.acquire()
    stopper.install()
    try:
        require_writable_storage(Path(app.settings.storage.path))
        watchdog = Watchdog()
        daemon = _Daemon(app, stopper, retry or RetryPolicy(), watchdog, lock,
                         schedule or Schedule(app.sessions, app.settings, app.clock))
        pipeline = daemon.start()
        if pipeline is None:
            return
        sender = app.outbox(daemon.sleep, stopper.stop_requested)
        sd_notify("READY=1")
        log.info("mailroom run: started on %s (pid %d)", app.mailbox_name(), os.getpid())
        try:
            daemon.serve(pipeline, sender)
        except _Interrupted:
            pass  # a signal between a wait and its end: the stop is requested all the same
        finally:
            pipeline.close()
        sd_notify("STOPPING=1")
        log.info("mailroom run: stopped")
    finally:
        stopper.uninstall()
        lock.release()


class _Daemon:
    """The loop of `run`: a pass, the outbox, a wait for mail; failures wait out their
    backoff and are logged once when they start and once when they end."""

    def __init__(self, app: App, stopper: Stopper, retry: RetryPolicy,
                 watchdog: Watchdog, lock: InstanceLock, schedule: Schedule) -> None:
        self.app = app
        self.schedule = schedule
        self.lock = lock
        self.stopper = stopper
        self.retry = retry
        self.watchdog = watchdog
        self.mailbox = Outage("mailbox")
        self.database = Outage("database")
        self.login_failing = True  # until a login works: closes an outage a past run opened
        self.interval = app.settings.imap.poll_interval if app.settings.imap else 60

    def sleep(self, seconds: float) -> bool:
        """Wait `seconds` unless stopped (True then), pinging the watchdog meanwhile."""
        deadline = time.monotonic() + seconds
        while not self.stopper.requested and (left := deadline - time.monotonic()) > 0:
            self.watchdog.ping()
            self.stopper.sleep(self.watchdog.longest_wait(left))
        return self.stopper.requested

    def stop_requested(self) -> bool:
        """Asked between mails: also the moment to tell the watchdog we are alive."""
        self.watchdog.ping()
        return self.stopper.requested

    def start(self) -> Pipeline | None:
        """The pipeline, once the database answers (None: stopped while waiting for it)."""
        while not self.stopper.requested:
            try:
                pipeline = self.app.pipeline()
            except OperationalError as exc:
                self._database_down(exc)
                continue
            self._database_up()
            return pipeline
        return None

    def serve(self, pipeline: Pipeline, sender: OutboxSender) -> None:
        while not self.stopper.requested:
            try:
                with _closing(self.app.open_source()) as source:
                    self._session(pipeline, source, sender)
            except ConnectError as exc:
                if exc.stage == "login":
                    self._login_refused(exc, sender)
                else:
                    self._mailbox_down(exc, sender)
            except (MailboxError, OSError) as exc:
                self._mailbox_down(exc, sender)
            except OperationalError as exc:
                self._database_down(exc)
            except StoreError as exc:  # e.g. the disk filled up: wait, never a crash loop
                delay = self.retry.database.next_delay()
                log.error("%s; the mail stays in the inbox; retrying in %.0f s", exc, delay)
                self.sleep(delay)

    def _session(self, pipeline: Pipeline, source: MailSource, sender: OutboxSender) -> None:
        """Passes and waits on one connection, until it fails or a stop."""
        while not self.stopper.requested:
            self.schedule.run_due(self.stop_requested)
            _pass(self.app, pipeline, source, sender, self.stop_requested)
            self._mailbox_up()
            self._database_up()
            if self.stopper.requested:
                break
            self.watchdog.ping()
            wait = self.watchdog.longest_wait(min(_outbox_due(sender),
                                                  self.schedule.seconds_until_due()))
            if source.supports_idle():
                self.stopper.wait(partial(source.wait_for_mail, min(IDLE_WINDOW, wait)))
            else:
                self.sleep(min(_pause(source, self.interval), wait))

    # -- outages: one line when each starts, one when it ends ---------------------------------

    def _mailbox_down(self, exc: BaseException, sender: OutboxSender) -> None:
        delay = self.retry.mailbox.next_delay()
        if self.mailbox.failed(str(exc), time.monotonic()):
            log.error("mailbox unavailable: %s; reconnecting with backoff (first in %.0f s)",
                      exc, delay)
        else:
            log.debug("mailbox still unavailable (try %d): %s; next in %.0f s",
                      self.mailbox.tries, exc, delay)
        self._drain(sender)  # receipts already queued and the jobs need no mailbox
        self.sleep(min(delay, self.schedule.seconds_until_due()))

    def _login_refused(self, exc: ConnectError, sender: OutboxSender) -> None:
        delay = self.retry.login.next_delay()
        if self.mailbox.failed(str(exc), time.monotonic()):
            log.error("mailbox login refused: %s; the office is told once; retrying slowly "
                      "(next in %.0f s)", exc, delay)
        self.login_failing = True
        try:
            outages.login_failed(self.app.sessions, self.app.settings, self.app.clock,
                                 "imap", str(exc))
        except OperationalError as db_exc:
            log.error("cannot record the login failure: the database fails too: %s",
                      _first_line(db_exc))
        self._drain(sender)  # the mail to the office goes out now, when SMTP works
        self.sleep(min(delay, self.schedule.seconds_until_due()))

    def _drain(self, sender: OutboxSender) -> None:  # the jobs and the outbox, mailbox down
        try:
            self.schedule.run_due(self.stop_requested)
            _drain(sender)
        except OperationalError as exc:
            if self.database.failed(_first_line(exc), time.monotonic()):
                log.error("database unavailable: %s; retrying with backoff", _first_line(exc))

    def _mailbox_up(self) -> None:
        length = self.mailbox.recovered(time.monotonic())
        self.retry.mailbox.reset()
        self.retry.login.reset()
        if length is not None:
            log.info("mailbox available again after %s", describe_length(length))
        if self.login_failing or length is not None:
            self.login_failing = False
            if outages.login_worked(self.app.sessions, self.app.clock, "imap"):
                log.info("mailbox login works again; the login failure is closed")

    def _database_down(self, exc: OperationalError) -> None:
        delay = self.retry.database.next_delay()
        if self.database.failed(_first_line(exc), time.monotonic()):
            log.error("database unavailable: %s; retrying with backoff (first in %.0f s)",
                      _first_line(exc), delay)
        else:
            log.debug("database still unavailable (try %d); next in %.0f s",
                      self.database.tries, delay)
        self.sleep(delay)

    def _database_up(self) -> None:
        self.retry.database.reset()
        length = self.database.recovered(time.monotonic())
        if length is not None:
            log.info("database available again after %s", describe_length(length))
            self.lock.reassert()  # PostgreSQL: the outage may have dropped the lock


def _first_line(exc: OperationalError) -> str:
    return (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]


@contextmanager
def _closing(source: MailSource) -> Iterator[MailSource]:
    """Close the mailbox after use, except when stopping now (KeyboardInterrupt, Aborted):
    no LOGOUT to a server that may be what holds the stop up."""
    try:
        yield source
    except KeyboardInterrupt:
        raise
    except BaseException:
        source.close()
        raise
    else:
        source.close()


def _pass(app: App, pipeline: Pipeline, source: MailSource, sender: OutboxSender,
          stop: Callable[[], bool]) -> None:
    """One pass and the outbox, unless a `poll --once` holds the mailbox (it does both)."""
    with try_lock(Path(app.settings.storage.path) / PASS_LOCK) as mine:
        if not mine:
            log.info("another mailroom process is processing this mailbox; waiting for it")
            return
        report = pipeline.run_pass(source, stop=stop)
        if report.fetched:
            log.info("pass: %s", report.summary())
        if not stop():
            _drain(sender)


def _drain(sender: OutboxSender) -> None:
    """Send what is due; an outbox problem is logged, never stops the fetching."""
    try:
        sender.drain(max_wait=DAEMON_THROTTLE_WAIT)
    except OperationalError:
        raise  # the database is gone: the same as for a pass
    except Exception:
        log.exception("outbox drain failed; retrying after the next pass")


def _outbox_due(sender: OutboxSender) -> float:
    due = sender.seconds_until_due()
    return IDLE_WINDOW if due is None else max(due, 1.0)


def _pause(source: object, interval: float) -> float:
    """After a pass without IDLE, wait the poll interval (Maildir: a few seconds)."""
    return min(interval, 5.0) if isinstance(source, MaildirSource) else interval
