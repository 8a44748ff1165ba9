"""One handler per kind of mail (SPEC "Kinds"); the runner (pipeline.py) picks one by kind.

A new kind of work is a new handler file and a line here, never a branch in the runner.
"""

from __future__ import annotations

from collections.abc import Mapping

from mailroom.handlers.base import Handler, Incoming, Roster, Services
from mailroom.handlers.command import CommandHandler
from mailroom.handlers.recorded import RecordOnly
from mailroom.handlers.roster import RosterHandler
from mailroom.handlers.submission import SubmissionHandler
from mailroom.vocabulary import Kind

HANDLERS: Mapping[Kind, Handler] = {
    Kind.OWN: RecordOnly(),
    Kind.BOUNCE: RecordOnly(),
    Kind.AUTO_REPLY: RecordOnly(),
    Kind.LIST: RecordOnly(),
    Kind.COMMAND: CommandHandler(),
    Kind.ROSTER: RosterHandler(),
    Kind.SUBMISSION: SubmissionHandler(),
}

__all__ = ["HANDLERS", "Handler", "Incoming", "Roster", "Services"]
