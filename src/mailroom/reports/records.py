"""What a report reads from the database, loaded in a few set-based queries into plain
values (no ORM object leaves this module), for the pure building in build.py.

A period's records are the submissions of its months (`Submission.month`, already the
month of receipt in `timezone`, R4) with their adoptions (channel names) and 批示 counts,
plus, for the year-to-date 累计得分, the *scored* submissions (adopted or instructed) of the
year's earlier months, and the registered officers. Five queries, whatever the size: the
submissions of the months, the scored submissions before them, the adoptions and the
instructions of both (joined on the month range), and the officers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailroom.store.models import Adoption, Instruction, Officer, Submission


@dataclass(frozen=True)
class ItemRecord:
    """One submission as a report sees it."""

    number: str
    month: str  # "YYYY-MM": the month it was received in (R4); its adoptions count there
    unit: str | None  # None: unassigned
    status: str  # vocabulary.Status
    sender: str  # lower-case address
    title: str
    channels: tuple[str, ...] = ()  # the channels that adopted it (names as recorded)
    instructions: int = 0  # 批示 on it


@dataclass(frozen=True)
class OfficerRecord:
    address: str  # lower-case
    unit: str
    name: str  # "" when the roster gave none


@dataclass(frozen=True)
class Records:
    items: tuple[ItemRecord, ...]  # the period's months in full, earlier months' scored items
    officers: tuple[OfficerRecord, ...]
    first_full_month: str  # items from this month on are all there; before it only scored


def load(session: Session, year: int, first_month: str, last_month: str) -> Records:
    """Every submission of `first_month` .. `last_month` ("YYYY-MM", inclusive, inside
    `year`), and the adopted or instructed ones of `year`'s months before `first_month`."""
    year_start = f"{year:04d}-01"
    in_year = Submission.month.between(year_start, last_month)
    adoptions: dict[int, list[str]] = defaultdict(list)
    for submission_id, channel in session.execute(
            select(Adoption.submission_id, Adoption.channel)
            .join(Submission, Submission.id == Adoption.submission_id)
            .where(in_year).order_by(Adoption.submission_id, Adoption.id)):
        adoptions[submission_id].append(channel)
    instructions: Counter[int] = Counter()
    for submission_id, count in session.execute(
            select(Instruction.submission_id, func.count())
            .join(Submission, Submission.id == Instruction.submission_id)
            .where(in_year).group_by(Instruction.submission_id)):
        instructions[submission_id] = int(count)
    columns = (Submission.id, Submission.number, Submission.month, Submission.unit,
               Submission.status, Submission.sender, Submission.title)
    rows = list(session.execute(
        select(*columns).where(Submission.month.between(first_month, last_month))))
    if first_month > year_start:
        scored = select(Adoption.submission_id).union(select(Instruction.submission_id))
        rows += session.execute(select(*columns).where(
            Submission.month.between(year_start, _before(first_month)),
            Submission.id.in_(scored)))
    items = tuple(
        ItemRecord(number=number, month=month, unit=unit, status=status,
                   sender=(sender or "").lower(), title=title,
                   channels=tuple(adoptions.get(pk, ())), instructions=instructions[pk])
        for pk, number, month, unit, status, sender, title in rows)
    officers = tuple(
        OfficerRecord(address.lower(), unit, name or "")
        for address, unit, name in session.execute(
            select(Officer.address, Officer.unit, Officer.name).order_by(Officer.address)))
    return Records(items=items, officers=officers, first_full_month=first_month)


def _before(month: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    return f"{year - 1:04d}-12" if number == 1 else f"{year:04d}-{number - 1:02d}"
