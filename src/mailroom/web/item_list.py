"""The console's list of items (`GET /items`): the filters a clerk sets in the form (month,
unit, status, priority, a title search), one page of the matching items in SQL, and the
counts per status. `ItemQuery.parse` reads the form's fields (anything malformed is
ignored, never an error); `find_items` reads the database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from mailroom.store.models import Adoption, StoredAttachment, Submission
from mailroom.vocabulary import LINKED, Priority, Status, is_month, local_minute

PAGE_SIZE = 50
ALL = ""  # a filter left open
NO_UNIT = "-"  # the unit filter for items without a unit
SORTS = ("new", "number")  # newest first | by number
MAX_QUERY = 100


@dataclass(frozen=True)
class ItemQuery:
    month: str = ALL  # "YYYY-MM"
    unit: str = ALL
    status: str = ALL
    priority: str = ALL
    q: str = ""  # a part of the title
    sort: str = "new"
    page: int = 1

    @classmethod
    def parse(cls, args: Mapping[str, str], default_month: str) -> ItemQuery:
        """The query a GET form sent. No `month` at all: `default_month` (this month);
        `month=` (the form's 全部月份): every month."""
        month = args.get("month", default_month).strip()
        status = args.get("status", "").strip()
        priority = args.get("priority", "").strip()
        sort = args.get("sort", "new")
        try:
            page = max(1, min(int(args.get("page", "1")), 100_000))
        except ValueError:
            page = 1
        return cls(month=month if is_month(month) else ALL,
                   unit=" ".join(args.get("unit", "").split())[:200],
                   status=status if status in set(Status) else ALL,
                   priority=priority if priority in set(Priority) else ALL,
                   q=" ".join(args.get("q", "").split())[:MAX_QUERY],
                   sort=sort if sort in SORTS else "new", page=page)

    def args(self, **changed: str | int) -> dict[str, str | int]:
        """The URL arguments of this query with some changed (links to pages, chips)."""
        query = replace(self, **changed)  # type: ignore[arg-type]
        out: dict[str, str | int] = {"month": query.month}
        for name in ("unit", "status", "priority", "q"):
            if getattr(query, name):
                out[name] = getattr(query, name)
        if query.sort != "new":
            out["sort"] = query.sort
        if query.page > 1:
            out["page"] = query.page
        return out


@dataclass(frozen=True)
class ListedItem:
    number: str
    received_at: str  # local "YYYY-MM-DD HH:MM"
    unit: str | None
    title: str
    sender: str
    status: str
    priority: str
    duplicate_of: str | None
    score: float | None
    attachments: int
    adoptions: int


@dataclass(frozen=True)
class ItemPage:
    query: ItemQuery
    items: tuple[ListedItem, ...]
    total: int  # items matching every filter
    by_status: dict[str, int]  # items matching the other filters, per status
    pages: int
    months: tuple[str, ...]  # months that have items, newest first
    units: tuple[str, ...]  # units that have items or are configured


def _filters(query: ItemQuery, with_status: bool = True) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if query.month:
        where.append(Submission.month == query.month)
    if query.unit == NO_UNIT:
        where.append(Submission.unit.is_(None))
    elif query.unit:
        where.append(Submission.unit == query.unit)
    if query.priority:
        where.append(Submission.priority == query.priority)
    if query.q:
        where.append(func.lower(Submission.title).contains(query.q.lower(), autoescape=True))
    if with_status and query.status:
        where.append(Submission.status == query.status)
    return where


def _ordered(statement: Select[Any], sort: str) -> Select[Any]:
    if sort == "number":
        return statement.order_by(Submission.number)
    return statement.order_by(Submission.received_at.desc(), Submission.id.desc())


def find_items(session: Session, query: ItemQuery, zone: ZoneInfo,
               configured_units: tuple[str, ...] = ()) -> ItemPage:
    """One page of the items `query` asks for, with the counts and the filters' choices."""
    by_status = {str(status): int(count) for status, count in session.execute(
        select(Submission.status, func.count()).where(*_filters(query, with_status=False))
        .group_by(Submission.status))}
    total = by_status.get(query.status, 0) if query.status else sum(by_status.values())
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(query.page, pages)
    statement = _ordered(select(Submission).where(*_filters(query)), query.sort)
    found: Sequence[Submission] = session.scalars(
        statement.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return ItemPage(replace(query, page=page), _listed(session, found, zone), total,
                    by_status, pages, _months(session), _units(session, configured_units))


def _listed(session: Session, found: Sequence[Submission], zone: ZoneInfo
            ) -> tuple[ListedItem, ...]:
    ids = [item.id for item in found]
    firsts = {pk: number for pk, number in session.execute(
        select(Submission.id, Submission.number).where(Submission.id.in_(
            {item.duplicate_of_id for item in found if _linked(item)})))}
    attached = dict(session.execute(
        select(StoredAttachment.message_pk, func.count()).where(
            StoredAttachment.message_pk.in_([item.message_pk for item in found]))
        .group_by(StoredAttachment.message_pk)).all())
    adopted = dict(session.execute(
        select(Adoption.submission_id, func.count()).where(Adoption.submission_id.in_(ids))
        .group_by(Adoption.submission_id)).all())
    return tuple(ListedItem(
        item.number, local_minute(item.received_at, zone), item.unit, item.title, item.sender,
        item.status, item.priority,
        firsts.get(item.duplicate_of_id or 0) if _linked(item) else None,
        item.score if _linked(item) else None,
        attached.get(item.message_pk, 0), adopted.get(item.id, 0)) for item in found)


def _linked(item: Submission) -> bool:
    return item.status in LINKED and item.duplicate_of_id is not None


def _months(session: Session) -> tuple[str, ...]:
    return tuple(session.scalars(select(Submission.month).distinct()
                                 .order_by(Submission.month.desc())))


def _units(session: Session, configured: tuple[str, ...]) -> tuple[str, ...]:
    stored = session.scalars(select(Submission.unit).where(Submission.unit.is_not(None))
                             .distinct())
    return tuple(dict.fromkeys([*configured, *sorted(unit for unit in stored if unit)]))
