"""What a report reads from the database, loaded in a few set-based queries into plain
values (no ORM object leaves this module), for the pure building in build.py.

A period's records are the submissions of its months (`Submission.month`, already the
month of receipt in `timezone`, R4) with their adoptions (channel names) and 批示 counts,
plus, for the year-to-date 累计得分, the *scored* submissions (adopted or instructed) of the
year's earlier months, and the registered officers. Five queries, whatever the size: the
adoptions and the instructions of the year to date (joined to their items), the period's
submissions, the titles of its scored items, the officers.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from mailroom.store.models import (
    Adoption,
    Instruction,
    Officer,
    Request,
    RequestLink,
    RequestUnit,
    Submission,
)


class ItemRecord(NamedTuple):
    """One submission as a report sees it, or `count` alike submissions: the items nobody
    adopted or instructed come grouped by month, unit, status and sender (a year holds
    100,000 items, but not that many different lines); each scored item comes alone."""

    number: str  # "" for a group
    month: str  # "YYYY-MM": the month it was received in (R4); its adoptions count there
    unit: str | None  # None: unassigned
    status: str  # vocabulary.Status
    sender: str  # lower-case address
    title: str = ""  # loaded for the scored (adopted or instructed) items, when asked
    channels: tuple[str, ...] = ()  # the channels that adopted it (names as recorded)
    instructions: int = 0  # 批示 on it
    size: int = 1  # how many items this record stands for (> 1: a group, never scored)


class OfficerRecord(NamedTuple):
    address: str  # lower-case
    unit: str
    name: str  # "" when the roster gave none


class RequestRecord(NamedTuple):
    """A 约稿 created in the period (R14), with its units and linked items."""

    code: str
    month: str  # "YYYY-MM" it was created in
    title: str
    due: str
    status: str
    units: tuple[str, ...]  # asked, in order
    linked: tuple[tuple[str, str], ...]  # (unit, number) of linked items that have a unit


class Records(NamedTuple):
    items: tuple[ItemRecord, ...]  # the period's months in full, earlier months' scored items
    officers: tuple[OfficerRecord, ...]
    first_full_month: str  # items from this month on are all there; before it only scored
    requests: tuple[RequestRecord, ...] = ()  # the 约稿 created in the period's months


_S, _A, _I = Submission.__table__.c, Adoption.__table__.c, Instruction.__table__.c
_R, _RU, _RL = Request.__table__.c, RequestUnit.__table__.c, RequestLink.__table__.c
_ITEM = (_S.number, _S.month, _S.unit, _S.status, _S.sender)
Key = tuple[str, str | None, str, str]  # month, unit, status, sender


def load(session: Session, year: int, first_month: str, last_month: str,
         titles: bool = True) -> Records:
    """Every submission of `first_month` .. `last_month` ("YYYY-MM", inclusive, inside
    `year`), and the adopted or instructed ones of `year`'s months before `first_month`
    (their score makes the 累计得分). `titles`: the scored items' titles (the bulletin's
    list of adopted titles), which the annual summary does without."""
    connection = session.connection()  # Core rows: no ORM row processing
    in_year = _S.month.between(f"{year:04d}-01", last_month)
    scored: dict[int, tuple[str, str, str | None, str, str]] = {}
    channels: dict[int, list[str]] = defaultdict(list)
    for pk, channel, *item in connection.execute(
            select(_A.submission_id, _A.channel, *_ITEM)
            .join_from(Adoption.__table__, Submission.__table__)
            .where(in_year).order_by(_A.submission_id, _A.id)).all():
        channels[pk].append(channel)
        scored[pk] = tuple(item)
    instructions: dict[int, int] = {}
    for pk, count, *item in connection.execute(
            select(_I.submission_id, func.count(), *_ITEM)
            .join_from(Instruction.__table__, Submission.__table__)
            .where(in_year).group_by(_I.submission_id, *_ITEM)).all():
        instructions[pk] = int(count)
        scored[pk] = tuple(item)
    named = _titles(session, first_month, last_month) if titles else {}
    groups = _groups(session, first_month, last_month)
    items = []
    for pk, (number, month, unit, status, sender) in scored.items():
        if month >= first_month:
            groups[month, unit, status, (sender or "").lower()] -= 1
        items.append(ItemRecord(number, month, unit, status, (sender or "").lower(),
                                named.get(pk, ""), tuple(channels.get(pk, ())),
                                instructions.get(pk, 0)))
    items += [ItemRecord("", month, unit, status, sender, size=count)
              for (month, unit, status, sender), count in groups.items() if count > 0]
    officers = tuple(
        OfficerRecord(address.lower(), unit, name or "")
        for address, unit, name in connection.execute(
            select(Officer.address, Officer.unit, Officer.name).order_by(Officer.address)))
    return Records(items=tuple(items), officers=officers, first_full_month=first_month,
                   requests=_requests(session, first_month, last_month))


def _requests(session: Session, first_month: str, last_month: str) -> tuple[RequestRecord, ...]:
    """The 约稿 of the months — created or due in them, or answered by an item of them —
    their units asked and the items linked to them (three queries)."""
    connection = session.connection()
    answered_then = (select(_RL.request_id).join_from(RequestLink.__table__,
                                                      Submission.__table__)
                     .where(_S.month.between(first_month, last_month)))
    rows = connection.execute(
        select(_R.id, _R.code, _R.month, _R.title, _R.due, _R.status)
        .where(or_(_R.month.between(first_month, last_month),
                   func.substr(_R.due, 1, 7).between(first_month, last_month),
                   _R.id.in_(answered_then)))
        .order_by(_R.month, _R.sequence)).all()
    if not rows:
        return ()
    ids = [row.id for row in rows]
    units: dict[int, list[str]] = defaultdict(list)
    for pk, unit in connection.execute(select(_RU.request_id, _RU.unit).where(
            _RU.request_id.in_(ids)).order_by(_RU.request_id, _RU.position)):
        units[pk].append(unit)
    linked: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for pk, unit, number in connection.execute(
            select(_RL.request_id, _S.unit, _S.number)
            .join_from(RequestLink.__table__, Submission.__table__)
            .where(_RL.request_id.in_(ids), _S.unit.is_not(None)).order_by(_S.number)):
        linked[pk].append((unit, number))
    return tuple(RequestRecord(row.code, row.month, row.title, row.due, row.status,
                               tuple(units[row.id]), tuple(linked[row.id])) for row in rows)


def _groups(session: Session, first_month: str, last_month: str) -> dict[Key, int]:
    """How many submissions of the months there are per month, unit, status and sender:
    one GROUP BY (index ix_submissions_report covers it)."""
    groups: dict[Key, int] = defaultdict(int)
    columns = (_S.month, _S.unit, _S.status, _S.sender)
    for month, unit, status, sender, count in session.connection().execute(
            select(*columns, func.count()).where(_S.month.between(first_month, last_month))
            .group_by(*columns)).all():
        groups[month, unit, status, (sender or "").lower()] += int(count)
    return groups


def _titles(session: Session, first_month: str, last_month: str) -> dict[int, str]:
    """The titles of the period's adopted or instructed items."""
    scored = select(_A.submission_id).union(select(_I.submission_id))
    return {pk: title for pk, title in session.connection().execute(
        select(_S.id, _S.title).where(_S.month.between(first_month, last_month),
                                      _S.id.in_(scored)))}
