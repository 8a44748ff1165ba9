"""A mail from an office address whose subject starts with a command word (SPEC "Office
commands by mail"). Recorded with its command word; executing the commands (adoption, 批示,
reviews, 约稿) and replying is the office-side work that builds on this handler."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mailroom.handlers.base import Incoming, Services, base_detail, record_message
from mailroom.rules.classify import command_word


class CommandHandler:
    def handle(self, session: Session, incoming: Incoming, services: Services) -> str | None:
        detail = base_detail(incoming)
        detail["command"] = command_word(incoming.letter.subject)
        record_message(session, incoming, services, detail)
        return None
