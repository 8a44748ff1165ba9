"""The office digest (R11) as a mail through the outbox, and marked sent in the same
transaction: the `digests` row with the high-water marks of what it showed and the verdict
changes it showed set `reported` (digest/records.py says why that way). Nothing new: nothing
is queued and nothing marked.

The Message-ID is derived from the digest's sequence number (`digest:<n>`): two processes
building the same digest at once write the same `digests.sequence` and the same outbox
Message-ID, so the second commit fails on the unique keys and nothing goes out twice.

`scheduled_digest` is the schedule's job (ISSUE10-CONTRACT): queued in the caller's
session, not committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mailroom.clock import Clock
from mailroom.config import Settings
from mailroom.digest.build import build
from mailroom.digest.records import Read, read_new
from mailroom.digest.values import Digest
from mailroom.errors import InvalidInput
from mailroom.outbox import compose
from mailroom.outbox.outgoing import sender_address
from mailroom.store import queries
from mailroom.store.files import FileStore
from mailroom.store.models import DigestSent, OutgoingMail, VerdictChange

PURPOSE = "digest"
TEMPLATE = "digest"


@dataclass(frozen=True)
class Prepared:
    digest: Digest | None  # None: nothing new
    read: Read


@dataclass(frozen=True)
class Queued:
    outbox_id: int
    message_id: str
    recipients: tuple[str, ...]
    subject: str
    entries: int


def file_store(settings: Settings) -> FileStore:
    return FileStore(Path(settings.storage.path))


def prepare(session: Session, settings: Settings, now: datetime,
            files: FileStore | None = None, day: str | None = None) -> Prepared:
    """The digest of what is new as of `now` (for `day`, default now's date in the zone);
    marks nothing."""
    read = read_new(session, files or file_store(settings), settings.zone, now)
    label = day or now.astimezone(settings.zone).strftime("%Y-%m-%d")
    return Prepared(build(read.records, day=label, bureau=settings.office.name), read)


def render(digest: Digest) -> tuple[str, str]:
    """The text and the HTML of the digest."""
    return compose.render(TEMPLATE, d=digest)


def subject_line(digest: Digest) -> str:
    return compose.subject(TEMPLATE, d=digest)


def recipients(settings: Settings) -> tuple[str, ...]:
    return compose.recipients_of(settings.office.addresses)


def queue_digest(session: Session, settings: Settings, clock: Clock,
                 files: FileStore | None = None, day: str | None = None) -> Queued | None:
    """Queue the digest of what is new to the office and mark it sent (the caller
    commits); None, with nothing written, when there is nothing new."""
    to = recipients(settings)
    if not to:
        raise InvalidInput("nobody to send the digest to: set [office] addresses")
    now = clock.now()
    prepared = prepare(session, settings, now, files, day)
    digest = prepared.digest
    if digest is None:
        return None
    marks = prepared.read.marks
    sequence = marks.sequence + 1
    sender = sender_address(settings)
    message_id = compose.message_id(PURPOSE, f"digest:{sequence}", sender)
    text, html = render(digest)
    subject = subject_line(digest)
    envelope = compose.Envelope(
        sender=sender, recipients=to, subject=subject, message_id=message_id,
        date=now.astimezone(settings.zone), auto_submitted="auto-generated", purpose=PURPOSE)
    queries.insert_rows(session, OutgoingMail, [{
        "purpose": PURPOSE, "channel": "mail", "message_id": message_id, "source_pk": None,
        "reply_to": "", "source_received_at": None, "sender": sender, "recipients": list(to),
        "subject": subject, "raw": compose.compose(envelope, text, html), "status": "pending",
        "attempts": 0, "next_attempt_at": now, "last_error": "", "created_at": now,
        "sent_at": None, "delivered_to": ""}])
    session.add(DigestSent(
        sequence=sequence, message_id=message_id, sent_at=now,
        last_message_pk=marks.message_pk, last_decision_id=marks.decision_id,
        message_gaps=[list(gap) for gap in marks.message_gaps],
        decision_gaps=[list(gap) for gap in marks.decision_gaps],
        items=digest.entries, recipients=list(to)))
    if prepared.read.change_ids:
        session.execute(update(VerdictChange)
                        .where(VerdictChange.id.in_(prepared.read.change_ids))
                        .values(reported=True))
    session.flush()
    outbox_id = session.scalar(select(OutgoingMail.id)
                               .where(OutgoingMail.message_id == message_id))
    assert outbox_id is not None
    return Queued(outbox_id, message_id, to, subject, digest.entries)


def scheduled_digest(session: Session, settings: Settings, clock: Clock,
                     fire_time: datetime) -> str:
    """The schedule's digest job: as `report digest --send`, queued in `session` and not
    committed; the digest is dated by `fire_time`'s day in the zone."""
    if not recipients(settings):
        return "no digest: no [office] addresses"
    day = fire_time.astimezone(settings.zone).strftime("%Y-%m-%d")
    queued = queue_digest(session, settings, clock, day=day)
    if queued is None:
        return "nothing new: no digest"
    return (f"digest: {queued.entries} items to {len(queued.recipients)} "
            f"address{'es' if len(queued.recipients) != 1 else ''}")
