"""The database-free half of processing a mail: parse it and put its bytes in the file store.

It needs no session and no order, so a batch can be prepared in worker processes while
the main process records the mails one transaction at a time, in order. On two cores
this takes a large pass from about 175 to about 230 mails/s (benchmarks/ingest.py).
Small batches are prepared in-process: starting workers costs more than it saves.
"""

from __future__ import annotations

import logging
import mimetypes
import multiprocessing
import os
import signal
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from mailroom.dedupe.extract import extract_text
from mailroom.dedupe.normalize import Content, normalize_content
from mailroom.dedupe.signature import Sketch, content_sketch
from mailroom.mailbox.base import FetchedMail
from mailroom.parsing.letter import Letter, parse_letter
from mailroom.store.files import FileStore

log = logging.getLogger(__name__)

POOL_THRESHOLD = 16  # a batch at least this large goes to worker processes


@dataclass(frozen=True)
class StoredPart:
    filename: str  # decoded original, or generated for a part that had none
    content_type: str
    size: int
    sha256: str
    stored_path: str


@dataclass(frozen=True)
class Prepared:
    """A parsed, stored mail. The letter's attachment payloads are emptied (they are in
    the file store at parts[i].stored_path): sending them back from a worker would cost
    as much as parsing."""

    letter: Letter
    raw_path: str
    parts: tuple[StoredPart, ...]
    attachment_texts: tuple[str, ...] = ()  # per part: its text for matching (R3), or ""
    text_notes: tuple[str, ...] = ()  # attachments whose text could not be read, and why
    content: Content | None = None  # R3: body + attachments normalised (dedupe/normalize)
    content_sketch: Sketch | None = None  # and its MinHash / band keys, when it has content


def generated_name(position: int, content_type: str) -> str:
    guessed = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ".bin"
    return f"attachment-{position}{guessed}"


def prepare(raw: bytes, received_at: datetime, raw_sha256: str, store_root: str) -> Prepared:
    """Parse a mail and store its raw bytes and attachments (idempotent: content-addressed)."""
    files = FileStore(Path(store_root))
    letter = parse_letter(raw, received_at)
    parts = []
    for position, part in enumerate(letter.attachments, start=1):
        name = part.filename or generated_name(position, part.content_type)
        stored = files.put_attachment(part.payload, part.sha256, name)
        parts.append(StoredPart(name, part.content_type, len(part.payload), part.sha256, stored))
    texts, notes = attachment_texts(letter, received_at)
    content, sketched = _dedupe_content(letter.body, texts)
    light = replace(letter, attachments=tuple(replace(a, payload=b"") for a in letter.attachments))
    return Prepared(light, files.put_raw(raw, raw_sha256), tuple(parts), texts, notes,
                    content, sketched)


def _dedupe_content(body: str, texts: tuple[str, ...]) -> tuple[Content | None, Sketch | None]:
    """R3's content half, here in the worker; on any surprise the recording process
    computes it again (and records the mail as failed only if it fails there too)."""
    try:
        content = normalize_content(body, texts)
        return content, content_sketch(content.text) if content.text else None
    except Exception:
        log.exception("normalising the text for dedupe failed; left to the recording process")
        return None, None


def attachment_texts(letter: Letter, received_at: datetime,
                     depth: int = 0) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The text of each attachment (R3: a body of only "详见附件" is matched on these);
    an attached message gives its subject, body and its own attachments' text."""
    texts: list[str] = []
    notes: list[str] = []
    for part in letter.attachments:
        is_message = part.is_message or part.filename.lower().endswith(".eml")
        if is_message and depth == 0:
            inner = parse_letter(part.payload, received_at)
            inner_texts, inner_notes = attachment_texts(inner, received_at, depth + 1)
            texts.append("\n".join([inner.subject, inner.body, *inner_texts]))
            notes.extend(inner_notes)
            continue
        extracted = extract_text(part.filename, part.content_type, part.payload)
        texts.append(extracted.text)
        if extracted.note:
            notes.append(extracted.note)
    return tuple(texts), tuple(notes)


def _leave_signals_to_the_parent() -> None:
    """A worker ignores SIGTERM and SIGINT (systemd and a terminal signal the whole process
    group): the parent finishes the mail in hand, then shuts its workers down itself."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Preparer:
    """Prepares batches in-process or, for large batches, in worker processes."""

    def __init__(self, store_root: Path, workers: int | None = None) -> None:
        self.store_root = str(store_root)
        # one worker per core: the main process mostly waits on the database and IMAP
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, mails: Sequence[tuple[FetchedMail, str]]) -> list[Future[Prepared]]:
        """Start preparing (mail, raw SHA-256) pairs; results come back in the same order."""
        if len(mails) >= POOL_THRESHOLD and self.workers > 0:
            try:
                pool = self._ensure_pool()
                return [pool.submit(prepare, m.raw, m.received_at, sha, self.store_root)
                        for m, sha in mails]
            except (BrokenProcessPool, OSError) as exc:
                log.warning("worker processes unavailable (%s); preparing in-process", exc)
                self.close()
        return [self._inline(mail, sha) for mail, sha in mails]

    def _inline(self, mail: FetchedMail, raw_sha256: str) -> Future[Prepared]:
        future: Future[Prepared] = Future()
        try:
            future.set_result(prepare(mail.raw, mail.received_at, raw_sha256, self.store_root))
        except Exception as exc:  # handed to the caller, who records the failure
            future.set_exception(exc)
        return future

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn: a fresh interpreter, no copy of the parent's database connections
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context,
                                             initializer=_leave_signals_to_the_parent)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
