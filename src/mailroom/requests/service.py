"""约稿 requests (R14), the use case: record one (the CLI and a command mail call the same
`add_request`), mail it to the units asked, close it, list them, and link the submissions
that answer them. Every call works in the caller's transaction and never commits; what
cannot be done raises `DecisionError` (errors.py) with a `code` and the `facts` a Chinese
reply needs, and writes nothing.

A request is mailed, one mail per unit (purpose `request`, Message-ID from
`request:<code>:<unit>`), to the unit's officers (config `[[units]] officers` and the
registered roster) and heads; a unit with nobody to mail is said in the outcome
(`nobody`), and the request is recorded all the same. Request mails are few and rendered
when queued (no deferred facts).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from mailroom.config import Settings
from mailroom.decisions import CHANNEL_THRESHOLD, Actor, channel_score
from mailroom.errors import DecisionError
from mailroom.outbox import compose
from mailroom.outbox.outgoing import sender_address
from mailroom.requests.codes import format_code, parse_code
from mailroom.requests.matching import Answer, OpenRequest, answers
from mailroom.rules.folding import key
from mailroom.store import queries, storable
from mailroom.store.models import (
    Base,
    Officer,
    OutgoingMail,
    Request,
    RequestLink,
    RequestUnit,
    Submission,
)
from mailroom.vocabulary import month_of

REQUEST_PURPOSE = "request"
REMINDER_PURPOSE = "request-reminder"
OPEN, CLOSED = "open", "closed"
CLOCK_SKEW = timedelta(minutes=2)
_TITLE = 200  # characters kept of a title


@dataclass(frozen=True)
class Added:
    """A request recorded: its code, what it asks, and to whom its mail was queued."""

    code: str
    title: str
    units: tuple[str, ...]
    due: str  # "YYYY-MM-DD"
    note: str
    sent_to: dict[str, tuple[str, ...]] = field(default_factory=dict)  # unit -> addresses
    nobody: tuple[str, ...] = ()  # units with nobody to mail


# --- names ---------------------------------------------------------------------------------


def unit_named(settings: Settings, text: str) -> str:
    """The configured unit `text` names: name or alias exactly (folded), else a unique
    fuzzy match as adoption channels are matched (decisions.channel_score)."""
    wanted = key(text)
    names = "、".join(unit.name for unit in settings.units) or "(none configured)"
    for unit in settings.units:
        if wanted and wanted in {key(unit.name), *(key(alias) for alias in unit.aliases)}:
            return unit.name
    passed = [unit.name for unit in settings.units
              if wanted and max(channel_score(wanted, key(name))
                                for name in (unit.name, *unit.aliases)) >= CHANNEL_THRESHOLD]
    if len(passed) == 1:
        return passed[0]
    if passed:
        raise DecisionError("ambiguous_unit", f"{text!r} could be any of the units "
                            f"{'、'.join(passed)}; write the name in full",
                            unit=text, units="、".join(passed))
    raise DecisionError("unknown_unit", f"no unit named {text!r} in the config; units: "
                        f"{names}", unit=text, units=names)


def find(session: Session, text: str) -> Request:
    """The request a code names (`约稿201905-01` or `201905-01`)."""
    code = parse_code(text)
    found = None if code is None else session.scalars(
        select(Request).where(Request.code == code)).first()
    if found is None:
        raise DecisionError("unknown_request", f"no request (约稿) with the code "
                            f"{code or text.strip()!r}", request=code or text.strip())
    return found


# --- add, close --------------------------------------------------------------------------


def add_request(session: Session, settings: Settings, *, title: str, units: Sequence[str],
                due: date | None, note: str, actor: Actor) -> Added:
    """Record a request and queue its mail to each unit asked."""
    title = storable.bounded(" ".join(title.split()), _TITLE)
    if not title:
        raise DecisionError("missing_title", "a request (约稿) needs a title")
    if not units:
        raise DecisionError("no_units", f"request {title!r}: name the units asked",
                            title=title)
    named = list(dict.fromkeys(unit_named(settings, unit) for unit in units))
    if due is None:
        raise DecisionError("no_due", f"request {title!r}: give the due date (YYYY-MM-DD)",
                            title=title)
    today = actor.at.astimezone(settings.zone).date()
    if due < today:
        raise DecisionError("past_due", f"request {title!r}: the due date {due.isoformat()} "
                            f"is before today ({today.isoformat()})", title=title,
                            due=due.isoformat(), today=today.isoformat())
    month = month_of(actor.at, settings.zone)
    sequence = 1 + int(session.scalar(select(func.coalesce(func.max(Request.sequence), 0))
                                      .where(Request.month == month)) or 0)
    request = Request(
        code=format_code(month, sequence), month=month, sequence=sequence, title=title,
        due=due.isoformat(), note=storable.text(note.strip()), status=OPEN,
        created_at=actor.at, created_by=storable.bounded(actor.by.strip() or "unknown", 200),
        source=actor.source.value, message_pk=actor.message_pk, closed_at=None,
        closed_by=None)
    session.add(request)
    session.flush()
    sent: dict[str, tuple[str, ...]] = {}
    for position, unit in enumerate(named):
        to = recipients(session, settings, unit)
        message_id = None
        if to:
            message_id = queue_mail(session, settings, actor.at, request, unit, to,
                                    REQUEST_PURPOSE)
            sent[unit] = to
        session.add(RequestUnit(request_id=request.id, position=position, unit=unit,
                                message_id=message_id))
    session.flush()
    return Added(request.code, title, tuple(named), request.due, request.note, sent,
                 tuple(unit for unit in named if unit not in sent))


def close_request(session: Session, text: str, actor: Actor) -> Request:
    request = find(session, text)
    if request.status == CLOSED:
        raise DecisionError("already_closed", f"{request.code} was already closed by "
                            f"{request.closed_by}", request=request.code)
    request.status, request.closed_at = CLOSED, actor.at
    request.closed_by = storable.bounded(actor.by.strip() or "unknown", 200)
    session.flush()
    return request


# --- mail -----------------------------------------------------------------------------------


def recipients(session: Session, settings: Settings, unit: str) -> tuple[str, ...]:
    """A unit's officers (config and roster) and heads, each once."""
    configured = next((u for u in settings.units if u.name == unit), None)
    roster = session.scalars(select(Officer.address).where(Officer.unit == unit)
                             .order_by(Officer.address))
    officers = list(configured.officers) if configured else []
    heads = list(configured.heads) if configured else []
    return compose.recipients_of([*officers, *roster, *heads])


def mail_id(settings: Settings, purpose: str, code: str, unit: str) -> str:
    return compose.message_id(purpose, f"{purpose}:{code}:{unit}", sender_address(settings))


def queue_mail(session: Session, settings: Settings, now: datetime, request: Request,
               unit: str, to: tuple[str, ...], purpose: str,
               thread: str | None = None) -> str:
    """Render the request mail (or its due-date reminder, `thread`ed to the request mail
    so that a reply to it names the request mail too) to `unit` and queue it."""
    template = "request" if purpose == REQUEST_PURPOSE else "request-reminder"
    message_id = mail_id(settings, purpose, request.code, unit)
    context: dict[str, Any] = {
        "r": request, "unit": unit, "office": settings.office.name,
        "due": date.fromisoformat(request.due),
        "sent_on": now.astimezone(settings.zone).date(),
        "created_on": request.created_at.astimezone(settings.zone).date()}
    text, html = compose.render(template, **context)
    sender = sender_address(settings)
    envelope = compose.Envelope(
        sender=sender, recipients=to, subject=compose.subject(template, **context),
        message_id=message_id, date=now.astimezone(settings.zone),
        auto_submitted="auto-generated", purpose=purpose,
        thread=compose.Thread(thread) if thread else None)
    queries.insert_rows(session, OutgoingMail, [{
        "purpose": purpose, "channel": "mail", "message_id": message_id,
        "source_pk": request.message_pk if purpose == REQUEST_PURPOSE else None,
        "reply_to": "", "source_received_at": None, "sender": sender, "recipients": list(to),
        "subject": envelope.subject, "raw": compose.compose(envelope, text, html),
        "render": None, "status": "pending", "attempts": 0, "next_attempt_at": now,
        "last_error": "", "created_at": now, "sent_at": None, "delivered_to": ""}])
    return message_id


# --- listing --------------------------------------------------------------------------------


def asked_units(session: Session, request_ids: Iterable[int]) -> dict[int, list[str]]:
    ids = list(request_ids)
    units: dict[int, list[str]] = {pk: [] for pk in ids}
    for pk, unit in session.execute(select(RequestUnit.request_id, RequestUnit.unit)
                                    .where(RequestUnit.request_id.in_(ids))
                                    .order_by(RequestUnit.request_id, RequestUnit.position)):
        units[pk].append(unit)
    return units


def answered_by(session: Session, request_ids: Iterable[int]) -> dict[int, dict[str, list[str]]]:
    """Per request: unit -> the numbers of its linked submissions (the submission's unit as
    it stands; an unassigned one is nobody's and left out)."""
    ids = list(request_ids)
    found: dict[int, dict[str, list[str]]] = {pk: {} for pk in ids}
    for pk, unit, number in session.execute(
            select(RequestLink.request_id, Submission.unit, Submission.number)
            .join(Submission, Submission.id == RequestLink.submission_id)
            .where(RequestLink.request_id.in_(ids), Submission.unit.is_not(None))
            .order_by(Submission.number)):
        if unit is not None:
            found[pk].setdefault(unit, []).append(number)
    return found


def request_object(request: Request, units: list[str],
                   answered: dict[str, list[str]]) -> dict[str, Any]:
    """One request in `request list --format json`'s shape; asked units first in
    `answered`, then units that answered unasked."""
    ordered = {unit: answered[unit] for unit in units if unit in answered}
    ordered |= {unit: numbers for unit, numbers in sorted(answered.items())
                if unit not in ordered}
    return {"code": request.code, "title": request.title, "units": units, "due": request.due,
            "answered": ordered, "missing": [unit for unit in units if unit not in answered],
            "status": request.status}


def request_objects(session: Session, requests: Sequence[Request]) -> list[dict[str, Any]]:
    ids = [request.id for request in requests]
    units, answered = asked_units(session, ids), answered_by(session, ids)
    return [request_object(request, units[request.id], answered[request.id])
            for request in requests]


def all_requests(session: Session) -> list[Request]:
    return list(session.scalars(select(Request).order_by(Request.month, Request.sequence)))


# --- linking ----------------------------------------------------------------------------------


def open_requests(session: Session, before: datetime) -> list[OpenRequest]:
    """The requests open now, each marked whether it was created by `before` (a title
    alone cannot answer a request made after the mail), give or take CLOCK_SKEW: the
    mailbox's clock is not ours, and it keeps whole seconds."""
    connection = session.connection()
    rows = connection.execute(_OPEN_REQUESTS).all()
    if not rows:
        return []
    ids: dict[int, set[str]] = {row.id: set() for row in rows}
    for pk, message_id in connection.execute(_REQUEST_MAILS, {"ids": list(ids)}):
        if message_id is not None:
            ids[pk].add(message_id)
    return [OpenRequest(row.id, row.code, row.title, frozenset(ids[row.id]),
                        row.created_at <= before + CLOCK_SKEW) for row in rows]


# Built once, run through Core: every submission recorded asks for the open requests, and
# building an ORM statement and loading entities per mail cost more than running it
# (benchmarks/ingest.py).
_REQUESTS, _UNITS = (Base.metadata.tables[model.__tablename__] for model in (Request, RequestUnit))
_OPEN_REQUESTS = select(_REQUESTS.c.id, _REQUESTS.c.code, _REQUESTS.c.title,
                        _REQUESTS.c.created_at).where(_REQUESTS.c.status == OPEN) \
    .order_by(_REQUESTS.c.id)
_REQUEST_MAILS = select(_UNITS.c.request_id, _UNITS.c.message_id) \
    .where(_UNITS.c.request_id.in_(bindparam("ids", expanding=True)),
           _UNITS.c.message_id.is_not(None))


def link_submission(session: Session, submission_pk: int, subject: str, title: str,
                    body: str, references: Sequence[str], received_at: datetime,
                    now: datetime) -> list[Answer]:
    """Link a submission just recorded to the open requests it answers
    (requests/matching.py), in its transaction."""
    candidates = open_requests(session, received_at)
    if not candidates:
        return []
    found = answers(title, body, references, candidates, subject)
    for answer in found:
        session.add(RequestLink(request_id=answer.request.id, submission_id=submission_pk,
                                how=answer.how, score=answer.score, linked_at=now))
    session.flush()
    return found
