"""Queue the 催报 reminders (R12) in the outbox: one mail per unit below quota, to its
officers and heads, rendered now (templates/reminder.*), purpose `reminder`.

Message-IDs are deterministic per month, unit and origin: the schedule's reminder is
`reminder:YYYY-MM:<unit>`, one from `mailroom remind --send` `reminder:YYYY-MM:<unit>:cli`,
and a reminder sent again with `--force` takes the next free `…#2`, `…#3`. So what was sent
is read back from the outbox:

- the schedule (`scheduled_reminders`) sends at most one reminder per unit per month: a unit
  it has already reminded this month is skipped (a reminder the office sent by hand does not
  stop the routine one on the configured day);
- `remind --send` refuses a unit already reminded this month, by either, naming when,
  unless `force`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailroom.clock import Clock
from mailroom.config import Settings
from mailroom.outbox import compose
from mailroom.outbox.outgoing import sender_address
from mailroom.reminders import records
from mailroom.reminders.build import Reminders, UnitReminder
from mailroom.store import queries
from mailroom.store.models import OutgoingMail
from mailroom.vocabulary import local_minute, month_of

PURPOSE = "reminder"
SCHEDULE, CLI = "schedule", "cli"  # who sent a reminder


@dataclass(frozen=True)
class Earlier:
    """A reminder already queued for a unit this month."""

    origin: str  # SCHEDULE | CLI
    at: datetime  # when it was queued
    status: str  # the outbox row's: pending | sent | failed


@dataclass(frozen=True)
class Queued:
    unit: str
    recipients: tuple[str, ...]
    outbox_id: int
    message_id: str


@dataclass
class Outcome:
    """What queueing the month's reminders did, unit by unit."""

    queued: list[Queued] = field(default_factory=list)
    already: list[tuple[UnitReminder, list[Earlier]]] = field(default_factory=list)
    unreachable: list[UnitReminder] = field(default_factory=list)  # nobody to mail


def key(month: str, unit: str, origin: str, attempt: int = 1) -> str:
    """The Message-ID key of a unit's reminder: `reminder:2019-05:办公室`, `…:cli`, `…#2`."""
    base = f"{PURPOSE}:{month}:{unit}" + ("" if origin == SCHEDULE else f":{origin}")
    return base if attempt == 1 else f"{base}#{attempt}"


def _local_part(message_id: str) -> str:
    """A Message-ID without its domain: the same reminder whatever the sender's address."""
    return message_id.rsplit("@", 1)[0]


def earlier_reminders(session: Session, month: str, units: Sequence[str]
                      ) -> dict[str, list[Earlier]]:
    """The reminders of `month` already in the outbox, per unit (oldest first)."""
    rows = {_local_part(row.message_id): row for row in session.execute(
        select(OutgoingMail.message_id, OutgoingMail.created_at, OutgoingMail.status)
        .where(OutgoingMail.purpose == PURPOSE))}
    found: dict[str, list[Earlier]] = {}
    for unit in units:
        mine = []
        for origin in (SCHEDULE, CLI):
            for attempt in range(1, len(rows) + 2):
                row = rows.get(_local_part(compose.message_id(
                    PURPOSE, key(month, unit, origin, attempt), "")))
                if row is None:
                    break
                mine.append(Earlier(origin, row.created_at, row.status))
        if mine:
            found[unit] = sorted(mine, key=lambda earlier: earlier.at)
    return found


def queue_reminders(session: Session, settings: Settings, clock: Clock, reminders: Reminders,
                    *, origin: str, force: bool = False) -> Outcome:
    """Queue one reminder per unit due one (the caller commits). Skipped: a unit with no
    address; a unit already reminded this month (by the schedule, for the schedule; by
    anyone, for the CLI) unless `force`."""
    outcome = Outcome()
    earlier = earlier_reminders(session, reminders.month, [u.unit for u in reminders.due])
    for unit in reminders.due:
        if not unit.recipients:
            outcome.unreachable.append(unit)
            continue
        before = [e for e in earlier.get(unit.unit, ())
                  if origin == CLI or e.origin == origin]
        if before and not force:
            outcome.already.append((unit, before))
            continue
        mine = sum(1 for e in earlier.get(unit.unit, ()) if e.origin == origin)
        outcome.queued.append(_queue(session, settings, clock, reminders, unit,
                                     key(reminders.month, unit.unit, origin, mine + 1)))
    return outcome


def _queue(session: Session, settings: Settings, clock: Clock, reminders: Reminders,
           unit: UnitReminder, source_key: str) -> Queued:
    sender = sender_address(settings)
    message_id = compose.message_id(PURPOSE, source_key, sender)
    subject = compose.subject(PURPOSE, x=reminders, u=unit)
    text, html = compose.render(PURPOSE, x=reminders, u=unit)
    now = clock.now()
    envelope = compose.Envelope(
        sender=sender, recipients=unit.recipients, subject=subject, message_id=message_id,
        date=now.astimezone(settings.zone), auto_submitted="auto-generated", purpose=PURPOSE)
    queries.insert_rows(session, OutgoingMail, [{
        "purpose": PURPOSE, "channel": "mail", "message_id": message_id, "source_pk": None,
        "reply_to": "", "source_received_at": None, "sender": sender,
        "recipients": list(unit.recipients), "subject": subject,
        "raw": compose.compose(envelope, text, html), "status": "pending", "attempts": 0,
        "next_attempt_at": now, "last_error": "", "created_at": now, "sent_at": None,
        "delivered_to": ""}])
    outbox_id = session.scalar(select(OutgoingMail.id)
                               .where(OutgoingMail.message_id == message_id))
    assert outbox_id is not None
    return Queued(unit.unit, unit.recipients, outbox_id, message_id)


def scheduled_reminders(session: Session, settings: Settings, clock: Clock,
                        fire_time: datetime) -> str:
    """The schedule's `reminder` job: the month of `fire_time` (in `timezone`), counted as
    of `clock.now()`; queued in `session`, not committed. Returns the log line."""
    month = month_of(fire_time, settings.zone)
    now = clock.now()
    if month_of(now, settings.zone) > month:
        return f"reminder: {month} is over; no reminders"
    reminders = records.load(session, settings, month, now)
    outcome = queue_reminders(session, settings, clock, reminders, origin=SCHEDULE)
    return summary(reminders, outcome, settings)


def summary(reminders: Reminders, outcome: Outcome, settings: Settings) -> str:
    """One line: what was queued, what was skipped and why."""
    parts = [f"reminder {reminders.month}: {len(outcome.queued)} of {len(reminders.due)} "
             f"units below quota reminded "
             f"({sum(len(q.recipients) for q in outcome.queued)} addresses)"]
    if outcome.already:
        parts.append(f"{len(outcome.already)} already reminded ("
                     + ", ".join(f"{unit.unit} at "
                                 f"{local_minute(before[-1].at, settings.zone)}"
                                 for unit, before in outcome.already) + ")")
    if outcome.unreachable:
        parts.append(f"{len(outcome.unreachable)} with no address to mail ("
                     + ", ".join(unit.unit for unit in outcome.unreachable)
                     + "): chase by phone")
    parts.append(f"{len(reminders.at_quota)} at quota")
    return "; ".join(parts)
