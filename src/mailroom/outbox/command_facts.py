"""What the mails about office commands say, as plain values (SPEC "Office commands by
mail"): the reply to a command mail (what changed, what did not and why, each line not
understood) and the confirmation request of a held one. Built by handlers/command.py,
rendered by compose.py; no wording here: the Chinese words for these codes are in
templates/_words.j2. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Done:
    """One decision made: an item and what changed (decisions.Outcome)."""

    number: str
    action: str  # DecisionAction
    detail: Mapping[str, Any]  # title, unit, and per action channel, leader, status…


@dataclass(frozen=True)
class Refused:
    """One decision not made, and why (errors.DecisionError)."""

    number: str
    action: str  # DecisionAction
    code: str  # unknown_number, unknown_channel, already_adopted…
    facts: Mapping[str, str]


@dataclass(frozen=True)
class Ran:
    """A command line run: each of its items made or refused."""

    text: str  # the command, canonical
    done: tuple[Done, ...] = ()
    refused: tuple[Refused, ...] = ()


@dataclass(frozen=True)
class NotUnderstood:
    """A line that held no command that could run, with why (rules/commands.ProblemCode,
    or `in_confirmation` for a command written in a
    confirmation reply)."""

    text: str  # as written
    problems: tuple[tuple[str, str], ...]  # (code, the words concerned)


@dataclass(frozen=True)
class ItemLook:
    """An item a held command names, shown in the request so the clerk sees what they
    confirm; `title` None: no such number."""

    number: str
    title: str | None = None
    unit: str | None = None
    status: str = ""


@dataclass(frozen=True)
class Held:
    text: str  # the command, canonical
    items: tuple[ItemLook, ...]


@dataclass(frozen=True)
class Confirming:
    """A confirmation code a reply carried, and what became of it: ran | expired | used |
    other_address | unknown."""

    code: str
    state: str
    subject: str = ""  # the held command mail's
    received_at: str = ""  # when the held command mail came (local)
    expires_at: str = ""
    used_at: str = ""


@dataclass(frozen=True)
class CommandReplyFacts:
    """The one reply to a command mail. `how`: authenticated (ran at once: the trusted
    server vouched for the sender), confirmed (a code held commands, now run), or
    nothing (nothing could run: only lines not understood, or codes that failed)."""

    how: str
    subject: str  # the mail answered
    received_at: str
    ran: tuple[Ran, ...] = ()
    not_understood: tuple[NotUnderstood, ...] = ()
    confirming: tuple[Confirming, ...] = ()

    @property
    def done(self) -> int:
        return sum(len(line.done) for line in self.ran)

    @property
    def refused(self) -> int:
        return sum(len(line.refused) for line in self.ran)


@dataclass(frozen=True)
class ConfirmationRequestFacts:
    """The request to confirm a held command mail, sent to its sender's address."""

    code: str
    address: str
    subject: str  # the command mail's
    received_at: str
    expires_at: str
    held: tuple[Held, ...]
    not_understood: tuple[NotUnderstood, ...] = ()
    authentication_failed: str = ""  # the trusted server's failure, when it reported one

    @property
    def words(self) -> tuple[str, ...]:
        """The command words held, once each, in order (the subject names them)."""
        return tuple(dict.fromkeys(held.text.split(" ", 1)[0] for held in self.held))
