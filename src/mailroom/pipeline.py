"""The runner: a pass over the mailbox, batch by batch, one transaction a mail.

It owns the loop, the batches (prepared in worker processes while the last is recorded),
the transaction, the retries and filing away; what a mail *means* is decided by the handler
for its kind (handlers/). The mailbox is touched only after the commit (STYLE 4). A mail
whose processing raises is rolled back and left in the inbox for the next pass; after
`max_attempts` failures it is recorded as `failed` with the reason and moved to the failed
folder (R13). Each attempt is counted, and committed, *before* the mail is parsed and
recorded: a mail whose processing kills the whole process (the OOM killer, a segfault,
SIGKILL) cannot take it down forever, it is filed away as failed once it has done so
`max_attempts` times. A mail already
recorded (same location, or the same bytes) is never recorded again, only filed away.

One commit a mail. The attempt at the next mail of the batch is counted in the transaction
that records this one (both or neither are committed), so it is still committed before
that mail's work begins, without a commit of its own; the first mail of a batch, and a
mail after one that failed, count theirs alone. A pass that stops, or a mail found recorded
already, takes back an attempt counted ahead and not made. A batch is not one transaction
with a savepoint a mail: a mail that kills the process would take the batch's recorded
mails with it, and its attempt, counted inside, would never be committed (issue 14).
"""

from __future__ import annotations

import email
import email.policy
import logging
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from mailroom import officers
from mailroom.clock import Clock
from mailroom.config import Settings
from mailroom.dedupe.engine import Dedupe
from mailroom.errors import StoreError
from mailroom.handlers import HANDLERS, Incoming, Roster, Services
from mailroom.mailbox.base import FetchedMail, MailKey, MailSource
from mailroom.outbox.outgoing import Outgoing
from mailroom.outbox.sender import DrainReport
from mailroom.parsing.letter import not_a_message
from mailroom.preparing import Prepared, Preparer
from mailroom.rules.classify import ClassifyContext, classify
from mailroom.rules.subject import UnitName, parse_subject
from mailroom.store import queries
from mailroom.store.files import FileStore, sha256_hex
from mailroom.vocabulary import Kind

log = logging.getLogger(__name__)

# the last error of an attempt that never got to say why: the process ended during it
INTERRUPTED = "interrupted: the process ended while processing this mail"
# tests: a process that meets a mail containing this text is SIGKILLed right after the
# attempt is counted, as the OOM killer would kill it (tests/test_bounded.py)
KILL_HOOK = "MAILROOM_TEST_KILL_AT"
HELD_BATCH_BYTES = 16 * 2**20  # a batch larger than this is not held while the next is fetched

Disposition = Literal["processed", "failed", "retry"]


@dataclass(frozen=True)
class Outcome:
    key: MailKey
    disposition: Disposition
    kind: str | None = None
    number: str | None = None
    already_recorded: bool = False


@dataclass
class PassReport:
    outcomes: list[Outcome] = field(default_factory=list)
    outbox: DrainReport | None = None  # what the drain after the pass sent (poll --once)
    seconds: dict[str, float] = field(default_factory=dict)  # time per stage (benchmarks)

    @property
    def fetched(self) -> int:
        return len(self.outcomes)

    def count(self, disposition: Disposition) -> int:
        return sum(1 for outcome in self.outcomes if outcome.disposition == disposition)

    @property
    def kinds(self) -> Counter[str]:
        return Counter(o.kind for o in self.outcomes if o.kind and not o.already_recorded)

    def summary(self) -> str:
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(self.kinds.items())) or "none new"
        already = sum(1 for outcome in self.outcomes if outcome.already_recorded)
        sent = f"; {self.outbox.summary()}" if self.outbox else ""
        return (f"{self.fetched} mails: {kinds}; {already} already recorded; "
                f"{self.count('retry')} to retry{sent}")


@dataclass
class _Started:
    batch: list[FetchedMail]
    known: queries.KnownMail
    futures: dict[MailKey, Future[Prepared]]
    hashes: dict[MailKey, str]  # the raw SHA-256 of each mail to prepare

    def ahead(self, position: int) -> tuple[FetchedMail, str] | None:
        """The mail after `position`, when it is one to record (its attempt to count)."""
        if position + 1 >= len(self.batch):
            return None
        mail = self.batch[position + 1]
        sha = self.hashes.get(mail.key)
        if sha is None or self.known.kind_of(mail.key, sha) is not None:
            return None
        return (mail, sha) if not_a_message(mail.raw) is None else None


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        files: FileStore,
        clock: Clock,
        max_attempts: int = 3,
        quiet: str | None = None,
    ) -> None:
        """`quiet`: why no reply or alert is to be queued at all (a backlog import without
        --receipts; the messages' detail says so), else None."""
        self.settings = settings
        self.sessions = sessions
        self.files = files
        self.clock = clock
        self.max_attempts = max_attempts
        self.units = [UnitName(u.name, tuple(u.aliases)) for u in settings.units]
        self.context_base = (
            frozenset(settings.own_addresses),
            frozenset(address.lower() for address in settings.office.addresses),
        )
        self.preparer = Preparer(files.root, limits=settings.limits)
        self.seconds: dict[str, float] = {}
        self._counted: set[MailKey] = set()  # attempts counted ahead, committed, not yet made
        self.services = Services(settings, clock, Outgoing(settings, clock, quiet),
                                 Dedupe(settings.dedupe), Roster(), self._timed)

    @contextmanager
    def _timed(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            self.seconds[stage] = self.seconds.get(stage, 0.0) + elapsed

    def close(self) -> None:
        self.preparer.close()

    def run_pass(self, source: MailSource, batch_size: int = 50,
                 stop: Callable[[], bool] | None = None) -> PassReport:
        """Process every mail waiting in `source`, filing each away after its commit.
        `stop` is asked before each mail: once it says True the pass ends, and the mails
        not started stay in the inbox for the next pass."""
        self._sync_config_officers()
        self.services.roster.changed()
        self.seconds = {}
        report = PassReport(seconds=self.seconds)
        stopping = stop or (lambda: False)
        waiting: _Started | None = None
        for batch in source.fetch(batch_size):
            started = self._start(batch)  # workers prepare this batch while the last is
            if waiting is not None:       # recorded
                report.outcomes.extend(self._finish(waiting, source, stopping))
            waiting = started
            if sum(len(mail.raw) for mail in batch) > HELD_BATCH_BYTES:
                # a large batch is recorded before the next is fetched: not two in memory
                report.outcomes.extend(self._finish(waiting, source, stopping))
                waiting = None
            if stopping():
                break
        if waiting is not None:
            report.outcomes.extend(self._finish(waiting, source, stopping))
        return report

    def _start(self, batch: list[FetchedMail]) -> _Started:
        known = self._recorded_among(batch)
        new = [(m, sha256_hex(m.raw)) for m in batch]
        new = [(m, sha) for m, sha in new if known.kind_of(m.key, sha) is None]
        futures = dict(zip((m.key for m, _ in new), self.preparer.submit(new), strict=True))
        return _Started(batch, known, futures, {m.key: sha for m, sha in new})

    def _finish(self, started: _Started, source: MailSource,
                stopping: Callable[[], bool]) -> list[Outcome]:
        """Record a batch in order, one transaction a mail, then file it away."""
        outcomes = []
        for position, mail in enumerate(started.batch):
            if stopping():
                for future in started.futures.values():
                    future.cancel()
                break
            outcomes.append(self.process(mail, started.known, started.futures.get(mail.key),
                                         started.ahead(position)))
        for mail in started.batch:  # stopped: the mail ahead is not attempted
            self._take_back(mail)
        source.mark_processed([o.key for o in outcomes if o.disposition == "processed"])
        source.mark_failed([o.key for o in outcomes if o.disposition == "failed"])
        return outcomes

    def _sync_config_officers(self) -> None:
        with self.sessions.begin() as session:
            officers.sync_from_config(session, self.settings, self.clock.now())

    def _recorded_among(self, batch: Sequence[FetchedMail]) -> queries.KnownMail:
        with self.sessions() as session:
            return queries.recorded_among(session, [m.key for m in batch],
                                          [sha256_hex(m.raw) for m in batch])

    def process(
        self,
        mail: FetchedMail,
        known: queries.KnownMail | None = None,
        prepared: Future[Prepared] | None = None,
        ahead: tuple[FetchedMail, str] | None = None,
    ) -> Outcome:
        """Record one mail in its own transaction. `known`: what a look-up for the whole
        batch found already recorded (else this mail is looked up on its own); `prepared`:
        the mail parsed and stored by a worker (else that is done here); `ahead`: the next
        mail to record and its raw hash, whose attempt is counted in this transaction."""
        raw_sha256 = sha256_hex(mail.raw)
        if known is None:
            known = self._recorded_among([mail])
        existing = known.kind_of(mail.key, raw_sha256)
        if existing is not None:
            self._take_back(mail)
            return self._already_recorded(mail.key, existing)
        why_not = not_a_message(mail.raw)
        if why_not is not None:  # nothing to parse, number or answer: failed at once (R13)
            self._take_back(mail)
            if prepared is not None:
                prepared.cancel()
            log.warning("uid %s is not a mail message (%s); moving it to the failed folder",
                        mail.key.uid, why_not)
            outcome = self._record_failed(mail, raw_sha256, f"not a mail message: {why_not}")
            if outcome.disposition == "failed":
                known.add(mail.key, raw_sha256, Kind.FAILED)
            return outcome
        given_up = self._count_attempt(mail, raw_sha256)
        if given_up is not None:
            if prepared is not None:
                prepared.cancel()
            if given_up.disposition == "failed":
                known.add(mail.key, raw_sha256, Kind.FAILED)
            return given_up
        try:
            with self.sessions.begin() as session:
                if prepared is None:
                    prepared = self.preparer.submit([(mail, raw_sha256)])[0]
                with self._timed("parse (waiting for the workers)"):
                    ready = self._ready(mail, raw_sha256, prepared)
                with self._timed("record (incl. first report, replies)"):
                    incoming = self._incoming(mail, raw_sha256, ready)
                    number = HANDLERS[incoming.kind].handle(session, incoming, self.services)
                    queries.clear_failures(session, mail.key)
                counted_ahead = self._count_ahead(session, ahead)
        except (OperationalError, StoreError):
            self._uncount_attempt(mail)
            raise  # the database or the file store is unavailable: stop, blame no mail
        except IntegrityError:
            # recorded meanwhile (the unique location / hash constraints are the last guard)
            with self.sessions() as session:
                recorded = queries.find_recorded(session, mail.key, raw_sha256)
            if recorded is None:
                raise
            return self._already_recorded(mail.key, recorded.kind)
        except Exception as exc:  # one bad mail must never stop the others
            log.exception("processing %s uid %s failed", mail.key.mailbox, mail.key.uid)
            return self._failed_attempt(mail, raw_sha256, exc)
        if counted_ahead is not None:
            self._counted.add(counted_ahead)
        known.add(mail.key, raw_sha256, incoming.kind)
        log.info("recorded uid %s as %s%s", mail.key.uid, incoming.kind,
                 f" {number}" if number else "")
        return Outcome(mail.key, "processed", incoming.kind, number)

    def _count_attempt(self, mail: FetchedMail, raw_sha256: str) -> Outcome | None:
        """Count this attempt, committed before any work on the mail: if the work kills the
        process, the count stays. A mail already tried `max_attempts` times is given up
        instead (recorded as failed, the outcome returned). An attempt counted ahead, in
        the commit of the mail before, is not counted again."""
        if mail.key in self._counted:
            self._counted.discard(mail.key)
        else:
            with self.sessions.begin() as session:
                counted = queries.count_attempt(session, mail.key, raw_sha256, INTERRUPTED,
                                                self.clock.now(), self.max_attempts)
            if counted is None:
                return self._give_up(mail, raw_sha256)
        hook = os.environ.get(KILL_HOOK)
        if hook and hook.encode() in mail.raw:
            os.kill(os.getpid(), signal.SIGKILL)
        return None

    def _count_ahead(self, session: Session,
                     ahead: tuple[FetchedMail, str] | None) -> MailKey | None:
        """Count the next mail's attempt in this mail's transaction; its key when counted
        (not when that mail has had its `max_attempts`: it is given up on its turn)."""
        if ahead is None:
            return None
        mail, raw_sha256 = ahead
        counted = queries.count_attempt(session, mail.key, raw_sha256, INTERRUPTED,
                                        self.clock.now(), self.max_attempts)
        return None if counted is None else mail.key

    def _take_back(self, mail: FetchedMail) -> None:
        """Take back an attempt counted ahead at a mail that is not attempted after all."""
        if mail.key in self._counted:
            self._counted.discard(mail.key)
            self._uncount_attempt(mail)

    def _give_up(self, mail: FetchedMail, raw_sha256: str) -> Outcome:
        """A mail tried `max_attempts` times: recorded as failed, saying why."""
        with self.sessions() as session:
            attempts, last_error = queries.attempts_so_far(session, mail.key)
        reason = (f"{INTERRUPTED} (killed: out of memory, a crash or a signal), "
                  f"{attempts} times" if last_error == INTERRUPTED
                  else f"{last_error} (after {attempts} attempts)")
        log.error("uid %s: %s; moving it to the failed folder", mail.key.uid, reason)
        return self._record_failed(mail, raw_sha256, reason)

    def _uncount_attempt(self, mail: FetchedMail) -> None:
        try:
            with self.sessions.begin() as session:
                queries.uncount_attempt(session, mail.key)
        except Exception:  # the database itself may be what failed: the count stays
            log.warning("uid %s: the attempt stays counted", mail.key.uid)

    def _ready(self, mail: FetchedMail, raw_sha256: str, prepared: Future[Prepared]) -> Prepared:
        """The prepared mail; prepared again here when its worker process died."""
        try:
            return prepared.result()
        except BrokenProcessPool:
            log.warning("uid %s: the preparing worker process died; preparing it here",
                        mail.key.uid)
            return self.preparer.again_inline(mail, raw_sha256)

    def _incoming(self, mail: FetchedMail, raw_sha256: str, prepared: Prepared) -> Incoming:
        """The mail as parsed, its subject read (R1) and its kind decided."""
        letter = prepared.letter
        subject = parse_subject(letter.subject, self.units)
        own, office = self.context_base
        classification = classify(letter, ClassifyContext(own, office, subject.is_roster))
        return Incoming(mail, raw_sha256, prepared, subject, classification)

    def _already_recorded(self, key: MailKey, kind: str) -> Outcome:
        disposition: Disposition = "failed" if kind == Kind.FAILED else "processed"
        return Outcome(key, disposition, kind, already_recorded=True)

    def _failed_attempt(self, mail: FetchedMail, raw_sha256: str, exc: Exception) -> Outcome:
        """Say why the attempt (counted before it began) failed, outside the rolled-back
        transaction; after the last one the mail is recorded as failed and goes to the
        failed folder."""
        reason = f"{type(exc).__name__}: {exc}"[:2000]
        try:
            with self.sessions.begin() as session:
                attempts = queries.note_failure(session, mail.key, reason, self.clock.now())
        except Exception:
            log.exception("uid %s: could not count the failed attempt; it stays in the inbox",
                          mail.key.uid)
            return Outcome(mail.key, "retry")
        if attempts < self.max_attempts:
            log.warning("uid %s: attempt %d of %d failed; retrying next pass",
                        mail.key.uid, attempts, self.max_attempts)
            return Outcome(mail.key, "retry")
        log.error("uid %s: failed %d times; moving it to the failed folder", mail.key.uid,
                  attempts)
        return self._record_failed(mail, raw_sha256, f"{reason} (after {attempts} attempts)")

    def _record_failed(self, mail: FetchedMail, raw_sha256: str, reason: str) -> Outcome:
        """Record the mail as `failed` with `reason`. This path must not fail in turn: when
        the row with what its headers say cannot be written, a bare row (location, hash,
        time, reason in ASCII) is; the raw bytes in the file store keep the truth."""
        raw_path = self.files.put_raw(mail.raw, raw_sha256)  # StoreError: the pass stops
        for build in (_failed_row, _bare_failed_row):
            try:
                row = build(mail, raw_sha256, raw_path, reason, self.clock.now())
                with self.sessions.begin() as session:
                    queries.insert_message(session, row)
                return Outcome(mail.key, "failed", Kind.FAILED)
            except IntegrityError:
                with self.sessions() as session:
                    recorded = queries.find_recorded(session, mail.key, raw_sha256)
                if recorded is not None:
                    return self._already_recorded(mail.key, recorded.kind)
                log.exception("uid %s: could not record the failure", mail.key.uid)
            except OperationalError:
                raise
            except Exception:
                log.exception("uid %s: could not record the failure", mail.key.uid)
        log.error("uid %s: the failure could not be recorded; it stays in the inbox",
                  mail.key.uid)
        return Outcome(mail.key, "retry")


def _failed_row(mail: FetchedMail, raw_sha256: str, raw_path: str, reason: str,
                now: datetime) -> dict[str, Any]:
    """The row of a mail that failed for good, with what its header block says."""
    row = _bare_failed_row(mail, raw_sha256, raw_path, reason, now)
    headers = email.message_from_bytes(mail.raw, policy=email.policy.compat32)
    row.update(message_id=str(headers.get("Message-ID", "")).strip().strip("<>"),
               sender=str(headers.get("From", "")), subject=str(headers.get("Subject", "")),
               reason=reason)
    return row


def _bare_failed_row(mail: FetchedMail, raw_sha256: str, raw_path: str, reason: str,
                     now: datetime) -> dict[str, Any]:
    """Nothing taken from the mail but where it is, its size and hash."""
    return {
        "mailbox": mail.key.mailbox, "uidvalidity": mail.key.uidvalidity,
        "uid": mail.key.uid, "raw_sha256": raw_sha256, "raw_size": len(mail.raw),
        "raw_path": raw_path, "message_id": "", "sender": "", "subject": "",
        "date_header": None, "received_at": mail.received_at, "kind": Kind.FAILED,
        "reason": reason.replace("\x00", "").encode("ascii", "backslashreplace").decode(),
        "detail": {},
        "processed_at": now,
    }
