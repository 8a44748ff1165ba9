"""Queue the mail a decision causes, in the decision's own transaction (the pipeline calls
this right after it has written a submission or a roster mail).

Reads the row as decided (status, duplicate link, the unit's monthly count), turns it into
plain facts (facts.py), asks the reply rules (rules/replies.py) whether the sender may get
mail from us, renders (compose.py) and writes outbox rows. Whatever it decides is recorded
in the message's `detail` ("receipt": the Message-ID queued, or why none): never silent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, text, update
from sqlalchemy.orm import Session

from mailroom.clock import Clock
from mailroom.config import Settings
from mailroom.outbox import compose
from mailroom.outbox.facts import ItemRef, ReceiptFacts, RosterFacts, rejected_checks
from mailroom.parsing.letter import Letter
from mailroom.rules.replies import ReplyContext, why_not_reply
from mailroom.store import queries
from mailroom.store.models import Base, Message, OutgoingMail, Submission, UTCDateTime
from mailroom.vocabulary import COUNTING, Status, WarningCode, local_minute

REPLY_PURPOSES = ("receipt", "roster")
MAX_ALERT_BODY = 5000


def sender_address(settings: Settings) -> str:
    """The address mailroom sends from: [smtp] sender, else the mailbox's own address."""
    if settings.smtp is not None:
        return settings.smtp.sender
    if settings.imap is not None and "@" in settings.imap.username:
        return settings.imap.username
    return "mailroom@localhost"


class Outgoing:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.sender = sender_address(settings)
        self.own = frozenset(settings.own_addresses | {self.sender.lower()})
        self.quotas = {unit.name: settings.quota_of(unit) for unit in settings.units}
        self.unit_example = settings.units[0].name if settings.units else ""
        self.office = compose.recipients_of(settings.office.addresses)

    # -- what the pipeline calls ----------------------------------------------------------

    def after_submission(
        self,
        session: Session,
        submission_pk: int,
        letter: Letter,
        attachment_names: Sequence[str],
        detail: dict[str, Any],
        missing_elements: Sequence[str] = (),
    ) -> None:
        """Queue the receipt (R6) and, for an urgent item, the office alert (R5); note what
        was decided in `detail` (the message's, as inserted) and write it back."""
        submission = session.get_one(Submission, submission_pk)
        facts = self.receipt_facts(session, submission, attachment_names, missing_elements)
        notes: dict[str, Any] = {}
        if missing_elements:
            notes["missing_elements"] = list(missing_elements)
        if WarningCode.SENDER_AUTHENTICATION_FAILED in submission.warnings:
            notes["receipt"] = "none: sender authentication failed"
        else:
            notes["receipt"] = self._reply(session, letter, submission.message_pk, "receipt",
                                           "receipt", compose.subject("receipt", facts=facts),
                                           {"facts": facts})
            if submission.priority == "urgent":
                notes["alert"] = self._alert(session, letter, submission.message_pk, facts)
        _set_detail(session, submission.message_pk, {**detail, **notes})

    def after_roster(self, session: Session, message_pk: int, letter: Letter,
                     detail: dict[str, Any]) -> None:
        """Confirm a roster mail (R7): registered, or why not and how to."""
        why = str(detail.get("why", ""))
        facts = RosterFacts(registered=bool(detail.get("registered")), unit=detail.get("unit"),
                            name=str(detail.get("name") or ""), address=letter.sender,
                            why=why, unit_example=self.unit_example)
        note = self._reply(session, letter, message_pk, "roster", "roster",
                           compose.subject("roster", facts=facts), {"facts": facts})
        _set_detail(session, message_pk, {**detail, "confirmation": note})

    # -- facts ------------------------------------------------------------------------------

    def receipt_facts(self, session: Session, submission: Submission,
                      attachment_names: Sequence[str],
                      missing_elements: Sequence[str] = ()) -> ReceiptFacts:
        warnings = tuple(submission.warnings)
        quota = self.quotas.get(submission.unit) if submission.unit else None
        counted = _counted_in_month(session, submission.unit, submission.month) \
            if submission.unit else 0
        return ReceiptFacts(
            number=submission.number, unit=submission.unit, title=submission.title,
            status=submission.status, priority=submission.priority,
            followup=submission.followup, received_at=self._local(submission.received_at),
            attachments=tuple(attachment_names), warnings=warnings,
            rejected_by=rejected_checks(warnings, self.settings.checks.model_dump())
            if submission.status == Status.REJECTED else (),
            missing_elements=tuple(missing_elements),
            duplicate_of=self._ref(session, submission.duplicate_of_id),
            score=submission.score,
            followup_of=self._ref(session, submission.followup_of_id),
            month=submission.month, counted_this_month=counted, quota=quota,
            registered="unknown_sender" not in warnings, unit_example=self.unit_example,
        )

    def _ref(self, session: Session, submission_pk: int | None) -> ItemRef | None:
        if submission_pk is None:
            return None
        other = session.get(Submission, submission_pk)
        if other is None:
            return None
        return ItemRef(other.number, other.unit, self._local(other.received_at))

    def _local(self, instant: datetime) -> str:
        return local_minute(instant, self.settings.zone)

    # -- queueing ---------------------------------------------------------------------------

    def _reply(self, session: Session, letter: Letter, source_pk: int, purpose: str,
               template: str, subject: str, context: dict[str, Any]) -> str:
        """Queue a reply to the letter's sender unless a reply rule forbids it; returns the
        Message-ID queued or "none: why"."""
        settings = self.settings.receipts
        reply_context = ReplyContext(
            own_addresses=self.own, now=self.clock.now(),
            sent_in_hour=_replies_in_hour(session, letter.sender, letter.received_at),
            max_per_hour=settings.max_per_sender_per_hour,
            skip_older_than_hours=settings.skip_older_than_hours)
        why = why_not_reply(letter, reply_context)
        if why is not None:
            return f"none: {why}"
        envelope = compose.Envelope(
            sender=self.sender, recipients=(letter.sender,), subject=subject,
            message_id=compose.message_id(purpose, letter.raw_sha256, self.sender),
            date=self.clock.now().astimezone(self.settings.zone), auto_submitted="auto-replied",
            purpose=purpose,
            thread=compose.Thread(letter.message_id, letter.header("References")))
        text, html = compose.render(template, **context)
        self._write(session, envelope, compose.compose(envelope, text, html), source_pk,
                    reply_to=letter.sender, source_received_at=letter.received_at)
        return envelope.message_id

    def _alert(self, session: Session, letter: Letter, source_pk: int,
               facts: ReceiptFacts) -> str:
        notes = []
        subject = compose.subject("alert", facts=facts)
        if self.office:
            envelope = compose.Envelope(
                sender=self.sender, recipients=self.office, subject=subject,
                message_id=compose.message_id("alert", letter.raw_sha256, self.sender),
                date=self.clock.now().astimezone(self.settings.zone),
                auto_submitted="auto-generated", purpose="alert")
            text, html = compose.render("alert", facts=facts, sender=letter.sender,
                                        body=letter.body.strip()[:MAX_ALERT_BODY])
            self._write(session, envelope, compose.compose(envelope, text, html), source_pk)
            notes.append(envelope.message_id)
        else:
            notes.append("no [office] addresses to alert")
        if self.settings.urgent.webhook_url:
            markdown = compose.environment().get_template("webhook.md").render(facts=facts)
            webhook_id = compose.message_id("webhook", letter.raw_sha256, self.sender)
            queries.insert_rows(session, OutgoingMail, [self._row(
                "webhook", "webhook", webhook_id, source_pk, recipients=("webhook",),
                subject=subject, raw=markdown.encode("utf-8"))])
            notes.append(webhook_id)
        return "; ".join(notes)

    def _write(self, session: Session, envelope: compose.Envelope, raw: bytes, source_pk: int,
               reply_to: str = "", source_received_at: datetime | None = None) -> None:
        queries.insert_rows(session, OutgoingMail, [self._row(
            envelope.purpose, "mail", envelope.message_id, source_pk,
            recipients=envelope.recipients, subject=envelope.subject, raw=raw,
            reply_to=reply_to.lower(), source_received_at=source_received_at)])

    def _row(self, purpose: str, channel: str, message_id: str, source_pk: int, *,
             recipients: Sequence[str], subject: str, raw: bytes, reply_to: str = "",
             source_received_at: datetime | None = None) -> dict[str, Any]:
        now = self.clock.now()
        return {"purpose": purpose, "channel": channel, "message_id": message_id,
                "source_pk": source_pk, "reply_to": reply_to,
                "source_received_at": source_received_at, "sender": self.sender,
                "recipients": list(recipients), "subject": subject, "raw": raw,
                "status": "pending", "attempts": 0, "next_attempt_at": now, "last_error": "",
                "created_at": now, "sent_at": None, "delivered_to": ""}


# Built once: these run for every receipt, and building a statement (and expanding an IN
# list) per call cost more than running it (benchmarks/ingest.py).
_COUNTED_IN_MONTH = text(
    "SELECT count(*) FROM submissions WHERE unit = :unit AND month = :month AND status IN ("
    + ", ".join(f"'{status}'" for status in COUNTING) + ")")
_REPLIES_IN_HOUR = text(
    "SELECT count(*) FROM outbox WHERE reply_to = :address AND source_received_at > :since"
    " AND source_received_at <= :until AND purpose IN ("
    + ", ".join(f"'{purpose}'" for purpose in REPLY_PURPOSES) + ")",
).bindparams(bindparam("since", type_=UTCDateTime()), bindparam("until", type_=UTCDateTime()))


def _counted_in_month(session: Session, unit: str | None, month: str) -> int:
    result = session.connection().execute(_COUNTED_IN_MONTH, {"unit": unit, "month": month})
    return int(result.scalar() or 0)


def _replies_in_hour(session: Session, address: str, received_at: datetime) -> int:
    """Replies queued to `address` for its mail received in the hour up to `received_at`:
    counted by when the mail arrived, so a backlog processed at once is judged as it came."""
    result = session.connection().execute(_REPLIES_IN_HOUR, {
        "address": address.lower(), "since": received_at - timedelta(hours=1),
        "until": received_at})
    return int(result.scalar() or 0)


_MESSAGES = Base.metadata.tables[Message.__tablename__]
_SET_DETAIL = (update(_MESSAGES).where(_MESSAGES.c.id == bindparam("pk"))
               .values(detail=bindparam("detail")))


def _set_detail(session: Session, message_pk: int, detail: dict[str, Any]) -> None:
    session.connection().execute(_SET_DETAIL, {"pk": message_pk, "detail": detail})
