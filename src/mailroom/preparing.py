"""The database-free half of processing a mail: parse it and put its bytes in the file store.

It needs no session and no order, so a batch can be prepared in worker processes while
the main process records the mails one transaction at a time, in order. On two cores
this takes a large pass from about 175 to about 230 mails/s (benchmarks/ingest.py).
Small batches are prepared in-process, when the runner asks for each mail's result (after
it has counted the attempt: pipeline.py): starting workers costs more than it saves.

What one mail may cost is bounded by `[limits]` (issue 14): a mail larger than
`max_mail_bytes` is stored but only its header block is read; attachments are read for
text by the text worker (textworker.py: a memory and a time limit), each up to the
per-attachment limits and all of a mail's together up to the per-mail budgets.
"""

from __future__ import annotations

import logging
import mimetypes
import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from mailroom.config.sections import LimitsSettings
from mailroom.dedupe.extract import Extracted, TextLimits, extract_text, kind_of
from mailroom.dedupe.normalize import Content, normalize_content
from mailroom.dedupe.signature import Sketch, content_sketch
from mailroom.mailbox.base import FetchedMail
from mailroom.parsing.letter import Letter, parse_head, parse_letter
from mailroom.parsing.mime import MimeLimits
from mailroom.store.files import FileStore
from mailroom.textworker import close_workers, worker_for

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


DEFAULT_LIMITS = LimitsSettings()


def prepare(raw: bytes, received_at: datetime, raw_sha256: str, store_root: str,
            limits: LimitsSettings = DEFAULT_LIMITS) -> Prepared:
    """Parse a mail and store its raw bytes and attachments (idempotent: content-addressed)."""
    files = FileStore(Path(store_root))
    if len(raw) > limits.max_mail_bytes:
        return _too_large(raw, received_at, raw_sha256, files, limits)
    letter = parse_letter(raw, received_at, _mime_limits(limits))
    parts = []
    for position, part in enumerate(letter.attachments, start=1):
        name = part.filename or generated_name(position, part.content_type)
        stored = files.put_attachment(part.payload, part.sha256, name)
        parts.append(StoredPart(name, part.content_type, len(part.payload), part.sha256, stored))
    texts, notes = attachment_texts(letter, received_at, _Budget(limits))
    content, sketched = _dedupe_content(letter.body, texts)
    light = replace(letter, attachments=tuple(replace(a, payload=b"") for a in letter.attachments))
    return Prepared(light, files.put_raw(raw, raw_sha256), tuple(parts), texts, notes,
                    content, sketched)


def _mime_limits(limits: LimitsSettings) -> MimeLimits:
    return MimeLimits(max_parts=limits.max_mime_parts, max_depth=limits.max_mime_depth)


def _too_large(raw: bytes, received_at: datetime, raw_sha256: str, files: FileStore,
               limits: LimitsSettings) -> Prepared:
    """A mail past `max_mail_bytes`: recorded from its header block, raw bytes kept whole,
    its content not read (R13: never dropped)."""
    note = (f"content not read: the mail is {len(raw)} bytes, more than [limits] "
            f"max_mail_bytes = {limits.max_mail_bytes}")
    log.warning("a mail of %d bytes: %s", len(raw), note)
    letter = parse_head(raw, received_at, note)
    return Prepared(letter, files.put_raw(raw, raw_sha256), ())


def _dedupe_content(body: str, texts: tuple[str, ...]) -> tuple[Content | None, Sketch | None]:
    """R3's content half, here in the worker; on any surprise the recording process
    computes it again (and records the mail as failed only if it fails there too)."""
    try:
        content = normalize_content(body, texts)
        return content, content_sketch(content.text) if content.text else None
    except Exception:
        log.exception("normalising the text for dedupe failed; left to the recording process")
        return None, None


@dataclass
class _Budget:
    """What is left of one mail's [limits] for reading attachments' text."""

    limits: LimitsSettings
    text_bytes: int = -1
    inflated_bytes: int = -1

    def __post_init__(self) -> None:
        self.text_bytes = self.limits.max_text_bytes_per_mail
        self.inflated_bytes = self.limits.max_inflated_bytes_per_mail

    def read(self, filename: str, content_type: str, payload: bytes) -> Extracted:
        """One attachment's text, within what is left; counted against the budget."""
        limits = self.limits
        kind = kind_of(filename, content_type)
        if kind is None or len(payload) > limits.max_text_bytes_per_attachment:
            return extract_text(filename, content_type, payload, TextLimits(
                limits.max_text_bytes_per_attachment, max_chars=limits.max_text_chars))
        if len(payload) > self.text_bytes or self.inflated_bytes <= 0:
            return Extracted("", f"{filename}: not read: the mail's attachments are past "
                                 "[limits] max_text_bytes_per_mail / "
                                 "max_inflated_bytes_per_mail")
        self.text_bytes -= len(payload)
        text_limits = TextLimits(limits.max_text_bytes_per_attachment,
                                 min(limits.max_inflated_bytes_per_attachment,
                                     self.inflated_bytes), limits.max_text_chars)
        if kind == "txt":  # a decode of the first characters: nothing to fear
            extracted = extract_text(filename, content_type, payload, text_limits)
        else:
            worker = worker_for(limits.text_worker_memory_bytes,
                                limits.text_worker_timeout_seconds)
            extracted = worker.extract(filename, content_type, payload, text_limits)
        self.inflated_bytes -= extracted.inflated
        return extracted


def attachment_texts(letter: Letter, received_at: datetime, budget: _Budget | None = None,
                     depth: int = 0) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The text of each attachment (R3: a body of only "详见附件" is matched on these);
    an attached message gives its subject, body and its own attachments' text."""
    budget = budget if budget is not None else _Budget(DEFAULT_LIMITS)
    texts: list[str] = []
    notes: list[str] = []
    for part in letter.attachments:
        is_message = part.is_message or part.filename.lower().endswith(".eml")
        if is_message and depth == 0:
            inner = parse_letter(part.payload, received_at, _mime_limits(budget.limits))
            inner_texts, inner_notes = attachment_texts(inner, received_at, budget, depth + 1)
            texts.append("\n".join([inner.subject, inner.body, *inner_texts]))
            notes.extend(inner_notes)
            continue
        extracted = budget.read(part.filename, part.content_type, part.payload)
        texts.append(extracted.text)
        if extracted.note:
            notes.append(extracted.note)
    return tuple(texts), tuple(notes)


def _ignore_stop_signals() -> None:
    """Workers leave stopping to the main process: systemd signals the whole control group
    and a terminal's Ctrl-C the whole process group, and a worker killed mid-batch would
    fail the mails it held instead of leaving them for the next pass."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _Deferred(Future[Prepared]):
    """A mail prepared in this process when its result is first asked for: by then the
    runner has counted the attempt (a mail that kills the process is not retried forever)."""

    def __init__(self, work: Callable[[], Prepared]) -> None:
        super().__init__()
        self._work = work

    def result(self, timeout: float | None = None) -> Prepared:
        if not self.done():
            try:
                self.set_result(self._work())
            except Exception as exc:  # handed to the caller, who records the failure
                self.set_exception(exc)
        return super().result(timeout)


class Preparer:
    """Prepares batches in-process or, for large batches, in worker processes."""

    def __init__(self, store_root: Path, workers: int | None = None,
                 limits: LimitsSettings = DEFAULT_LIMITS) -> None:
        self.store_root = str(store_root)
        self.limits = limits
        # one worker per core: the main process mostly waits on the database and IMAP
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, mails: Sequence[tuple[FetchedMail, str]]) -> list[Future[Prepared]]:
        """Start preparing (mail, raw SHA-256) pairs; results come back in the same order."""
        if len(mails) >= POOL_THRESHOLD and self.workers > 0:
            try:
                pool = self._ensure_pool()
                return [pool.submit(prepare, m.raw, m.received_at, sha, self.store_root,
                                    self.limits) for m, sha in mails]
            except (BrokenProcessPool, OSError) as exc:
                log.warning("worker processes unavailable (%s); preparing in-process", exc)
                self.close()
        return [self._inline(mail, sha) for mail, sha in mails]

    def _inline(self, mail: FetchedMail, raw_sha256: str) -> Future[Prepared]:
        return _Deferred(lambda: prepare(mail.raw, mail.received_at, raw_sha256,
                                         self.store_root, self.limits))

    def again_inline(self, mail: FetchedMail, raw_sha256: str) -> Prepared:
        """Prepare a mail in this process after its worker process died (the pool is broken
        for every mail it held: the others are prepared again too, one at a time, each
        after its attempt is counted)."""
        self.close()
        return self._inline(mail, raw_sha256).result()

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn: a fresh interpreter, no copy of the parent's database connections
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context,
                                             initializer=_ignore_stop_signals)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        close_workers()
