"""What every handler gets and shares: the mail as parsed, the services, the message row.

The runner (pipeline.py) owns the loop, the transaction, the retries and filing away; a
handler decides what one kind of mail means and writes it, inside the transaction it is
given. `Incoming` is the mail seen from every side at once (fetched, prepared, classified);
`Services` are what the decisions need; `record_message` writes the mail's row once,
complete, with its attachments.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from mailroom.clock import Clock
from mailroom.config import Settings
from mailroom.dedupe.engine import Dedupe
from mailroom.mailbox.base import FetchedMail
from mailroom.outbox.outgoing import Outgoing
from mailroom.parsing.letter import Letter
from mailroom.preparing import Prepared
from mailroom.rules.classify import Classification
from mailroom.rules.subject import ParsedSubject
from mailroom.store import queries
from mailroom.store.models import StoredAttachment
from mailroom.vocabulary import Kind


@dataclass(frozen=True)
class Incoming:
    """One mail being recorded: as fetched, as prepared (parsed, stored), as classified."""

    mail: FetchedMail
    raw_sha256: str
    prepared: Prepared
    subject: ParsedSubject
    classification: Classification

    @property
    def letter(self) -> Letter:
        return self.prepared.letter

    @property
    def kind(self) -> Kind:
        return Kind(self.classification.kind)

    @property
    def attachment_names(self) -> list[str]:
        return [part.filename for part in self.prepared.parts]


class Roster:
    """Registered officers' units, read once a pass and again after a roster mail."""

    def __init__(self) -> None:
        self._units: dict[str, str] | None = None

    def unit_of(self, session: Session, address: str) -> str | None:
        if self._units is None:
            self._units = queries.officer_units(session)
        return self._units.get(address.lower())

    def changed(self) -> None:
        self._units = None


@dataclass
class Services:
    settings: Settings
    clock: Clock
    outgoing: Outgoing
    dedupe: Dedupe
    roster: Roster
    timed: Callable[[str], AbstractContextManager[None]]  # time a stage (benchmarks)


class Handler(Protocol):
    """Records one kind of mail; returns the submission number it gave, if any."""

    def handle(self, session: Session, incoming: Incoming, services: Services) -> str | None:
        ...


def base_detail(incoming: Incoming) -> dict[str, Any]:
    """What every message's `detail` says: why the classifier chose its kind, what the
    parser found odd, which attachments could not be read."""
    detail: dict[str, Any] = {}
    if incoming.classification.reason:
        detail["reason"] = incoming.classification.reason
    if incoming.letter.parse_warnings:
        detail["parse_warnings"] = list(incoming.letter.parse_warnings)
    if incoming.prepared.text_notes:
        detail["unread_attachments"] = list(incoming.prepared.text_notes)
    return detail


def record_message(session: Session, incoming: Incoming, services: Services,
                   detail: dict[str, Any]) -> int:
    """Write the mail's `messages` row, complete, and its attachments; returns its id."""
    letter, mail = incoming.letter, incoming.mail
    message_pk = queries.insert_message(session, {
        "mailbox": mail.key.mailbox, "uidvalidity": mail.key.uidvalidity, "uid": mail.key.uid,
        "raw_sha256": incoming.raw_sha256, "raw_size": len(mail.raw),
        "raw_path": incoming.prepared.raw_path, "message_id": letter.message_id,
        "sender": letter.sender, "subject": letter.subject, "date_header": letter.date,
        "received_at": mail.received_at, "kind": incoming.kind, "reason": None,
        "detail": detail, "processed_at": services.clock.now(),
    })
    queries.insert_rows(session, StoredAttachment, [
        {**asdict(part), "position": position, "message_pk": message_pk}
        for position, part in enumerate(incoming.prepared.parts, start=1)])
    return message_pk
