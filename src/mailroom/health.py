"""What `mailroom check` tries, in order: config, database, storage, the mailbox, SMTP, the
outbox queue. Each probe returns what it found or raises MailroomError saying what failed.
(*Checks* are the R2 attachment rules; these are *probes*.)"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import text

from mailroom import outages
from mailroom.app import App
from mailroom.config.sections import LimitsSettings
from mailroom.daemon import require_writable_storage
from mailroom.dedupe.extract import TextLimits
from mailroom.errors import ConfigError, MailboxError, StoreError
from mailroom.mailbox.maildir import MaildirSource
from mailroom.store.database import current_revision, head_revision
from mailroom.textworker import TextWorker

Probe = Callable[[], str]


def probes(app: App) -> Iterator[tuple[str, Probe]]:
    """What `mailroom check` verifies, in order; each probe raises MailroomError on failure."""
    settings = app.settings
    yield "config", lambda: f"valid ({len(settings.units)} units)"
    yield "limits", lambda: _probe_limits(settings.limits)
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
    yield "logins", lambda: _probe_outages(app)


def _probe_outages(app: App) -> str:
    """Login failures the daemon recorded and has not seen end (an expired authorisation
    code), and whether the office was told."""
    if current_revision(app.engine) != head_revision():
        return "not checked: the schema is not current"
    with app.sessions() as session:
        lines = outages.describe_open(session, app.settings)
    if lines:
        raise MailboxError("\n       ".join(lines) + "\n       (the daemon closes it at its "
                           "next login that works; `systemctl restart mailroom` tries now)")
    return "no login failure recorded"


def _probe_limits(limits: LimitsSettings) -> str:
    """The text worker starts and reads a .docx within its memory and time limits."""
    worker = TextWorker(limits.text_worker_memory_bytes, limits.text_worker_timeout_seconds)
    try:
        found = worker.extract("check.docx", "", _PROBE_DOCX, TextLimits())
    finally:
        worker.close()
    if found.text != "mailroom":
        raise ConfigError(f"[limits] the text worker does not work within "
                          f"text_worker_memory_bytes = {limits.text_worker_memory_bytes} and "
                          f"text_worker_timeout_seconds = {limits.text_worker_timeout_seconds:g}"
                          f": {found.note or 'no text'}")
    return (f"mails up to {limits.max_mail_bytes} bytes read; text worker ok within "
            f"{limits.text_worker_memory_bytes // 1_000_000} MB and "
            f"{limits.text_worker_timeout_seconds:g} s an attachment")


def _probe_docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:p><w:r><w:t>mailroom</w:t></w:r></w:p>")
    return buffer.getvalue()


_PROBE_DOCX = _probe_docx()


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
    require_writable_storage(path)
    return f"{path} is writable"


def _probe_maildir(path: Path) -> str:
    source = MaildirSource(path, "mailroom/processed", "mailroom/failed")
    return f"{path}: {source.count()} mails waiting"
