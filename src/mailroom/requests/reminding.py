"""The 约稿 due-date reminder (R14), a scheduled job (ISSUE10 contract): two days before a
request's due date, each unit asked that has not answered gets one reminder (purpose
`request-reminder`) at its officers and heads.

`scheduled_due_reminders` takes the day from `fire_time` in `timezone` and reminds about
the open requests due two days after it. It queues and never commits (the schedule
commits the mails with its ledger row). The Message-ID is derived from the request and the
unit, and a reminder already in the outbox is skipped, so a unit is reminded about a
request at most once, whatever runs twice. A unit with nobody to mail is left out and
named in the log line.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailroom.clock import Clock
from mailroom.config import Settings
from mailroom.requests import service
from mailroom.store.models import OutgoingMail, Request, RequestUnit

DAYS_BEFORE = 2


def scheduled_due_reminders(session: Session, settings: Settings, clock: Clock,
                            fire_time: datetime) -> str:
    """Queue the reminders for the open requests due DAYS_BEFORE days after fire_time's
    date; one line for the log."""
    due = (fire_time.astimezone(settings.zone).date() + timedelta(days=DAYS_BEFORE)).isoformat()
    requests = list(session.scalars(select(Request).where(
        Request.status == service.OPEN, Request.due == due).order_by(Request.code)))
    if not requests:
        return f"request reminders: no open request due {due}"
    answered = service.answered_by(session, [request.id for request in requests])
    queued: list[str] = []
    nobody: list[str] = []
    skipped = 0
    now = clock.now()
    for request in requests:
        for asked in session.scalars(select(RequestUnit).where(
                RequestUnit.request_id == request.id).order_by(RequestUnit.position)):
            if asked.unit in answered[request.id]:
                continue
            message_id = service.mail_id(settings, service.REMINDER_PURPOSE, request.code,
                                         asked.unit)
            if session.scalar(select(OutgoingMail.id).where(
                    OutgoingMail.message_id == message_id)) is not None:
                skipped += 1
                continue
            to = service.recipients(session, settings, asked.unit)
            if not to:
                nobody.append(f"{request.code} {asked.unit}")
                continue
            service.queue_mail(session, settings, now, request, asked.unit, to,
                               service.REMINDER_PURPOSE, thread=asked.message_id)
            queued.append(asked.unit)
    line = (f"request reminders: {len(queued)} queued for {len(requests)} request(s) due "
            f"{due}")
    if skipped:
        line += f", {skipped} already queued"
    if nobody:
        line += f"; nobody to mail: {', '.join(nobody)}"
    return line
