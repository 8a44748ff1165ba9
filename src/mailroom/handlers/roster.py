"""A roster mail (R7): registers the sender as an officer (信息员) of the unit its subject
names, and confirms it — or says why it could not and how to."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mailroom.handlers.base import Incoming, Services, base_detail, record_message
from mailroom.rules.roster import officer_name
from mailroom.store import queries


class RosterHandler:
    def handle(self, session: Session, incoming: Incoming, services: Services) -> str | None:
        letter = incoming.letter
        unit = incoming.subject.unit or services.roster.unit_of(session, letter.sender)
        why = ""
        if not letter.sender:
            why = "no sender address"
        elif unit is None:
            why = "no unit recognised in the subject"
        name = officer_name(incoming.subject.title or letter.subject) or letter.sender_name
        reply = services.outgoing.plan_reply(session, letter, "roster")
        detail = base_detail(incoming)
        if why:
            detail.update(registered=False, why=why)
        else:
            detail.update(registered=True, unit=unit, name=name)
        detail["confirmation"] = reply.note
        message_pk = record_message(session, incoming, services, detail)
        if not why and unit is not None:
            queries.register_officer(session, address=letter.sender, unit=unit,
                                     source="roster", at=services.clock.now(), name=name,
                                     message_pk=message_pk)
            services.roster.changed()
        services.outgoing.queue_roster(session, reply, message_pk, letter,
                                       registered=not why, unit=unit if not why else None,
                                       name=name if not why else "", why=why)
        return None
