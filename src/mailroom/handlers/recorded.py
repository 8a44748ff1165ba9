"""Mail that is only recorded: our own mail coming back, bounces, auto-replies, list mail.
Never answered (RFC 3834), never numbered; kept with why it is what it is."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mailroom.handlers.base import Incoming, Services, base_detail, record_message


class RecordOnly:
    def handle(self, session: Session, incoming: Incoming, services: Services) -> str | None:
        record_message(session, incoming, services, base_detail(incoming))
        return None
