"""Database reads and writes the pipeline and the CLI share. Sessions are passed in."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from mailroom.mailbox.base import MailKey
from mailroom.store.models import Message, MonthCounter, Officer, ProcessingFailure, Submission


def month_of(instant: datetime, zone: ZoneInfo) -> str:
    """"YYYY-MM" of an instant in the configured zone (R4)."""
    return instant.astimezone(zone).strftime("%Y-%m")


def month_bounds(month: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The first instant of `month` ("YYYY-MM") and of the month after, in `zone`."""
    year, number = (int(part) for part in month.split("-"))
    start = datetime(year, number, 1, tzinfo=zone)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    return start, end


def find_recorded(session: Session, key: MailKey, raw_sha256: str) -> Message | None:
    """The message already recorded for this mailbox location or these exact bytes."""
    location = (
        (Message.mailbox == key.mailbox)
        & (Message.uidvalidity == key.uidvalidity)
        & (Message.uid == key.uid)
    )
    statement = select(Message).where(or_(location, Message.raw_sha256 == raw_sha256)).limit(1)
    return session.scalars(statement).first()


def next_number(session: Session, month: str) -> str:
    """The next submission number `YYYYMM-NNNN` of `month` ("YYYY-MM"); never reused."""
    key = month.replace("-", "")
    counter = session.scalars(
        select(MonthCounter).where(MonthCounter.month == key).with_for_update()
    ).first()
    if counter is None:
        counter = MonthCounter(month=key, last=0)
        session.add(counter)
    counter.last += 1
    session.flush()
    return f"{key}-{counter.last:04d}"


def officer_unit(session: Session, address: str) -> str | None:
    if not address:
        return None
    return session.scalars(select(Officer.unit).where(Officer.address == address.lower())).first()


def register_officer(
    session: Session,
    *,
    address: str,
    unit: str,
    source: str,
    at: datetime,
    name: str = "",
    message_pk: int | None = None,
) -> Officer:
    """Register (or move) a reporter's address to a unit."""
    address = address.lower()
    officer = session.scalars(select(Officer).where(Officer.address == address)).first()
    if officer is None:
        officer = Officer(address=address, unit=unit, name=name, source=source,
                          registered_at=at, message_pk=message_pk)
        session.add(officer)
    else:
        officer.unit, officer.source, officer.registered_at = unit, source, at
        officer.name = name or officer.name
        officer.message_pk = message_pk
    session.flush()
    return officer


def sync_config_officers(
    session: Session, assignments: Iterable[tuple[str, str]], at: datetime
) -> None:
    """Make the config's `[[units]] officers` registered; a roster mail or the CLI may
    later move an address, and the config does not move it back."""
    for address, unit in assignments:
        if officer_unit(session, address) is None:
            register_officer(session, address=address, unit=unit, source="config", at=at)


def record_failure(
    session: Session, key: MailKey, raw_sha256: str, error: str, at: datetime
) -> int:
    """Count one more failed attempt at a mail; returns the attempts so far."""
    failure = session.scalars(
        select(ProcessingFailure).where(
            ProcessingFailure.mailbox == key.mailbox,
            ProcessingFailure.uidvalidity == key.uidvalidity,
            ProcessingFailure.uid == key.uid,
        )
    ).first()
    if failure is None:
        failure = ProcessingFailure(mailbox=key.mailbox, uidvalidity=key.uidvalidity,
                                    uid=key.uid, raw_sha256=raw_sha256, attempts=0,
                                    first_at=at, last_at=at)
        session.add(failure)
    failure.attempts += 1
    failure.last_error = error
    failure.last_at = at
    session.flush()
    return failure.attempts


def submissions(session: Session, month: str | None = None) -> Sequence[Submission]:
    statement = (
        select(Submission)
        .options(selectinload(Submission.message).selectinload(Message.attachments),
                 selectinload(Submission.duplicate_of))
        .order_by(Submission.received_at, Submission.number)
    )
    if month:
        statement = statement.where(Submission.month == month)
    return session.scalars(statement).all()


def messages(session: Session, month: str | None, zone: ZoneInfo) -> Sequence[Message]:
    statement = (
        select(Message)
        .options(selectinload(Message.submission))
        .order_by(Message.received_at, Message.id)
    )
    if month:
        start, end = month_bounds(month, zone)
        statement = statement.where(Message.received_at >= start, Message.received_at < end)
    return session.scalars(statement).all()
