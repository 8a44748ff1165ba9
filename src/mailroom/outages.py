"""Login failures (an expired NetEase authorisation code): recorded once per outage, and the
office told once, by a mail queued in the outbox (it goes out when SMTP works; when SMTP
fails too, the log and `mailroom check` say so).

An outage is a row of `outages` from the first refused login until a login works again;
a restarted daemon finds the open row and does not tell the office a second time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from mailroom.clock import Clock
from mailroom.config import Settings
from mailroom.outbox import compose
from mailroom.outbox.outgoing import sender_address
from mailroom.store import queries
from mailroom.store.models import Outage, OutgoingMail
from mailroom.vocabulary import local_minute

log = logging.getLogger(__name__)

PURPOSE = "login-failure"


@dataclass(frozen=True)
class LoginFailureFacts:
    service: str  # imap | smtp
    username: str
    host: str
    since: str  # local minute
    detail: str


def login_failed(sessions: sessionmaker[Session], settings: Settings, clock: Clock,
                 service: str, detail: str) -> bool:
    """Record that `service` refused our login; True when this starts an outage (then the
    office mail is queued, for an IMAP failure when there is somewhere to send it)."""
    now = clock.now()
    with sessions.begin() as session:
        if _open(session, service) is not None:
            return False
        said = detail.split(" (check ")[0]  # the server's words, without our hint to the admin
        outage = Outage(service=service, kind="login", started_at=now, ended_at=None,
                        detail=said[:2000], message_id=None)
        session.add(outage)
        session.flush()
        if service == "imap" and settings.office.addresses:
            outage.message_id = _queue_mail(session, settings, clock, outage)
    return True


def login_worked(sessions: sessionmaker[Session], clock: Clock, service: str) -> bool:
    """A login to `service` worked: close its open outage; True when there was one."""
    with sessions.begin() as session:
        result = session.execute(update(Outage).where(
            Outage.service == service, Outage.ended_at.is_(None)).values(ended_at=clock.now()))
        return bool(getattr(result, "rowcount", 0))


def describe_open(session: Session, settings: Settings) -> list[str]:
    """What `check` says about each open outage: since when, and whether the office knows."""
    lines = []
    outages = session.scalars(select(Outage).where(Outage.ended_at.is_(None))
                              .order_by(Outage.started_at)).all()
    for outage in outages:
        since = local_minute(outage.started_at, settings.zone)
        told = _office_told(session, outage, settings)
        lines.append(f"{outage.service} login failing since {since} ({outage.detail}); {told}")
    return lines


def _open(session: Session, service: str) -> Outage | None:
    return session.scalars(select(Outage).where(
        Outage.service == service, Outage.ended_at.is_(None))).first()


def _office_told(session: Session, outage: Outage, settings: Settings) -> str:
    if outage.message_id is None:
        return "the office was not mailed (SMTP itself fails)" if outage.service == "smtp" \
            else "the office was not mailed (no [office] addresses)"
    mail = session.scalars(select(OutgoingMail).where(
        OutgoingMail.message_id == outage.message_id)).first()
    if mail is None or mail.status == "failed":
        return "the mail to the office could not be sent"
    if mail.status == "sent" and mail.sent_at is not None:
        return f"the office was mailed at {local_minute(mail.sent_at, settings.zone)}"
    return "the mail to the office waits in the outbox (is SMTP failing too?)"


def _queue_mail(session: Session, settings: Settings, clock: Clock, outage: Outage) -> str:
    assert settings.imap is not None
    sender = sender_address(settings)
    facts = LoginFailureFacts(
        service=outage.service, username=settings.imap.username,
        host=f"{settings.imap.host}:{settings.imap.effective_port}",
        since=local_minute(outage.started_at, settings.zone), detail=outage.detail)
    message_id = compose.message_id(PURPOSE, f"{outage.service}\0{outage.id}\0"
                                    f"{outage.started_at.isoformat()}", sender)
    envelope = compose.Envelope(
        sender=sender, recipients=compose.recipients_of(settings.office.addresses),
        subject=compose.subject("login_failure", facts=facts), message_id=message_id,
        date=clock.now().astimezone(settings.zone), auto_submitted="auto-generated",
        purpose=PURPOSE, thread=None)
    text, html = compose.render("login_failure", facts=facts)
    now = clock.now()
    queries.insert_rows(session, OutgoingMail, [{
        "purpose": PURPOSE, "channel": "mail", "message_id": message_id, "source_pk": None,
        "reply_to": "", "source_received_at": None, "sender": sender,
        "recipients": list(envelope.recipients), "subject": envelope.subject,
        "raw": compose.compose(envelope, text, html), "status": "pending", "attempts": 0,
        "next_attempt_at": now, "last_error": "", "created_at": now, "sent_at": None,
        "delivered_to": ""}])
    log.info("queued a mail to the office (%s) about the failing %s login",
             ", ".join(envelope.recipients), outage.service)
    return message_id
