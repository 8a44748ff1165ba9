"""One mail, one transaction: parse → classify → subject rules → checks → store.

The mailbox is touched only after the commit (STYLE 4). A mail whose processing raises is
rolled back and left in the inbox for the next pass; after `max_attempts` failures it is
recorded as `failed` with the reason and moved to the failed folder (R13). A mail already
recorded (same location, or the same bytes) is never recorded again, only filed away.
"""

from __future__ import annotations

import email
import email.policy
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from mailroom import officers
from mailroom.clock import Clock
from mailroom.config import Settings
from mailroom.dedupe.engine import Dedupe, Item
from mailroom.mailbox.base import FetchedMail, MailKey, MailSource
from mailroom.outbox.outgoing import Outgoing
from mailroom.outbox.sender import DrainReport
from mailroom.parsing.letter import Letter
from mailroom.preparing import Prepared, Preparer
from mailroom.rules.authresults import authentication_failure
from mailroom.rules.checks import CheckInput, run_checks
from mailroom.rules.classify import ClassifyContext, classify, command_word
from mailroom.rules.subject import ParsedSubject, UnitName, parse_subject
from mailroom.rules.urgent import elements_from, missing_elements
from mailroom.store import queries
from mailroom.store.files import FileStore, sha256_hex
from mailroom.store.models import StoredAttachment
from mailroom.vocabulary import WarningCode, month_of

log = logging.getLogger(__name__)

Disposition = Literal["processed", "failed", "retry"]
_OFFICER_NAME = re.compile(r"信息员[:：\s]*(?!名单)([\u4e00-\u9fff·]{2,5})")


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


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        files: FileStore,
        clock: Clock,
        max_attempts: int = 3,
    ) -> None:
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
        self._officers: dict[str, str] | None = None  # address -> unit, read once a pass
        self.preparer = Preparer(files.root)
        self.dedupe = Dedupe(settings.dedupe)
        self.outgoing = Outgoing(settings, clock)
        self.urgent_elements = elements_from(settings.urgent)
        self.seconds: dict[str, float] = {}

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
        `stop` is asked before each mail is started: once it says True the pass ends; the
        mails not started stay in the inbox untouched and their preparation is cancelled."""
        stopping = stop or (lambda: False)
        self._sync_config_officers()
        self._officers = None
        self.seconds = {}
        report = PassReport(seconds=self.seconds)
        waiting: _Started | None = None
        for batch in source.fetch(batch_size):
            started = self._start(batch)  # workers prepare this batch while the last is
            if waiting is not None:       # recorded
                report.outcomes.extend(self._finish(waiting, source, stopping))
            waiting = started
            if stopping():
                break  # fetch no further batch
        if waiting is not None:
            report.outcomes.extend(self._finish(waiting, source, stopping))
        return report

    def _start(self, batch: list[FetchedMail]) -> _Started:
        known = self._recorded_among(batch)
        new = [(m, sha256_hex(m.raw)) for m in batch]
        new = [(m, sha) for m, sha in new if known.kind_of(m.key, sha) is None]
        futures = dict(zip((m.key for m, _ in new), self.preparer.submit(new), strict=True))
        return _Started(batch, known, futures)

    def _finish(self, started: _Started, source: MailSource,
                stop: Callable[[], bool]) -> list[Outcome]:
        """Record a batch in order, one transaction a mail, then file it away."""
        outcomes = []
        for mail in started.batch:
            if stop():
                for future in started.futures.values():
                    future.cancel()  # those already done or running are left as they are
                break
            outcomes.append(self.process(mail, started.known, started.futures.get(mail.key)))
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
    ) -> Outcome:
        """Record one mail in its own transaction. `known`: what a look-up for the whole
        batch found already recorded (else this mail is looked up on its own); `prepared`:
        the mail parsed and stored by a worker (else that is done here)."""
        raw_sha256 = sha256_hex(mail.raw)
        try:
            with self.sessions.begin() as session:
                if known is None:
                    known = queries.recorded_among(session, [mail.key], [raw_sha256])
                existing = known.kind_of(mail.key, raw_sha256)
                if existing is not None:
                    return self._already_recorded(mail.key, existing)
                if prepared is None:
                    prepared = self.preparer.submit([(mail, raw_sha256)])[0]
                with self._timed("parse (waiting for the workers)"):
                    ready = prepared.result()
                with self._timed("record (incl. first report, replies)"):
                    kind, number = self._record(session, mail, raw_sha256, ready)
        except OperationalError:
            raise  # the database itself is unavailable: stop the pass, blame no mail
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
        known.add(mail.key, raw_sha256, kind)
        if kind == "roster":
            self._officers = None  # a reporter was registered: read them again
        log.info("recorded uid %s as %s%s", mail.key.uid, kind, f" {number}" if number else "")
        return Outcome(mail.key, "processed", kind, number)

    def _officer_unit(self, session: Session, address: str) -> str | None:
        if self._officers is None:
            self._officers = queries.officer_units(session)
        return self._officers.get(address.lower())

    def _already_recorded(self, key: MailKey, kind: str) -> Outcome:
        disposition: Disposition = "failed" if kind == "failed" else "processed"
        return Outcome(key, disposition, kind, already_recorded=True)

    def _record(
        self, session: Session, mail: FetchedMail, raw_sha256: str, prepared: Prepared
    ) -> tuple[str, str | None]:
        """Write what one mail is; returns its kind and, for a submission, its number."""
        letter = prepared.letter
        parsed = parse_subject(letter.subject, self.units)
        own, office = self.context_base
        verdict = classify(letter, ClassifyContext(own, office, parsed.is_roster))
        message = self._message_row(mail, raw_sha256, prepared.raw_path, letter, verdict.kind)
        message["detail"] = {"reason": verdict.reason} if verdict.reason else {}
        if letter.parse_warnings:
            message["detail"]["parse_warnings"] = list(letter.parse_warnings)
        if prepared.text_notes:
            message["detail"]["unread_attachments"] = list(prepared.text_notes)
        number = None
        if verdict.kind == "roster":
            message_pk = self._record_roster(session, message, letter, parsed)
        elif verdict.kind == "submission":
            message_pk, number = self._record_submission(
                session, message, letter, parsed, prepared)
        else:
            if verdict.kind == "command":
                message["detail"]["command"] = command_word(letter.subject)
            message_pk = queries.insert_message(session, message)
        queries.insert_rows(session, StoredAttachment, [
            {**asdict(part), "position": position, "message_pk": message_pk}
            for position, part in enumerate(prepared.parts, start=1)])
        return verdict.kind, number

    def _message_row(
        self, mail: FetchedMail, raw_sha256: str, raw_path: str, letter: Letter | None,
        kind: str,
    ) -> dict[str, Any]:
        return {
            "mailbox": mail.key.mailbox, "uidvalidity": mail.key.uidvalidity,
            "uid": mail.key.uid, "raw_sha256": raw_sha256, "raw_size": len(mail.raw),
            "raw_path": raw_path,
            "message_id": letter.message_id if letter else "",
            "sender": letter.sender if letter else "",
            "subject": letter.subject if letter else "",
            "date_header": letter.date if letter else None,
            "received_at": mail.received_at, "kind": kind, "reason": None, "detail": {},
            "processed_at": self.clock.now(),
        }

    def _record_roster(
        self, session: Session, message: dict[str, Any], letter: Letter, parsed: ParsedSubject
    ) -> int:
        """R7: register the sender for the unit the subject names."""
        unit = parsed.unit or self._officer_unit(session, letter.sender)
        if unit is None or not letter.sender:
            why = "no unit recognised in the subject" if letter.sender else "no sender address"
            message["detail"].update(registered=False, why=why)
            message_pk = queries.insert_message(session, message)
            self.outgoing.after_roster(session, message_pk, letter, message["detail"])
            return message_pk
        found = _OFFICER_NAME.search(parsed.title or letter.subject)
        name = found.group(1) if found else letter.sender_name
        message["detail"].update(registered=True, unit=unit, name=name)
        message_pk = queries.insert_message(session, message)
        queries.register_officer(session, address=letter.sender, unit=unit, source="roster",
                                 at=self.clock.now(), name=name, message_pk=message_pk)
        self.outgoing.after_roster(session, message_pk, letter, message["detail"])
        return message_pk

    def _record_submission(
        self,
        session: Session,
        message: dict[str, Any],
        letter: Letter,
        parsed: ParsedSubject,
        prepared: Prepared,
    ) -> tuple[int, str]:
        parts = prepared.parts
        registered_unit = self._officer_unit(session, letter.sender)
        unit, unit_source = parsed.unit, "subject"
        if unit is None:
            unit, unit_source = registered_unit, "sender" if registered_unit else "none"
        names = [part.filename for part in parts]
        checks = run_checks(CheckInput(unit, parsed.title, names),
                            self.settings.checks.model_dump())
        warnings = list(checks.warnings)
        if unit_source == "sender":
            warnings.append("unit_from_sender")
        if unit is None:
            warnings.append("no_unit")
        if registered_unit is None:
            warnings.append("unknown_sender")
        spoofed = self._authentication_failure(letter)
        if spoofed:  # no credit, no receipt; the flag is for the office's digest
            warnings.append(WarningCode.SENDER_AUTHENTICATION_FAILED)
            message["detail"]["flag"] = f"{WarningCode.SENDER_AUTHENTICATION_FAILED}: {spoofed}"
        month = month_of(message["received_at"], self.settings.zone)
        number = queries.next_number(session, month)
        message_pk = queries.insert_message(session, message)
        submission_pk = queries.insert_submission(session, {
            "message_pk": message_pk, "number": number, "month": month, "unit": unit,
            "unit_source": unit_source, "title": parsed.title, "sender": letter.sender,
            "received_at": message["received_at"],
            "status": "rejected" if checks.rejected_by or spoofed
            else "counted" if unit else "unassigned",
            "priority": parsed.priority, "followup": parsed.followup,
            "duplicate_of_id": None, "score": None, "warnings": warnings,
        })
        with self._timed("first report"):
            self.dedupe.judge(session, submission_pk,
                              Item(parsed.title, letter.body, prepared.attachment_texts,
                                   prepared.content, prepared.content_sketch))
        missing = missing_elements(_report_text(parsed, letter, prepared), self.urgent_elements) \
            if parsed.priority == "urgent" else []
        with self._timed("queue replies"):
            self.outgoing.after_submission(session, submission_pk, letter, names,
                                           message["detail"], missing)
        return message_pk, number

    def _authentication_failure(self, letter: Letter) -> str | None:
        """Why the trusted server says the From domain failed DKIM/SPF/DMARC, or None."""
        trusted = self.settings.imap.trusted_authserv_id if self.settings.imap else ""
        domain = letter.sender.rsplit("@", 1)[1] if "@" in letter.sender else ""
        return authentication_failure(letter.headers.get("authentication-results", ()),
                                      trusted, domain)

    def _failed_attempt(self, mail: FetchedMail, raw_sha256: str, exc: Exception) -> Outcome:
        reason = f"{type(exc).__name__}: {exc}"[:2000]
        try:
            with self.sessions.begin() as session:
                attempts = queries.record_failure(session, mail.key, raw_sha256, reason,
                                                  self.clock.now())
            if attempts < self.max_attempts:
                log.warning("uid %s: attempt %d of %d failed; retrying next pass",
                            mail.key.uid, attempts, self.max_attempts)
                return Outcome(mail.key, "retry")
            with self.sessions.begin() as session:
                queries.insert_message(
                    session, self._failed_message(mail, raw_sha256, reason, attempts))
        except Exception:
            log.exception("uid %s: could not record the failure; it stays in the inbox",
                          mail.key.uid)
            return Outcome(mail.key, "retry")
        log.error("uid %s: failed %d times; moving it to the failed folder", mail.key.uid,
                  attempts)
        return Outcome(mail.key, "failed", "failed")

    def _failed_message(
        self, mail: FetchedMail, raw_sha256: str, reason: str, attempts: int
    ) -> dict[str, Any]:
        """The row of a mail that failed for good: its raw bytes are kept all the same."""
        raw_path = self.files.put_raw(mail.raw, raw_sha256)
        row = self._message_row(mail, raw_sha256, raw_path, None, "failed")
        headers = email.message_from_bytes(mail.raw, policy=email.policy.compat32)
        row.update(
            sender=str(headers.get("From", ""))[:320],
            subject=str(headers.get("Subject", "")),
            message_id=str(headers.get("Message-ID", "")).strip().strip("<>"),
            reason=f"{reason} (after {attempts} attempts)",
        )
        return row


def _report_text(parsed: ParsedSubject, letter: Letter, prepared: Prepared) -> str:
    """The text the R5 elements are looked for in: title, body and the attachments' text."""
    return "\n".join((parsed.title, letter.body, *prepared.attachment_texts))
