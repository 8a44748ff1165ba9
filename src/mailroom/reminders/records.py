"""What a reminder reads from the database, as plain values for reminders.build: the
month's bulletin values (reports.service, the very counting of the bulletin), each unit's
items of the month with their titles and statuses, and the registered roster."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from mailroom.config import Settings
from mailroom.outbox.facts import rejected_checks
from mailroom.reminders.build import ItemLine, Reminders, plan
from mailroom.reports import service
from mailroom.store.models import Officer, Submission
from mailroom.vocabulary import Status, local_minute


def load(session: Session, settings: Settings, month: str, now: datetime) -> Reminders:
    """The reminders of `month` ("YYYY-MM") as of `now`."""
    report = service.monthly(session, settings, month, now)
    return plan(report, unit_items(session, settings, month), roster(session), settings, now)


def unit_items(session: Session, settings: Settings, month: str) -> dict[str, list[ItemLine]]:
    """Each unit's items of `month` (unassigned ones are nobody's), by time received."""
    first = aliased(Submission)
    rows = session.execute(
        select(Submission.unit, Submission.number, Submission.title, Submission.status,
               Submission.received_at, Submission.warnings, first.number)
        .outerjoin(first, first.id == Submission.duplicate_of_id)
        .where(Submission.month == month, Submission.unit.is_not(None),
               Submission.status != Status.UNASSIGNED)
        .order_by(Submission.received_at, Submission.id)).all()
    actions = settings.checks.model_dump()
    items: dict[str, list[ItemLine]] = defaultdict(list)
    for unit, number, title, status, received_at, warnings, duplicate_of in rows:
        assert unit is not None  # selected so
        rejected = rejected_checks(warnings or (), actions) \
            if status == Status.REJECTED else ()
        items[unit].append(ItemLine(
            number=number, title=title, status=status,
            received_at=local_minute(received_at, settings.zone),
            duplicate_of=duplicate_of, rejected_by=rejected))
    return items


def roster(session: Session) -> dict[str, list[str]]:
    """The registered officers' addresses per unit (roster mails, the CLI, the config once
    synchronised)."""
    registered: dict[str, list[str]] = defaultdict(list)
    for address, unit in session.execute(
            select(Officer.address, Officer.unit).order_by(Officer.registered_at, Officer.id)):
        registered[unit].append(address.lower())
    return registered
