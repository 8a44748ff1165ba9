"""The long-running side: one pass, the fetch loop with IDLE, signals, sd_notify, and `check`.

Signals follow rq: the first SIGTERM (or SIGINT) lets the mail in hand finish its
transaction and then stops; while waiting for mail it stops at once.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from types import FrameType

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from mailroom.app import App
from mailroom.errors import MailboxError, MailroomError, StoreError
from mailroom.mailbox.maildir import MaildirSource
from mailroom.outbox.sender import OutboxSender
from mailroom.pipeline import PassReport, Pipeline
from mailroom.store.database import current_revision, head_revision

log = logging.getLogger(__name__)

MAX_BACKOFF = 300.0
IDLE_WINDOW = 25 * 60.0  # re-issue IDLE well within the 29 minutes servers allow (RFC 2177)


def poll_once(app: App) -> PassReport:
    """One pass over the mailbox, then the outbox drained (what `poll --once` does)."""
    pipeline = app.pipeline()
    try:
        source = app.open_source()
        try:
            report = pipeline.run_pass(source)
        finally:
            source.close()
    finally:
        pipeline.close()
    report.outbox = app.outbox().drain()
    return report


class _Interrupted(Exception):
    """Raised from the signal handler only while the daemon is idle-waiting."""


class Stopper:
    def __init__(self) -> None:
        self.event = threading.Event()
        self.waiting = False

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        log.info("signal %s: stopping", signal.Signals(signum).name)
        self.event.set()
        if self.waiting:
            raise _Interrupted

    def wait(self, waiter: Callable[[], bool]) -> bool:
        """Run a blocking wait that a signal may cut short; False when cut short."""
        self.waiting = True
        try:
            return False if self.event.is_set() else waiter()
        except _Interrupted:
            return False
        finally:
            self.waiting = False


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
    pipeline = app.pipeline()
    sender = app.outbox()
    sd_notify("READY=1")
    try:
        _serve(app, pipeline, sender, stopper)
    finally:
        pipeline.close()
    sd_notify("STOPPING=1")


def _serve(app: App, pipeline: Pipeline, sender: OutboxSender, stopper: Stopper) -> None:
    interval = app.settings.imap.poll_interval if app.settings.imap else 60
    backoff = 5.0
    while not stopper.event.is_set():
        try:
            source = app.open_source()
        except (MailboxError, OSError) as exc:
            log.error("mailbox unavailable: %s; retrying in %.0f s", exc, backoff)
            _drain(sender)  # receipts already queued need no mailbox
            stopper.wait(partial(stopper.event.wait, backoff))
            backoff = min(backoff * 2, MAX_BACKOFF)
            continue
        try:
            backoff = 5.0
            while not stopper.event.is_set():
                report = pipeline.run_pass(source)
                if report.fetched:
                    log.info("pass: %s", report.summary())
                _drain(sender)
                sd_notify("WATCHDOG=1")
                retry = _outbox_due(sender)  # wake for the next outbox retry as well
                if source.supports_idle():
                    stopper.wait(partial(source.wait_for_mail, min(IDLE_WINDOW, retry)))
                else:
                    pause = min(_pause(source, interval), retry)
                    stopper.wait(partial(stopper.event.wait, pause))
        except (MailboxError, OSError) as exc:
            log.error("mailbox connection lost: %s; reconnecting", exc)
        finally:
            source.close()


def _drain(sender: OutboxSender) -> None:
    """Send what is due; an outbox problem is logged, never stops the fetching."""
    try:
        sender.drain()
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


Probe = Callable[[], str]


def checks(app: App) -> Iterator[tuple[str, Probe]]:
    """What `mailroom check` verifies, in order; each probe raises MailroomError on failure."""
    settings = app.settings
    yield "config", lambda: f"valid ({len(settings.units)} units)"
    yield "database", lambda: _probe_database(app)
    yield "storage", lambda: _probe_storage(Path(settings.storage.path))
    if settings.imap is not None:
        from mailroom.mailbox import imap

        imap_settings = settings.imap
        yield "imap", lambda: "\n       ".join(imap.probe(imap_settings))
    elif settings.maildir is not None:
        maildir = settings.maildir
        yield "maildir", lambda: _probe_maildir(Path(maildir.path))
    if settings.smtp is not None:
        from mailroom.outbox import smtp

        smtp_settings = settings.smtp
        yield "smtp", lambda: smtp.probe(smtp_settings)
    else:
        yield "outbox", lambda: f"no [smtp]: outgoing mail is written to {settings.outbox.path}"
    yield "queue", lambda: _probe_queue(app)


def _probe_queue(app: App) -> str:
    """How many outgoing mails wait or failed for good (a stuck queue shows here)."""
    if current_revision(app.engine) != head_revision():
        return "not checked: the schema is not current"
    counts = app.outbox().status_counts()
    failed = f"; {counts.get('failed', 0)} failed for good (see the outbox table)" \
        if counts.get("failed") else ""
    return (f"{counts.get('pending', 0)} outgoing mails waiting, "
            f"{counts.get('sent', 0)} sent{failed}")


def _probe_database(app: App) -> str:
    try:
        with app.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = current_revision(app.engine)
    except Exception as exc:
        raise StoreError(f"cannot open the database: {exc.__class__.__name__}: "
                         f"{str(exc).splitlines()[0]}") from None
    where = app.engine.url.render_as_string(hide_password=True)
    if revision is None:
        return f"{where} has no schema yet: the first poll creates it (or `mailroom db upgrade`)"
    if revision != head_revision():
        raise StoreError(f"schema at revision {revision}, this mailroom needs "
                         f"{head_revision()}: run `mailroom db upgrade`")
    return f"{where} at revision {revision}"


def _probe_storage(path: Path) -> str:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".mailroom-check"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise MailroomError(f"storage {path} is not writable: {exc.strerror}") from None
    return f"{path} is writable"


def _probe_maildir(path: Path) -> str:
    source = MaildirSource(path, "mailroom/processed", "mailroom/failed")
    return f"{path}: {source.count()} mails waiting"
