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
import mimetypes
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from mailroom.clock import Clock
from mailroom.config import Settings
from mailroom.mailbox.base import FetchedMail, MailKey, MailSource
from mailroom.parsing.letter import Letter, parse_letter
from mailroom.rules.checks import CheckInput, run_checks
from mailroom.rules.classify import ClassifyContext, classify, command_word
from mailroom.rules.subject import ParsedSubject, UnitName, parse_subject
from mailroom.store import queries
from mailroom.store.files import FileStore, sha256_hex
from mailroom.store.models import Message, StoredAttachment, Submission

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
        return (f"{self.fetched} mails: {kinds}; {already} already recorded; "
                f"{self.count('retry')} to retry")


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

    def run_pass(self, source: MailSource, batch_size: int = 50) -> PassReport:
        """Process every mail waiting in `source`, filing each away after its commit."""
        self._sync_config_officers()
        report = PassReport()
        for batch in source.fetch(batch_size):
            outcomes = [self.process(mail) for mail in batch]
            report.outcomes.extend(outcomes)
            source.mark_processed([o.key for o in outcomes if o.disposition == "processed"])
            source.mark_failed([o.key for o in outcomes if o.disposition == "failed"])
        return report

    def _sync_config_officers(self) -> None:
        assignments = [(a, u.name) for u in self.settings.units for a in u.officers]
        with self.sessions.begin() as session:
            queries.sync_config_officers(session, assignments, self.clock.now())

    def process(self, mail: FetchedMail) -> Outcome:
        raw_sha256 = sha256_hex(mail.raw)
        try:
            with self.sessions.begin() as session:
                existing = queries.find_recorded(session, mail.key, raw_sha256)
                if existing is not None:
                    return self._already_recorded(mail.key, existing)
                message = self._record(session, mail, raw_sha256)
                number = message.submission.number if message.submission else None
                outcome = Outcome(mail.key, "processed", message.kind, number)
        except OperationalError:
            raise  # the database itself is unavailable: stop the pass, blame no mail
        except Exception as exc:  # one bad mail must never stop the others
            log.exception("processing %s uid %s failed", mail.key.mailbox, mail.key.uid)
            return self._failed_attempt(mail, raw_sha256, exc)
        log.info("recorded uid %s as %s%s", mail.key.uid, outcome.kind,
                 f" {outcome.number}" if outcome.number else "")
        return outcome

    def _already_recorded(self, key: MailKey, existing: Message) -> Outcome:
        disposition: Disposition = "failed" if existing.kind == "failed" else "processed"
        return Outcome(key, disposition, existing.kind, already_recorded=True)

    def _record(self, session: Session, mail: FetchedMail, raw_sha256: str) -> Message:
        letter = parse_letter(mail.raw, mail.received_at)
        parsed = parse_subject(letter.subject, self.units)
        own, office = self.context_base
        verdict = classify(letter, ClassifyContext(own, office, parsed.is_roster))
        message = self._new_message(mail, raw_sha256, letter, verdict.kind)
        message.detail = {"reason": verdict.reason} if verdict.reason else {}
        if letter.parse_warnings:
            message.detail["parse_warnings"] = list(letter.parse_warnings)
        session.add(message)
        session.flush()
        if verdict.kind == "roster":
            self._register_roster(session, message, letter, parsed)
        elif verdict.kind == "command":
            message.detail = {**message.detail, "command": command_word(letter.subject)}
        elif verdict.kind == "submission":
            self._record_submission(session, message, letter, parsed)
        return message

    def _new_message(
        self, mail: FetchedMail, raw_sha256: str, letter: Letter | None, kind: str
    ) -> Message:
        return Message(
            mailbox=mail.key.mailbox, uidvalidity=mail.key.uidvalidity, uid=mail.key.uid,
            raw_sha256=raw_sha256, raw_size=len(mail.raw),
            raw_path=self.files.put_raw(mail.raw, raw_sha256),
            message_id=letter.message_id if letter else "",
            sender=letter.sender if letter else "",
            subject=letter.subject if letter else "",
            date_header=letter.date if letter else None,
            received_at=mail.received_at, kind=kind, processed_at=self.clock.now(),
        )

    def _register_roster(
        self, session: Session, message: Message, letter: Letter, parsed: ParsedSubject
    ) -> None:
        unit = parsed.unit or queries.officer_unit(session, letter.sender)
        if unit is None or not letter.sender:
            message.detail = {**message.detail, "registered": False,
                              "why": "no unit recognised in the subject" if letter.sender
                              else "no sender address"}
            return
        found = _OFFICER_NAME.search(parsed.title or letter.subject)
        name = found.group(1) if found else letter.sender_name
        queries.register_officer(session, address=letter.sender, unit=unit, source="roster",
                                 at=self.clock.now(), name=name, message_pk=message.id)
        message.detail = {**message.detail, "registered": True, "unit": unit, "name": name}

    def _record_submission(
        self, session: Session, message: Message, letter: Letter, parsed: ParsedSubject
    ) -> None:
        registered_unit = queries.officer_unit(session, letter.sender)
        unit, unit_source = parsed.unit, "subject"
        if unit is None:
            unit, unit_source = registered_unit, "sender" if registered_unit else "none"
        names = self._store_attachments(message, letter)
        checks = run_checks(CheckInput(unit, parsed.title, names),
                            self.settings.checks.model_dump())
        warnings = list(checks.warnings)
        if unit_source == "sender":
            warnings.append("unit_from_sender")
        if unit is None:
            warnings.append("no_unit")
        if registered_unit is None:
            warnings.append("unknown_sender")
        status = "rejected" if checks.rejected_by else "counted" if unit else "unassigned"
        month = queries.month_of(message.received_at, self.settings.zone)
        session.add(Submission(
            message=message, number=queries.next_number(session, month), month=month,
            unit=unit, unit_source=unit_source, title=parsed.title, sender=letter.sender,
            received_at=message.received_at, status=status, priority=parsed.priority,
            followup=parsed.followup, warnings=warnings,
        ))
        session.flush()

    def _store_attachments(self, message: Message, letter: Letter) -> list[str]:
        names = []
        for position, part in enumerate(letter.attachments, start=1):
            name = part.filename or _generated_name(position, part.content_type)
            names.append(name)
            message.attachments.append(StoredAttachment(
                position=position, filename=name, content_type=part.content_type,
                size=len(part.payload), sha256=part.sha256,
                stored_path=self.files.put_attachment(part.payload, part.sha256, name),
            ))
        return names

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
                session.add(self._failed_message(mail, raw_sha256, reason, attempts))
        except Exception:
            log.exception("uid %s: could not record the failure; it stays in the inbox",
                          mail.key.uid)
            return Outcome(mail.key, "retry")
        log.error("uid %s: failed %d times; moving it to the failed folder", mail.key.uid,
                  attempts)
        return Outcome(mail.key, "failed", "failed")

    def _failed_message(
        self, mail: FetchedMail, raw_sha256: str, reason: str, attempts: int
    ) -> Message:
        message = self._new_message(mail, raw_sha256, None, "failed")
        headers = email.message_from_bytes(mail.raw, policy=email.policy.compat32)
        message.sender = str(headers.get("From", ""))[:320]
        message.subject = str(headers.get("Subject", ""))
        message.message_id = str(headers.get("Message-ID", "")).strip().strip("<>")
        message.reason = f"{reason} (after {attempts} attempts)"
        return message


def _generated_name(position: int, content_type: str) -> str:
    guessed = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ".bin"
    return f"attachment-{position}{guessed}"

