"""What the console's 约稿, roster and outbox pages show, read as plain values: the 约稿
requests as `request list --format json` has them (requests/service.py) with who asked and
when; the configured units with their officers (config and table `officers`) and heads;
the outbox, newest first, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailroom.config import Settings
from mailroom.requests import service
from mailroom.store.models import Officer, OutgoingMail, Request
from mailroom.vocabulary import local_minute

# --- 约稿 requests ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestView:
    code: str
    title: str
    units: tuple[str, ...]
    due: str  # YYYY-MM-DD
    note: str
    open: bool
    overdue: bool  # open and the due date has passed
    answered: tuple[tuple[str, tuple[str, ...], bool], ...]  # (unit, numbers, asked)
    missing: tuple[str, ...]
    created_by: str
    created_at: str  # local
    source: str  # cli | mail | web
    closed_by: str | None
    closed_at: str | None


def request_views(session: Session, zone: ZoneInfo, today: date) -> list[RequestView]:
    """Every request, open ones first, then the newest first."""
    rows = service.all_requests(session)
    objects = service.request_objects(session, rows)
    views = [_request_view(row, obj, zone, today) for row, obj in zip(rows, objects,
                                                                        strict=True)]
    return sorted(reversed(views), key=lambda v: not v.open)


def _request_view(row: Request, obj: dict[str, Any], zone: ZoneInfo,
                  today: date) -> RequestView:
    units = tuple(obj["units"])
    return RequestView(
        code=row.code, title=row.title, units=units, due=row.due, note=row.note,
        open=row.status == service.OPEN,
        overdue=row.status == service.OPEN and date.fromisoformat(row.due) < today,
        answered=tuple((unit, tuple(numbers), unit in units)
                       for unit, numbers in obj["answered"].items()),
        missing=tuple(obj["missing"]), created_by=row.created_by,
        created_at=local_minute(row.created_at, zone), source=row.source,
        closed_by=row.closed_by,
        closed_at=local_minute(row.closed_at, zone) if row.closed_at else None)


# --- the roster --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfficerView:
    address: str
    name: str
    source: str  # config | roster | cli | web
    registered_at: str  # local; "" for a config officer not synced yet
    registered_by: str | None  # the login name (cli), the console user (web)
    in_config: bool  # listed in [[units]] officers: removed in the config, not here


@dataclass(frozen=True)
class UnitView:
    name: str
    aliases: tuple[str, ...]
    quota: int
    officers: tuple[OfficerView, ...]
    heads: tuple[str, ...]
    configured: bool = True  # False: officers registered for a unit no longer configured


def roster_views(session: Session, settings: Settings) -> list[UnitView]:
    """Each configured unit in config order with its officers; then any unit the table
    still names that the config no longer has (its officers count for nobody)."""
    configured = {a.lower() for unit in settings.units for a in unit.officers}
    by_unit: dict[str, list[OfficerView]] = {}
    for officer in session.scalars(select(Officer).order_by(Officer.unit, Officer.address)):
        by_unit.setdefault(officer.unit, []).append(OfficerView(
            officer.address, officer.name, officer.source,
            local_minute(officer.registered_at, settings.zone), officer.registered_by,
            officer.address.lower() in configured))
    units = []
    for unit in settings.units:
        officers = by_unit.pop(unit.name, [])
        listed = {o.address.lower() for o in officers}
        officers += [OfficerView(a.lower(), "", "config", "", None, True) for a in unit.officers
                     if a.lower() not in listed]
        quota = unit.quota if unit.quota is not None else settings.quota.monthly_minimum
        units.append(UnitView(unit.name, tuple(unit.aliases), quota, tuple(officers),
                              tuple(unit.heads)))
    units += [UnitView(name, (), 0, tuple(officers), (), configured=False)
              for name, officers in sorted(by_unit.items())]
    return units


# --- the outbox --------------------------------------------------------------------------------

STATUSES = ("pending", "sent", "failed")
PER_PAGE = 50


@dataclass(frozen=True)
class OutgoingView:
    id: int
    purpose: str
    channel: str  # mail | webhook
    recipients: tuple[str, ...]
    subject: str
    status: str  # pending | sent | failed
    attempts: int
    last_error: str
    created_at: str  # local
    sent_at: str | None
    next_attempt_at: str | None  # pending rows: when it is tried again


@dataclass(frozen=True)
class OutboxPage:
    rows: tuple[OutgoingView, ...]
    status: str | None  # the filter, None: all
    page: int
    pages: int
    total: int  # rows under the filter
    counts: dict[str, int]  # per status, all rows


_COLUMNS = (OutgoingMail.id, OutgoingMail.purpose, OutgoingMail.channel,
            OutgoingMail.recipients, OutgoingMail.subject, OutgoingMail.status,
            OutgoingMail.attempts, OutgoingMail.last_error, OutgoingMail.created_at,
            OutgoingMail.sent_at, OutgoingMail.next_attempt_at)


def outbox_page(session: Session, zone: ZoneInfo, status: str | None, page: int,
                now: datetime) -> OutboxPage:
    """A page of the outbox (not the bytes), newest first; `status` one of STATUSES or
    None (all); a page past the last is the last."""
    counts = {status: 0 for status in STATUSES} | {
        str(s): int(n) for s, n in session.execute(
            select(OutgoingMail.status, func.count()).group_by(OutgoingMail.status))}
    total = counts.get(status, 0) if status else sum(counts.values())
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    wanted = select(*_COLUMNS)
    if status:
        wanted = wanted.where(OutgoingMail.status == status)
    rows = session.execute(wanted.order_by(OutgoingMail.created_at.desc(),
                                           OutgoingMail.id.desc())
                           .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    return OutboxPage(tuple(_outgoing(row, zone, now) for row in rows), status, page, pages,
                      total, counts)


def _outgoing(row: Any, zone: ZoneInfo, now: datetime) -> OutgoingView:
    retry = row.status == "pending" and row.attempts and row.next_attempt_at > now
    return OutgoingView(
        row.id, row.purpose, row.channel, tuple(row.recipients or ()), row.subject,
        row.status, row.attempts, row.last_error, local_minute(row.created_at, zone),
        local_minute(row.sent_at, zone) if row.sent_at else None,
        local_minute(row.next_attempt_at, zone) if retry else None)
