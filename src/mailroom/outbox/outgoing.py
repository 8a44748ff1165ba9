"""Queue the mail a decision causes, in the decision's own transaction (the pipeline calls
this right after it has written a submission or a roster mail).

Two steps. Before the message row is written, `plan_*` asks the reply rules
(rules/replies.py) whether the sender may get mail from us and fixes the Message-IDs
(deterministic), so the handler writes the row once with what was decided in its `detail`
("receipt": the Message-ID, or why none: never silent). After the decision, `queue_*` reads
the row as decided (status, duplicate link, the unit's monthly count), turns it into plain
facts (facts.py) and writes the outbox rows with those facts, the envelope and its Date:
the sender renders them (deferred.py, compose.py) when it sends them.

A backlog import without `--receipts` gives `Outgoing` a `quiet` reason: no receipt, no
alert, no confirmation is queued, and the message's detail says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, select, text
from sqlalchemy.orm import Session

from mailroom.clock import Clock
from mailroom.config import Settings
from mailroom.outbox import compose, deferred
from mailroom.outbox.command_facts import CommandReplyFacts, ConfirmationRequestFacts
from mailroom.outbox.facts import (
    ItemRef,
    ReceiptFacts,
    RequestRef,
    RosterFacts,
    rejected_checks,
)
from mailroom.parsing.letter import Letter
from mailroom.requests.links import links_of
from mailroom.rules.confirmation import REQUEST_PURPOSE
from mailroom.rules.replies import ReplyContext, why_not_reply
from mailroom.store import queries
from mailroom.store.models import Base, OutgoingMail, Submission, UTCDateTime
from mailroom.vocabulary import COUNTING, Status, local_minute

COMMAND_PURPOSE = "command"  # the reply to a command mail
REPLY_PURPOSES = ("receipt", "roster", COMMAND_PURPOSE, REQUEST_PURPOSE)
MAX_ALERT_BODY = 5000


def sender_address(settings: Settings) -> str:
    """The address mailroom sends from: [smtp] sender, else the mailbox's own address."""
    if settings.smtp is not None:
        return settings.smtp.sender
    if settings.imap is not None and "@" in settings.imap.username:
        return settings.imap.username
    return "mailroom@localhost"


@dataclass(frozen=True)
class Reply:
    """A reply decided before anything is written: its Message-ID, or why there is none."""

    message_id: str | None
    why_not: str | None = None

    @property
    def note(self) -> str:
        """What the message's `detail` records: the Message-ID queued, or "none: why"."""
        return self.message_id if self.message_id else f"none: {self.why_not}"


@dataclass(frozen=True)
class ReceiptPlan:
    """What a submission will cause to be sent: its receipt (R6) and, when urgent, the
    office alert and the group-robot call (R5). Decided before the message row is written,
    so the row is written once, complete; queued once the first-report verdict is known."""

    receipt: Reply
    alert: str | None = None  # the alert's Message-ID; None: no alert
    webhook: str | None = None  # the robot call's id; None: none
    alert_note: str | None = None  # what detail["alert"] says, when an alert was due

    def notes(self) -> dict[str, Any]:
        notes = {"receipt": self.receipt.note}
        if self.alert_note is not None:
            notes["alert"] = self.alert_note
        return notes


class Outgoing:
    def __init__(self, settings: Settings, clock: Clock, quiet: str | None = None) -> None:
        """`quiet`: why nothing at all is to be sent (a backlog import), else None."""
        self.settings = settings
        self.clock = clock
        self.quiet = quiet
        self.sender = sender_address(settings)
        self.own = frozenset(settings.own_addresses | {self.sender.lower()})
        self.quotas = {unit.name: settings.quota_of(unit) for unit in settings.units}
        self.unit_example = settings.units[0].name if settings.units else ""
        self.office = compose.recipients_of(settings.office.addresses)

    # -- deciding, before the message row is written ---------------------------------------

    def plan_reply(self, session: Session, letter: Letter, purpose: str) -> Reply:
        """May the letter's sender get this reply (rules/replies.py)? Its Message-ID if so."""
        if self.quiet is not None:
            return Reply(None, self.quiet)
        settings = self.settings.receipts
        context = ReplyContext(
            own_addresses=self.own, now=self.clock.now(),
            sent_in_hour=_replies_in_hour(session, letter.sender, letter.received_at),
            max_per_hour=settings.max_per_sender_per_hour,
            skip_older_than_hours=settings.skip_older_than_hours)
        why = why_not_reply(letter, context)
        if why is not None:
            return Reply(None, why)
        return Reply(compose.message_id(purpose, letter.raw_sha256, self.sender))

    def plan_receipt(self, session: Session, letter: Letter, *, urgent: bool,
                     authenticated: bool) -> ReceiptPlan:
        if not authenticated:  # a forger gets nothing back, and cannot flood the office
            return ReceiptPlan(Reply(None, "sender authentication failed"))
        receipt = self.plan_reply(session, letter, "receipt")
        if not urgent or self.quiet is not None:  # no alerts for a backlog's old mail
            return ReceiptPlan(receipt)
        notes: list[str] = []
        alert = webhook = None
        if self.office:
            alert = compose.message_id("alert", letter.raw_sha256, self.sender)
            notes.append(alert)
        else:
            notes.append("no [office] addresses to alert")
        if self.settings.urgent.webhook_url:
            webhook = compose.message_id("webhook", letter.raw_sha256, self.sender)
            notes.append(webhook)
        return ReceiptPlan(receipt, alert, webhook, "; ".join(notes))

    # -- queueing, once the decision is written ----------------------------------------------

    def queue_receipt(self, session: Session, plan: ReceiptPlan, submission_pk: int,
                      letter: Letter, attachment_names: Sequence[str],
                      missing_elements: Sequence[str] = ()) -> None:
        """Queue what `plan` decided, stating the submission as now decided (its facts are
        fixed here; the sender renders them)."""
        if plan.receipt.message_id is None and plan.alert is None and plan.webhook is None:
            return
        submission = session.connection().execute(_SUBMISSION, {"id": submission_pk}).one()
        facts = self.receipt_facts(session, submission, attachment_names, missing_elements)
        source_pk = submission.message_pk
        if plan.receipt.message_id is not None:
            self._queue_reply(session, letter, source_pk, plan.receipt.message_id,
                              "receipt", compose.subject("receipt", facts=facts), facts)
        if plan.alert is not None:
            envelope = self._envelope(plan.alert, self.office,
                                      compose.subject("alert", facts=facts), "alert",
                                      "auto-generated")
            self._write(session, envelope, deferred.payload(
                envelope, "alert", facts, sender=letter.sender,
                body=letter.body.strip()[:MAX_ALERT_BODY]), source_pk)
        if plan.webhook is not None:
            queries.insert_rows(session, OutgoingMail, [self._row(
                "webhook", "webhook", plan.webhook, source_pk,
                recipients=("webhook",), subject=compose.subject("alert", facts=facts),
                render=deferred.payload(None, "webhook", facts))])

    def queue_roster(self, session: Session, reply: Reply, message_pk: int, letter: Letter,
                     registered: bool, unit: str | None, name: str, why: str) -> None:
        """Confirm a roster mail (R7): registered, or why not and how to."""
        if reply.message_id is None:
            return
        facts = RosterFacts(registered=registered, unit=unit, name=name, address=letter.sender,
                            why=why, unit_example=self.unit_example)
        self._queue_reply(session, letter, message_pk, reply.message_id, "roster",
                          compose.subject("roster", facts=facts), facts)

    def queue_command_reply(self, session: Session, reply: Reply, message_pk: int,
                            letter: Letter, facts: CommandReplyFacts) -> None:
        """The one reply to a command mail: what changed, what did not and why."""
        if reply.message_id is None:
            return
        self._queue_rendered_reply(session, letter, message_pk, reply.message_id,
                                   COMMAND_PURPOSE, compose.subject(COMMAND_PURPOSE, facts=facts),
                                   facts)

    def queue_confirmation_request(self, session: Session, reply: Reply, message_pk: int,
                                   letter: Letter, facts: ConfirmationRequestFacts) -> None:
        """Ask the sender's address to confirm a held command mail (its 确认码)."""
        if reply.message_id is None:
            return
        self._queue_rendered_reply(session, letter, message_pk, reply.message_id,
                                   REQUEST_PURPOSE, compose.subject(REQUEST_PURPOSE, facts=facts),
                                   facts)

    # -- facts ------------------------------------------------------------------------------

    def receipt_facts(self, session: Session, submission: Submission | Any,
                      attachment_names: Sequence[str],
                      missing_elements: Sequence[str] = ()) -> ReceiptFacts:
        """The receipt's facts from the submission as decided: its row (a Submission or
        a Core row of `submissions`), the items it points to, the unit's count."""
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
            requests=tuple(RequestRef(link.code, link.title, link.asked)
                           for link in links_of(session, submission.id, submission.unit)),
        )

    def _ref(self, session: Session, submission_pk: int | None) -> ItemRef | None:
        if submission_pk is None:
            return None
        other = session.connection().execute(_REF, {"id": submission_pk}).first()
        if other is None:
            return None
        return ItemRef(other.number, other.unit, self._local(other.received_at))

    def _local(self, instant: datetime) -> str:
        return local_minute(instant, self.settings.zone)

    # -- queueing ---------------------------------------------------------------------------

    def _envelope(self, message_id: str, recipients: Sequence[str], subject: str,
                  purpose: str, auto_submitted: str,
                  thread: compose.Thread | None = None) -> compose.Envelope:
        return compose.Envelope(
            sender=self.sender, recipients=tuple(recipients), subject=subject,
            message_id=message_id, date=self.clock.now().astimezone(self.settings.zone),
            auto_submitted=auto_submitted, purpose=purpose, thread=thread)

    def _queue_reply(self, session: Session, letter: Letter, source_pk: int, message_id: str,
                     template: str, subject: str, facts: ReceiptFacts | RosterFacts) -> None:
        envelope = self._envelope(
            message_id, (letter.sender,), subject, template, "auto-replied",
            compose.Thread(letter.message_id, letter.header("References")))
        self._write(session, envelope, deferred.payload(envelope, template, facts), source_pk,
                    reply_to=letter.sender, source_received_at=letter.received_at)

    def _queue_rendered_reply(self, session: Session, letter: Letter, source_pk: int,
                              message_id: str, template: str, subject: str,
                              facts: CommandReplyFacts | ConfirmationRequestFacts) -> None:
        """A reply rendered now, not at send time: command replies and confirmation requests
        are few, and their nested facts have no deferred (JSON) form; receipts do."""
        envelope = self._envelope(
            message_id, (letter.sender,), subject, template, "auto-replied",
            compose.Thread(letter.message_id, letter.header("References")))
        text, html = compose.render(template, facts=facts)
        self._write(session, envelope, None, source_pk, reply_to=letter.sender,
                    source_received_at=letter.received_at,
                    raw=compose.compose(envelope, text, html))

    def _write(self, session: Session, envelope: compose.Envelope,
               render: dict[str, Any] | None, source_pk: int, reply_to: str = "",
               source_received_at: datetime | None = None, raw: bytes = b"") -> None:
        """One mail row: rendered at send time from `render`, or already `raw`."""
        row = self._row(envelope.purpose, "mail", envelope.message_id, source_pk,
                        recipients=envelope.recipients, subject=envelope.subject,
                        render=render, reply_to=reply_to.lower(),
                        source_received_at=source_received_at)
        row["raw"] = raw
        queries.insert_rows(session, OutgoingMail, [row])

    def _row(self, purpose: str, channel: str, message_id: str, source_pk: int, *,
             recipients: Sequence[str], subject: str, render: dict[str, Any] | None,
             reply_to: str = "", source_received_at: datetime | None = None
             ) -> dict[str, Any]:
        now = self.clock.now()
        return {"purpose": purpose, "channel": channel, "message_id": message_id,
                "source_pk": source_pk, "reply_to": reply_to,
                "source_received_at": source_received_at, "sender": self.sender,
                "recipients": list(recipients), "subject": subject, "raw": b"",
                "render": render, "status": "pending", "attempts": 0, "next_attempt_at": now,
                "last_error": "", "created_at": now, "sent_at": None, "delivered_to": ""}


def _table(model: type[Base]) -> Table:
    return Base.metadata.tables[model.__tablename__]


_SUBMISSIONS = _table(Submission)
_SUBMISSION = select(_SUBMISSIONS).where(_SUBMISSIONS.c.id == bindparam("id"))
_REF = select(_SUBMISSIONS.c.number, _SUBMISSIONS.c.unit, _SUBMISSIONS.c.received_at).where(
    _SUBMISSIONS.c.id == bindparam("id"))

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
