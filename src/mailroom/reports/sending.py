"""`report … --send`: the bulletin (or the annual summary) as a mail through the outbox:
to `[office] addresses` and every unit's `heads`, the HTML rendering as the HTML body, the
text rendering as the plain one, the CSV, XLSX and DOCX attached (R9).

Each period has one deterministic Message-ID (purpose `bulletin` / `annual`, key the
period), so a report queued twice for the same period is visible: a second `--send` is
refused, naming when the first was queued, unless `--force`, which queues it again under
the next Message-ID of the period (`…#2`, `…#3`). The schedule's jobs can call
`queue_report` too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailroom.clock import Clock
from mailroom.config import Settings
from mailroom.errors import InvalidInput, MailroomError
from mailroom.outbox import compose
from mailroom.outbox.outgoing import sender_address
from mailroom.reports.values import AnnualReport, MonthlyReport
from mailroom.store import queries
from mailroom.store.models import OutgoingMail
from mailroom.vocabulary import local_minute

Report = MonthlyReport | AnnualReport
Renderer = Callable[[Report], bytes]

ATTACHED = ("csv", "xlsx", "docx")
CONTENT_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


class RendererMissing(MailroomError):
    """A format the mail needs has no renderer in this build."""


class AlreadyQueued(InvalidInput):
    """The period's report was queued before (by hand or by the schedule), and not --force."""


@dataclass(frozen=True)
class Queued:
    outbox_id: int
    message_id: str
    recipients: tuple[str, ...]
    subject: str


def purpose_and_key(report: Report) -> tuple[str, str]:
    if isinstance(report, MonthlyReport):
        return "bulletin", f"monthly:{report.period}"
    return "annual", f"annual:{report.year:04d}"


def recipients(settings: Settings) -> tuple[str, ...]:
    """The office, then every unit's heads, each once."""
    heads = [head for unit in settings.units for head in unit.heads]
    return compose.recipients_of([*settings.office.addresses, *heads])


def _renderer(renderers: Mapping[str, Renderer], fmt: str) -> Renderer:
    renderer = renderers.get(fmt)
    if renderer is None:
        raise RendererMissing(f"cannot mail the report: no {fmt} renderer in this build "
                              f"(formats available: {', '.join(sorted(renderers))})")
    return renderer


def file_name(report: Report, fmt: str) -> str:
    """The attachment's name, as the subject: 永宁县自然资源局 2019年5月信息报送情况通报.xlsx."""
    return f"{subject_line(report)}.{fmt}"


def subject_line(report: Report) -> str:
    kind = "monthly" if isinstance(report, MonthlyReport) else "annual"
    return compose.subject("report", r=report, kind=kind)


def queue_report(session: Session, settings: Settings, clock: Clock, report: Report,
                 renderers: Mapping[str, Renderer], *, force: bool = False) -> Queued:
    """Render the report mail and write it to the outbox (the caller commits)."""
    to = recipients(settings)
    if not to:
        raise InvalidInput("nobody to send the report to: set [office] addresses or a "
                           "unit's heads")
    text = _renderer(renderers, "text")(report).decode("utf-8")
    html = _renderer(renderers, "html")(report).decode("utf-8")
    attachments = [compose.Attachment(file_name(report, fmt), CONTENT_TYPES[fmt],
                                      _renderer(renderers, fmt)(report)) for fmt in ATTACHED]
    sender = sender_address(settings)
    message_id = _message_id(session, settings, report, sender, force)
    subject = subject_line(report)
    now = clock.now()
    envelope = compose.Envelope(
        sender=sender, recipients=to, subject=subject, message_id=message_id,
        date=now.astimezone(settings.zone), auto_submitted="auto-generated",
        purpose=purpose_and_key(report)[0])
    raw = compose.compose(envelope, text, html, attachments)
    queries.insert_rows(session, OutgoingMail, [{
        "purpose": envelope.purpose, "channel": "mail", "message_id": message_id,
        "source_pk": None, "reply_to": "", "source_received_at": None, "sender": sender,
        "recipients": list(to), "subject": subject, "raw": raw, "status": "pending",
        "attempts": 0, "next_attempt_at": now, "last_error": "", "created_at": now,
        "sent_at": None, "delivered_to": ""}])
    outbox_id = session.scalar(select(OutgoingMail.id)
                               .where(OutgoingMail.message_id == message_id))
    assert outbox_id is not None
    return Queued(outbox_id, message_id, to, subject)


def _message_id(session: Session, settings: Settings, report: Report, sender: str,
                force: bool) -> str:
    purpose, key = purpose_and_key(report)
    first = compose.message_id(purpose, key, sender)
    earlier = session.execute(
        select(OutgoingMail.message_id, OutgoingMail.created_at, OutgoingMail.status)
        .where(OutgoingMail.purpose == purpose,
               OutgoingMail.message_id.like(f"mailroom.{purpose}.%"))).all()
    taken = {row.message_id for row in earlier}
    if first not in taken:
        return first
    if not force:
        row = next(row for row in earlier if row.message_id == first)
        period = key.split(":", 1)[1]
        raise AlreadyQueued(
            f"the {period} report was already queued at "
            f"{local_minute(row.created_at, settings.zone)} ({row.status}); "
            "--force sends it again")
    attempt = 2
    while (candidate := compose.message_id(purpose, f"{key}#{attempt}", sender)) in taken:
        attempt += 1
    return candidate
