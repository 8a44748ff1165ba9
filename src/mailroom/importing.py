"""`mailroom import`: a backlog of old mail (an mbox, a Maildir, an IMAP folder) recorded
exactly like new mail, without receipts unless asked.

- The same pipeline as a pass over the inbox: kinds, units, numbers, 首报 against the whole
  history, the raw mail and attachments kept. The source is only read (mailbox/backlog.py).
- Order and numbers. The whole source is read in order of receipt (mbox: the `From ` line's
  date, else the Date header), so a backlog's months are numbered in the order their mail
  came, as SPEC asks within a pass. Numbers are never reused nor changed: a month that
  already has numbers (mail recorded before the import) continues its sequence, so there an
  imported older mail gets a higher number than newer mail recorded earlier. First-report
  credit is not by number but by received time: an imported older item takes the credit
  from later copies already recorded (R3 re-evaluation), and the change is kept for the
  next digest.
- Replies. Without `--receipts` nothing is queued — no receipt, no urgent alert, no roster
  confirmation for mail that may be years old — and each message's detail says why. With
  it, the usual reply rules apply (`[receipts] skip_older_than_hours` still holds) and the
  queue is sent as by `poll --once`.
- Resumable. Each mail is its own transaction and a mail already recorded (same place in
  the source, or the same bytes) is skipped, so an import interrupted by Ctrl-C, SIGTERM
  or SIGKILL and run again records each mail once, in the same order, with the same
  numbers as an uninterrupted run.
- One at a time. The import holds the mailbox's instance lock (store/instance.py) and the
  store's pass lock for its whole run: a `run` or a second import on the same mailbox and
  database is refused saying who holds it (exit 2), a `poll --once` beside it leaves the
  mailbox to it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TextIO

from mailroom.app import App
from mailroom.daemon import POLL_THROTTLE_WAIT, Stopper, require_writable_storage
from mailroom.errors import InvalidInput
from mailroom.mailbox.backlog import ImapFolderBacklog, MaildirBacklog, MboxSource
from mailroom.pipeline import PassReport, Pipeline
from mailroom.store.database import prepare_schema
from mailroom.store.locks import PASS_LOCK, SCHEMA_LOCK, try_lock

QUIET = "imported backlog: no receipt (import without --receipts)"
BUSY_WAIT = 2.0  # seconds between looks at a pass lock another process holds


class Progress(Protocol):
    def start(self, total: int) -> None: ...

    def update(self, done: int) -> None: ...

    def close(self) -> None: ...


class BarProgress:
    """A progress bar with the rate and the time left, on a terminal (tqdm)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._bar: object | None = None
        self._done = 0

    def start(self, total: int) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=total, unit="mail", file=self.stream, dynamic_ncols=True,
                         smoothing=0.1, desc="import")

    def update(self, done: int) -> None:
        if self._bar is not None and done > self._done:
            self._bar.update(done - self._done)  # type: ignore[attr-defined]
            self._done = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()  # type: ignore[attr-defined]


class LineProgress:
    """Plain lines every `interval` seconds when the output is no terminal (a log, a pipe):
    done of total, the rate, the time left."""

    def __init__(self, stream: TextIO, interval: float = 10.0,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.interval = interval
        self.now = now
        self.total = 0
        self._started = self._last = 0.0
        self._shown = -1

    def start(self, total: int) -> None:
        self.total = total
        self._started = self._last = self.now()
        self._line(f"import: {total} mails to go through")

    def update(self, done: int) -> None:
        now = self.now()
        if done == self._shown or (now - self._last < self.interval and done < self.total):
            return
        self._last, self._shown = now, done
        rate = done / max(now - self._started, 1e-9)
        left = (self.total - done) / rate if rate > 0 else 0.0
        percent = 100 * done / self.total if self.total else 100.0
        self._line(f"import: {done} of {self.total} mails ({percent:.0f}%), {rate:.0f} mails/s,"
                   f" {_duration(left)} left")

    def close(self) -> None:
        pass

    def _line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def progress_for(stream: TextIO = sys.stderr) -> Progress:
    return BarProgress(stream) if stream.isatty() else LineProgress(stream)


def open_backlog(app: App, *, maildir: str | None = None, mbox: str | None = None,
                 folder: str | None = None) -> MboxSource | MaildirBacklog | ImapFolderBacklog:
    """The source named on the command line (InvalidInput when it is not there)."""
    if mbox is not None:
        return MboxSource(Path(mbox), app.settings.zone)
    if maildir is not None:
        return MaildirBacklog(Path(maildir))
    assert folder is not None
    if app.settings.imap is None:
        raise InvalidInput("--from-folder needs an [imap] section in the config")
    return ImapFolderBacklog(app.settings.imap, folder)


def run_import(app: App, source: MboxSource | MaildirBacklog | ImapFolderBacklog,
               receipts: bool, stopper: Stopper, progress: Progress,
               wait_note: Callable[[str], None] = lambda text: None) -> PassReport | None:
    """Import everything `source` holds; None when stopped while waiting for the lock."""
    storage = require_writable_storage(Path(app.settings.storage.path))
    prepare_schema(app.engine, storage / SCHEMA_LOCK)
    instance = app.instance_lock("import")
    instance.acquire()  # InstanceBusy: a `run` or another import holds this mailbox
    try:
        told = False
        while True:
            with try_lock(storage / PASS_LOCK) as mine:
                if mine:
                    return _import(app, source, receipts, stopper, progress)
            if not told:
                wait_note("another mailroom process is processing a mailbox on this store; "
                          "waiting for it")
                told = True
            if stopper.sleep(BUSY_WAIT):
                return None
    finally:
        instance.release()


def _import(app: App, source: MboxSource | MaildirBacklog | ImapFolderBacklog,
            receipts: bool, stopper: Stopper, progress: Progress) -> PassReport:
    pipeline = Pipeline(app.settings, app.sessions, app.files, app.clock,
                        quiet=None if receipts else QUIET)
    source.on_progress = progress.update
    try:
        progress.start(source.count())
        report = pipeline.run_pass(source, stop=stopper.stop_requested)
        progress.update(source.done)
    finally:
        progress.close()
        pipeline.close()
    if receipts and not stopper.requested:
        sender = app.outbox(stopper.sleep, stopper.stop_requested)
        report.outbox = sender.drain(max_wait=POLL_THROTTLE_WAIT)
    return report


def summary(report: PassReport, source_name: str, stopped: bool) -> str:
    text = f"import of {source_name}: {report.summary()}"
    if stopped:
        text += "; stopped: run the same import again to go on where it stopped"
    elif report.count("retry"):
        text += "; run the same import again to retry those"
    return text

