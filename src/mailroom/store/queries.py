"""Database reads and writes the pipeline and the CLI share. Sessions are passed in."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Insert, Table, bindparam, insert, or_, select, text
from sqlalchemy.orm import Session, selectinload

from mailroom.mailbox.base import MailKey
from mailroom.store import storable
from mailroom.store.models import (
    Base,
    Message,
    Officer,
    ProcessingFailure,
    Submission,
    UTCDateTime,
)
from mailroom.vocabulary import format_number, month_bounds


class Recorded(NamedTuple):
    id: int
    kind: str


def find_recorded(session: Session, key: MailKey, raw_sha256: str) -> Recorded | None:
    """The message already recorded for this mailbox location or these exact bytes."""
    location = (
        (Message.mailbox == key.mailbox)
        & (Message.uidvalidity == key.uidvalidity)
        & (Message.uid == key.uid)
    )
    statement = (
        select(Message.id, Message.kind)
        .where(or_(location, Message.raw_sha256 == raw_sha256))
        .limit(1)
    )
    row = session.execute(statement).first()
    return Recorded(row.id, row.kind) if row else None


@dataclass
class KnownMail:
    """Which of a batch's mails are recorded already, by location and by raw hash."""

    by_location: dict[tuple[str, int, str], str] = field(default_factory=dict)
    by_hash: dict[str, str] = field(default_factory=dict)

    def kind_of(self, key: MailKey, raw_sha256: str) -> str | None:
        location = (key.mailbox, key.uidvalidity, key.uid)
        return self.by_location.get(location) or self.by_hash.get(raw_sha256)

    def add(self, key: MailKey, raw_sha256: str, kind: str) -> None:
        self.by_location[(key.mailbox, key.uidvalidity, key.uid)] = kind
        self.by_hash[raw_sha256] = kind


def recorded_among(
    session: Session, keys: Sequence[MailKey], hashes: Sequence[str]
) -> KnownMail:
    """One look-up for a whole batch: which of these locations or hashes are recorded."""
    known = KnownMail()
    if not keys and not hashes:
        return known
    conditions: list[ColumnElement[bool]] = [Message.raw_sha256.in_(list(hashes))]
    groups: dict[tuple[str, int], list[str]] = {}
    for key in keys:
        groups.setdefault((key.mailbox, key.uidvalidity), []).append(key.uid)
    for (mailbox, uidvalidity), uids in groups.items():
        conditions.append((Message.mailbox == mailbox) & (Message.uidvalidity == uidvalidity)
                          & Message.uid.in_(uids))
    statement = select(Message.mailbox, Message.uidvalidity, Message.uid, Message.raw_sha256,
                       Message.kind).where(or_(*conditions))
    for row in session.execute(statement):
        known.by_location[(row.mailbox, row.uidvalidity, row.uid)] = row.kind
        known.by_hash[row.raw_sha256] = row.kind
    return known


def officer_units(session: Session) -> dict[str, str]:
    """Every registered officer's address and unit."""
    return {address: unit for address, unit in session.execute(
        select(Officer.address, Officer.unit))}


# The hot path writes plain rows with Core statements built once: the ORM's unit of work,
# and even building a statement per call, cost more per mail than parsing it
# (benchmarks/ingest.py).

def _table(model: type[Base]) -> Table:
    return Base.metadata.tables[model.__tablename__]


_MESSAGES = _table(Message)
_INSERT_MESSAGE = insert(_MESSAGES).returning(_MESSAGES.c.id)
# one statement, the same on SQLite (≥ 3.35) and PostgreSQL: a month's first number too is
# taken under the counter row's lock, so two processes never both start a month at 0001
_NEXT_NUMBER = text(
    "INSERT INTO month_counters (month, last) VALUES (:key, 1) ON CONFLICT (month) "
    "DO UPDATE SET last = month_counters.last + 1 RETURNING last")
_INSERTS: dict[str, Insert] = {}


# Every row below is made storable on its way in (store/storable.py): a mail may carry NUL
# bytes, lone surrogates or a 400-character From; the raw mail keeps the truth.

def insert_message(session: Session, row: dict[str, Any]) -> int:
    """Insert one `messages` row; returns its id."""
    cleaned = storable.row(row, storable.MESSAGES)
    return int(session.connection().execute(_INSERT_MESSAGE, cleaned).scalar_one())


_INSERT_SUBMISSION = insert(_table(Submission)).returning(_table(Submission).c.id)


def insert_submission(session: Session, row: dict[str, Any]) -> int:
    """Insert one `submissions` row; returns its id."""
    cleaned = storable.row(row, storable.SUBMISSIONS)
    return int(session.connection().execute(_INSERT_SUBMISSION, cleaned).scalar_one())


def insert_rows(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    statement = _INSERTS.get(model.__tablename__)
    if statement is None:
        statement = _INSERTS[model.__tablename__] = insert(_table(model))
    limits = storable.limits_of(model)
    session.connection().execute(statement, [storable.row(row, limits) for row in rows])


def next_number(session: Session, month: str) -> str:
    """The next submission number `YYYYMM-NNNN` of `month` ("YYYY-MM"); never reused.

    Unique and gap-free across processes: the upsert locks the month's counter row until
    the mail's transaction ends (PostgreSQL; SQLite has a single writer anyway), so a
    second process numbering the same month waits for the first's commit, and a rolled-back
    mail gives its number back with its counter bump.
    """
    last = session.connection().execute(_NEXT_NUMBER, {"key": month.replace("-", "")}).scalar_one()
    return format_number(month, int(last))


def officer_unit(session: Session, address: str) -> str | None:
    if not address:
        return None
    statement = select(Officer.unit).where(Officer.address == address.lower())
    return session.execute(statement).scalar()


def register_officer(
    session: Session,
    *,
    address: str,
    unit: str,
    source: str,
    at: datetime,
    name: str = "",
    message_pk: int | None = None,
    by: str | None = None,
) -> Officer:
    """Register (or move) an officer's address to a unit."""
    address = storable.bounded(address.lower(), storable.limits_of(Officer)["address"])
    name = storable.bounded(name, storable.limits_of(Officer)["name"])
    officer = session.scalars(select(Officer).where(Officer.address == address)).first()
    if officer is None:
        officer = Officer(address=address, unit=unit, name=name, source=source,
                          registered_at=at, message_pk=message_pk, registered_by=by)
        session.add(officer)
    else:
        officer.unit, officer.source, officer.registered_at = unit, source, at
        officer.name = name or officer.name
        officer.message_pk, officer.registered_by = message_pk, by
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


def _failure_row(session: Session, key: MailKey) -> ProcessingFailure | None:
    return session.scalars(
        select(ProcessingFailure).where(
            ProcessingFailure.mailbox == key.mailbox,
            ProcessingFailure.uidvalidity == key.uidvalidity,
            ProcessingFailure.uid == key.uid,
        )
    ).first()


def attempts_so_far(session: Session, key: MailKey) -> tuple[int, str]:
    """The attempts counted at a mail, and the last one's error ("" when none)."""
    failure = _failure_row(session, key)
    return (failure.attempts, failure.last_error) if failure is not None else (0, "")


def note_failure(session: Session, key: MailKey, error: str, at: datetime) -> int:
    """Say why the attempt already counted (count_attempt) failed; returns the attempts."""
    failure = _failure_row(session, key)
    if failure is None:
        return 0
    failure.last_error = storable.text(error)
    failure.last_at = at
    session.flush()
    return failure.attempts


def uncount_attempt(session: Session, key: MailKey) -> None:
    """Take back the attempt counted before the work (the store failed, not the mail)."""
    failure = _failure_row(session, key)
    if failure is not None:
        failure.attempts -= 1
        if failure.attempts <= 0:
            session.delete(failure)


_FAILURES = _table(ProcessingFailure)
_CLEAR_FAILURES = _FAILURES.delete().where(_FAILURES.c.mailbox == bindparam("mailbox"),
                                           _FAILURES.c.uidvalidity == bindparam("uidvalidity"),
                                           _FAILURES.c.uid == bindparam("uid"))
# one statement for the attempt counted before the work, the same on SQLite (≥ 3.35) and
# PostgreSQL: no row comes back when the mail has had its `max_attempts` already
_COUNT_ATTEMPT = text(
    "INSERT INTO processing_failures (mailbox, uidvalidity, uid, raw_sha256, attempts,"
    " last_error, first_at, last_at) VALUES (:mailbox, :uidvalidity, :uid, :raw_sha256, 1,"
    " :error, :at, :at) ON CONFLICT (mailbox, uidvalidity, uid) DO UPDATE SET"
    " attempts = processing_failures.attempts + 1, last_error = excluded.last_error,"
    " last_at = excluded.last_at WHERE processing_failures.attempts < :max_attempts"
    " RETURNING attempts").bindparams(bindparam("at", type_=UTCDateTime()))


def _location(key: MailKey) -> dict[str, Any]:
    return {"mailbox": key.mailbox, "uidvalidity": key.uidvalidity, "uid": key.uid}


def clear_failures(session: Session, key: MailKey) -> None:
    """Forget the attempts at a mail now recorded (in the transaction that records it)."""
    session.connection().execute(_CLEAR_FAILURES, _location(key))


def count_attempt(session: Session, key: MailKey, raw_sha256: str, error: str, at: datetime,
                  max_attempts: int) -> int | None:
    """Count one more attempt at a mail, saying `error` until the attempt says otherwise;
    returns the attempts so far, or None (nothing counted) when it has had `max_attempts`."""
    values = {**_location(key), "raw_sha256": raw_sha256, "error": storable.text(error),
              "at": at, "max_attempts": max_attempts}
    attempts = session.connection().execute(_COUNT_ATTEMPT, values).scalar()
    return None if attempts is None else int(attempts)


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
