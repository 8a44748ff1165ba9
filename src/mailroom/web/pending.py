"""What waits for the office now (the console's /decide page), read from the database as
plain values: suspected pairs side by side, unassigned items, unknown senders, items whose
sender failed authentication, failed mails.

Not the digest's "new since the last digest sent": what is *pending* as the database stands —
an item still suspected, still unassigned, a sender still not on the roster (however long
ago it wrote). Flags and failed mails have no decision that settles them: they are listed
for `RECENT_DAYS`.
The pairs reuse the digest's reading and pairing (digest/records.py reads the items and
their texts, digest/build.py pairs them and marks the passages found in both), so the
console and the digest show a pair the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from mailroom.config import Settings
from mailroom.digest import build
from mailroom.digest.records import LocalTimes, RawSource, item_rows, with_texts
from mailroom.digest.values import ItemRow, Pair, Records
from mailroom.parsing.letter import parse_letter
from mailroom.store.files import FileStore
from mailroom.store.models import Message, Officer, ProcessingFailure, Submission
from mailroom.vocabulary import Kind, Status, WarningCode, local_minute

LIMIT = 100  # entries a section lists; the page says how many more there are
PAIRS = 30  # pairs shown (each reads and parses two mails): the rest after these are settled
RECENT_DAYS = 30  # flags and failed mails are listed this long
SENDER_ITEMS = 5  # items listed per unknown sender


@dataclass(frozen=True)
class Item:
    """A submission as a line of the page."""

    number: str
    unit: str | None
    title: str
    sender: str
    received_at: str  # local "YYYY-MM-DD HH:MM"
    status: str


@dataclass(frozen=True)
class UnknownSender:
    address: str
    name: str  # the display name of the sender's latest mail ("" when it had none)
    items: tuple[Item, ...]  # newest first, at most SENDER_ITEMS
    count: int  # all its items
    last: str  # when the latest came (local)


@dataclass(frozen=True)
class Flagged:
    item: Item
    why: str  # what the trusted server said (the message's `flag`), "" when not kept


@dataclass(frozen=True)
class FailedMail:
    received_at: str
    sender: str
    subject: str
    reason: str


@dataclass(frozen=True)
class Retrying:
    """A mail whose processing failed and that is tried again on the next pass."""

    location: str  # mailbox / uid
    attempts: int
    last_error: str
    last_at: str


@dataclass(frozen=True)
class Section:
    """What a section lists and how many it left out."""

    entries: tuple[Any, ...]
    more: int = 0


@dataclass(frozen=True)
class Pending:
    pairs: Section  # of digest.values.Pair
    unassigned: Section  # of Item
    unknown_senders: Section  # of UnknownSender
    flagged: Section  # of Flagged
    failed: Section  # of FailedMail
    retrying: Section  # of Retrying
    since: str  # the start of the RECENT_DAYS window (local)

    @property
    def total(self) -> int:
        return sum(len(s.entries) + s.more for s in (
            self.pairs, self.unassigned, self.unknown_senders, self.flagged, self.failed,
            self.retrying))


def _section(values: Sequence[Any], total: int | None = None) -> Section:
    """The first LIMIT of `values`; `total`: how many there are in all (default: all of
    `values`)."""
    shown = tuple(values[:LIMIT])
    return Section(shown, max(0, (len(values) if total is None else total) - len(shown)))


def _count(session: Session, statement: Select[*tuple[Any, ...]]) -> int:
    return int(session.scalar(select(func.count()).select_from(statement.subquery())) or 0)


def read_pending(session: Session, settings: Settings, files: FileStore,
                 now: datetime) -> Pending:
    zone = settings.zone
    since = now - timedelta(days=RECENT_DAYS)
    return Pending(
        pairs=suspected_pairs(session, files, zone),
        unassigned=unassigned(session, zone),
        unknown_senders=_section(unknown_senders(session, settings, files)),
        flagged=_section(flagged(session, zone, since)),
        failed=failed_mails(session, zone, since),
        retrying=retrying(session, zone),
        since=local_minute(since, zone))


def suspected_pairs(session: Session, files: FileStore, zone: ZoneInfo) -> Section:
    """Every item still suspected, beside the first report it was matched with, with
    the passages found in both marked (as the digest shows them)."""
    local = LocalTimes(zone)
    sources: dict[int, RawSource] = {}
    items = [row for _, row in item_rows(
        session, Submission.status == Status.SUSPECTED, local, sources)]
    items.sort(key=lambda row: row.number)
    shown = [row for row in items if row.duplicate_of_pk is not None][:PAIRS]
    wanted = sorted({row.duplicate_of_pk for row in shown if row.duplicate_of_pk})
    firsts: dict[int, ItemRow] = {}
    for start in range(0, len(wanted), 500):
        for _, row in item_rows(session, Submission.id.in_(wanted[start:start + 500]),
                                 local, sources):
            firsts[row.pk] = row
    records = with_texts(session, Records(since=None, items=tuple(shown), others=firsts),
                          files, sources)
    pairs: list[Pair] = []
    for row in records.items:
        first = records.others.get(row.duplicate_of_pk or 0)
        if first is not None:
            pairs.append(build.pair(row, first))
    return Section(tuple(pairs), len(items) - len(pairs))


def _item(row: Any, zone: ZoneInfo) -> Item:
    return Item(row.number, row.unit, row.title, row.sender,
                local_minute(row.received_at, zone), row.status)


_ITEM = (Submission.number, Submission.unit, Submission.title, Submission.sender,
         Submission.received_at, Submission.status)


def unassigned(session: Session, zone: ZoneInfo) -> Section:
    """Items no unit was found for (R1), oldest first: nobody's credit until assigned."""
    wanted = select(*_ITEM).where(Submission.status == Status.UNASSIGNED)
    rows = session.execute(wanted.order_by(Submission.number).limit(LIMIT)).all()
    return _section([_item(row, zone) for row in rows], _count(session, wanted))


def registered(session: Session, settings: Settings) -> set[str]:
    """Every address on the roster: registered (table officers) or in the config."""
    found = {address.lower() for address in session.scalars(select(Officer.address))}
    return found | {a.lower() for unit in settings.units for a in unit.officers}


def unknown_senders(session: Session, settings: Settings,
                    files: FileStore) -> list[UnknownSender]:
    """Senders of items who are still not on the roster (R7: flagged, not dropped), the
    latest first, each with its display name and latest items."""
    known = registered(session, settings)
    rows = session.execute(
        select(*_ITEM, Submission.warnings, Message.raw_path)
        .join(Message, Message.id == Submission.message_pk)
        .where(Submission.sender.not_in(known))
        .order_by(Submission.received_at.desc(), Submission.id.desc())).all()
    grouped: dict[str, list[Any]] = {}
    for row in rows:
        address = row.sender.lower()
        if address and address not in known \
                and WarningCode.UNKNOWN_SENDER in (row.warnings or ()):
            grouped.setdefault(address, []).append(row)
    senders = []
    for index, (address, group) in enumerate(grouped.items()):
        name = _display_name(files, group[0].raw_path, group[0].received_at) \
            if index < LIMIT else ""
        senders.append(UnknownSender(
            address, name, tuple(_item(row, settings.zone) for row in group[:SENDER_ITEMS]),
            len(group), local_minute(group[0].received_at, settings.zone)))
    return senders


def _display_name(files: FileStore, raw_path: str, received_at: datetime) -> str:
    try:
        raw = files.read(raw_path)
    except (OSError, ValueError):
        return ""
    return parse_letter(raw, received_at).sender_name.strip()


def flagged(session: Session, zone: ZoneInfo, since: datetime) -> list[Flagged]:
    """Items in the window whose sender failed authentication (rejected: the trusted
    server says the From domain is forged), newest first, with what the server said."""
    rows = session.execute(
        select(*_ITEM, Submission.warnings, Message.detail)
        .join(Message, Message.id == Submission.message_pk)
        .where(Submission.received_at >= since, Submission.status == Status.REJECTED)
        .order_by(Submission.received_at.desc(), Submission.id.desc())).all()
    return [Flagged(_item(row, zone), _why(row.detail))
            for row in rows
            if WarningCode.SENDER_AUTHENTICATION_FAILED in (row.warnings or ())]


def _why(detail: Any) -> str:
    flag = str((detail or {}).get("flag") or "")
    prefix = f"{WarningCode.SENDER_AUTHENTICATION_FAILED}: "
    return flag[len(prefix):] if flag.startswith(prefix) else flag


def failed_mails(session: Session, zone: ZoneInfo, since: datetime) -> Section:
    """Mails recorded as failed in the window (R13: moved to the failed folder, with the
    reason), newest first."""
    wanted = select(Message.received_at, Message.sender, Message.subject, Message.reason) \
        .where(Message.kind == Kind.FAILED, Message.received_at >= since)
    rows = session.execute(wanted.order_by(Message.received_at.desc(), Message.id.desc())
                           .limit(LIMIT)).all()
    return _section([FailedMail(local_minute(row.received_at, zone), row.sender, row.subject,
                                row.reason or "") for row in rows], _count(session, wanted))


def retrying(session: Session, zone: ZoneInfo) -> Section:
    """Mails whose processing failed and that a later pass tries again (after the last
    attempt they are recorded as failed, above): the attempts counted at a mail not
    recorded (yet)."""
    wanted = select(ProcessingFailure).where(
        ProcessingFailure.raw_sha256.not_in(select(Message.raw_sha256)))
    rows = session.scalars(wanted.order_by(ProcessingFailure.last_at.desc())
                           .limit(LIMIT)).all()
    return _section([Retrying(f"{row.mailbox} / {row.uid}", row.attempts, row.last_error,
                              local_minute(row.last_at, zone)) for row in rows],
                    _count(session, wanted))
