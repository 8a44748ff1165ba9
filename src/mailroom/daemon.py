"""The long-running side: one pass, the fetch loop with IDLE, signals, sd_notify, and `check`.

Signals follow rq. The first SIGTERM (or SIGINT) asks for a stop: the mail in hand
finishes its transaction and is filed away, no further mail is started or fetched and no
further outgoing mail is sent; a wait (IDLE, the poll interval, the SMTP throttle) ends at
once. A second signal, or anything still holding the process GRACE seconds after the
first (a server that stopped answering), stops it at once (`Aborted`, exit 1): the
transaction in hand rolls back and its mail stays in the inbox for the next run.

One pass at a time per store: a pass holds the pass lock in the storage folder; a
`poll --once` that finds it held leaves the mailbox to its holder (MailboxBusy, exit 0).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy.exc import OperationalError

from mailroom.app import App
from mailroom.errors import MailboxError, StoreError
from mailroom.mailbox.base import MailSource
from mailroom.mailbox.maildir import MaildirSource
from mailroom.outbox.sender import OutboxSender
from mailroom.pipeline import PassReport, Pipeline
from mailroom.store.locks import PASS_LOCK, try_lock

log = logging.getLogger(__name__)

MAX_BACKOFF = 300.0
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


def sd_notify(state: str) -> None:
    """Tell systemd (Type=notify) how we are; a no-op outside systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto(state.encode(), address)
        except OSError as exc:
            log.warning("sd_notify failed: %s", exc)


def run_forever(app: App, stopper: Stopper | None = None) -> None:
    """Fetch and process mail until signalled; reconnect with backoff on mailbox errors."""
    stopper = stopper or Stopper()
    stopper.install()
    try:
        require_writable_storage(Path(app.settings.storage.path))
        pipeline = app.pipeline()
        sender = app.outbox(stopper.sleep, stopper.stop_requested)
        sd_notify("READY=1")
        try:
            _serve(app, pipeline, sender, stopper)
        except _Interrupted:
            pass  # a signal between a wait and its end: the stop is requested all the same
        finally:
            pipeline.close()
        sd_notify("STOPPING=1")
    finally:
        stopper.uninstall()


def _serve(app: App, pipeline: Pipeline, sender: OutboxSender, stopper: Stopper) -> None:
    interval = app.settings.imap.poll_interval if app.settings.imap else 60
    backoff = 5.0
    while not stopper.requested:
        try:
            source = app.open_source()
        except (MailboxError, OSError) as exc:
            log.error("mailbox unavailable: %s; retrying in %.0f s", exc, backoff)
            _drain(sender)  # receipts already queued need no mailbox
            stopper.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
            continue
        try:
            with _closing(source):
                while not stopper.requested:
                    _pass(app, pipeline, source, sender, stopper)
                    backoff = 5.0
                    if stopper.requested:
                        break
                    sd_notify("WATCHDOG=1")
                    retry = _outbox_due(sender)  # wake for the next outbox retry as well
                    if source.supports_idle():
                        stopper.wait(partial(source.wait_for_mail, min(IDLE_WINDOW, retry)))
                    else:
                        stopper.sleep(min(_pause(source, interval), retry))
        except StoreError as exc:  # e.g. the disk filled up: wait, never a crash loop
            log.error("%s; the mail stays in the inbox; retrying in %.0f s", exc, backoff)
            stopper.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
        except (MailboxError, OSError) as exc:
            log.error("mailbox connection lost: %s; reconnecting", exc)


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
          stopper: Stopper) -> None:
    """One pass and the outbox, unless a `poll --once` holds the mailbox (it does both)."""
    with try_lock(Path(app.settings.storage.path) / PASS_LOCK) as mine:
        if not mine:
            log.info("another mailroom process is processing this mailbox; waiting for it")
            return
        report = pipeline.run_pass(source, stop=stopper.stop_requested)
        if report.fetched:
            log.info("pass: %s", report.summary())
        if not stopper.requested:
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
