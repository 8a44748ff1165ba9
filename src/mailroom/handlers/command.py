"""Office commands by mail (SPEC "Office commands by mail", R3 R8 R14): a mail from an
`[office] addresses` sender whose subject starts with a command word, or the reply that
confirms one held.

A command mail is read line by line (rules/commands.py). Its commands run at once only
when `[imap] trusted_authserv_id` is set and that server's Authentication-Results vouch
for the sender's domain (rules/authresults.authentication_pass); otherwise they are held
in a `CommandConfirmation` (a one-time code, 72 h, bound to the sender's address) and the
address is asked to confirm (templates/confirm-request.*). A reply from the same address
carrying the code (subject, body, or In-Reply-To of the request) runs them, once. Each
decision is made by the decisions core with source `mail`, by the sender's address, and
the command mail it came in (for a held one: the original mail; the confirming reply is
kept in the confirmation's `used_by_pk`). Every command mail gets one reply: the request,
or what changed and what did not, and why (templates/command.*), queued in this
transaction. A mail recorded before never reaches a handler again (R13), and a code works
once, so nothing runs twice.

What became of each command is also kept in the mail's recorded detail, under `results`
(plain JSON, `results_detail`), for the digest: the commands run, each item done and each
refused (number, action, DecisionError code and facts), and the lines not understood (the
line and its problem codes). A mail run at once keeps them all; a held mail keeps its lines
not understood (its commands have not run); the reply confirming it keeps the commands it
ran and the lines it did not run, so each mail shows what happened when it came.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailroom.decisions import Actor, Decisions, Outcome
from mailroom.errors import DecisionError
from mailroom.handlers.base import Incoming, Services, base_detail, record_message
from mailroom.outbox.command_facts import (
    CommandReplyFacts,
    ConfirmationRequestFacts,
    Confirming,
    Done,
    Held,
    ItemLook,
    NotUnderstood,
    Ran,
    Refused,
)
from mailroom.outbox.outgoing import COMMAND_PURPOSE
from mailroom.parsing.letter import Letter
from mailroom.requests import service as requests
from mailroom.rules import commands as grammar
from mailroom.rules import confirmation
from mailroom.rules.authresults import authentication_failure, authentication_pass
from mailroom.store.models import CommandConfirmation, Message, Submission
from mailroom.vocabulary import DecisionAction, DecisionSource, local_minute

CODE_VALID = timedelta(hours=72)
REQUEST_ACTION = "request"  # a 约稿 recorded (requests/service.py), in the command reply
IN_CONFIRMATION = "in_confirmation"  # commands written in a confirmation reply do not run


def new_code() -> str:
    """A one-time confirmation code: 8 characters of an alphabet without look-alikes,
    from the operating system's secure random source."""
    alphabet = confirmation.CODE_ALPHABET
    return "".join(secrets.choice(alphabet) for _ in range(confirmation.CODE_LENGTH))


class CommandHandler:
    def handle(self, session: Session, incoming: Incoming, services: Services) -> str | None:
        letter = incoming.letter
        office = {address.lower() for address in services.settings.office.addresses}
        if letter.sender not in office:  # classify gives them another kind; never run them
            detail = base_detail(incoming) | {"refused": "sender is not an [office] address"}
            record_message(session, incoming, services, detail)
            return None
        codes = confirmation.find_codes(letter.subject) + confirmation.find_codes(letter.body)
        requests = confirmation.request_ids(letter.header("In-Reply-To"))
        if codes or requests:
            _Confirmation(session, incoming, services).handle(codes, requests)
        else:
            _CommandMail(session, incoming, services).handle()
        return None


class _Work:
    """One command-kind mail being handled, with what every step needs."""

    def __init__(self, session: Session, incoming: Incoming, services: Services) -> None:
        self.session, self.incoming, self.services = session, incoming, services
        self.letter: Letter = incoming.letter
        self.settings = services.settings
        self.decisions = Decisions(services.settings, services.dedupe)

    def local(self, instant: datetime) -> str:
        return local_minute(instant, self.settings.zone)

    def record(self, detail: dict[str, Any]) -> int:
        return record_message(self.session, self.incoming, self.services,
                              base_detail(self.incoming) | detail)

    def keep_results(self, message_pk: int, ran: Sequence[Ran],
                     not_understood: Sequence[NotUnderstood]) -> None:
        """Add what became of the commands to the mail's recorded detail (it is written
        before they run: each decision names the mail)."""
        message = self.session.get_one(Message, message_pk)
        message.detail = {**(message.detail or {}),
                          "results": results_detail(ran, not_understood)}

    def run(self, lines: Sequence[str], message_pk: int) -> tuple[Ran, ...]:
        """Run the held or authenticated commands (canonical lines), in order."""
        actor = Actor(by=self.letter.sender, source=DecisionSource.MAIL,
                      at=self.letter.received_at, message_pk=message_pk)
        ran = []
        for text in lines:
            command = grammar.parse_held(text)
            if isinstance(command, grammar.Request):
                ran.append(self._request(command, actor))
            elif command is not None:
                ran.append(self._run_one(command, actor))
        return tuple(ran)

    def _request(self, command: grammar.Request, actor: Actor) -> Ran:
        """A 约稿, recorded and mailed exactly as `request add` does."""
        try:
            added = requests.add_request(self.session, self.settings, title=command.title,
                                         units=command.units, due=command.due, note=command.note,
                                         actor=actor)
        except DecisionError as error:
            refused = Refused(f"《{command.title}》", REQUEST_ACTION, error.code,
                              dict(error.facts))
            return Ran(command.canonical(), refused=(refused,))
        detail = {"title": added.title, "units": list(added.units), "due": added.due,
                  "sent_to": {unit: list(to) for unit, to in added.sent_to.items()},
                  "nobody": list(added.nobody)}
        return Ran(command.canonical(), done=(Done(added.code, REQUEST_ACTION, detail),))

    def _run_one(self, command: grammar.Command, actor: Actor) -> Ran:
        done: list[Done] = []
        refused: list[Refused] = []
        for number, action, call in _calls(command, self.decisions, self.session, actor):
            try:
                outcome = call()
            except DecisionError as error:
                refused.append(Refused(number, action, error.code, dict(error.facts)))
            else:
                done.append(Done(outcome.number, outcome.action, dict(outcome.detail)))
        return Ran(command.canonical(), tuple(done), tuple(refused))


def _calls(command: grammar.Command, decisions: Decisions, session: Session,
           actor: Actor) -> list[tuple[str, str, Callable[[], Outcome]]]:
    """(number, action, a call making that decision) for each item of a command."""
    if isinstance(command, grammar.Adopt):
        action = DecisionAction.UNADOPT if command.undo else DecisionAction.ADOPT
        make = decisions.unadopt if command.undo else decisions.adopt
        channel = command.channel
        return [(number, action, partial(make, session, number, channel, actor))
                for number in command.numbers]
    if isinstance(command, grammar.Instruct):
        return [(command.number, DecisionAction.INSTRUCT, lambda: decisions.instruct(
            session, command.number, command.leader, command.text, actor))]
    if isinstance(command, grammar.Review):
        action = DecisionAction.DUPLICATE if command.duplicate else DecisionAction.DISTINCT
        return [(command.number, action, lambda: decisions.review(
            session, command.number, duplicate=command.duplicate, of=command.of,
            actor=actor))]
    if isinstance(command, grammar.Assign):
        return [(command.number, DecisionAction.ASSIGN, lambda: decisions.assign(
            session, command.number, command.unit, actor))]
    return []


def results_detail(ran: Sequence[Ran],
                   not_understood: Sequence[NotUnderstood]) -> dict[str, Any]:
    """What became of a mail's commands as plain JSON (the `results` of its detail; the
    digest reads it back with digest/build.py)."""
    return {
        "commands": [{
            "text": line.text,
            "done": [{"number": d.number, "action": str(d.action)} for d in line.done],
            "refused": [{"number": r.number, "action": str(r.action), "code": r.code,
                         "facts": {str(k): str(v) for k, v in r.facts.items()}}
                        for r in line.refused],
        } for line in ran],
        "not_understood": [{"text": line.text,
                            "problems": [[code, text] for code, text in line.problems]}
                           for line in not_understood],
    }


def _not_understood(mail: grammar.CommandMail) -> tuple[NotUnderstood, ...]:
    """The lines that hold something not understood, with why."""
    lines = []
    for line in mail.lines:
        problems = [(str(p.code), p.text) for p in line.problems]
        if problems:
            lines.append(NotUnderstood(line.text, tuple(problems)))
    return tuple(lines)


def _runnable(mail: grammar.CommandMail) -> list[str]:
    return [grammar.held_text(command) for command in mail.commands]


class _CommandMail(_Work):
    """A mail of commands: run at once when authenticated, else held for confirmation."""

    def handle(self) -> None:
        letter = self.letter
        mail = grammar.parse_command_mail(letter.subject, letter.body)
        runnable, not_understood = _runnable(mail), _not_understood(mail)
        trusted = self.settings.imap.trusted_authserv_id if self.settings.imap else ""
        domain = letter.sender.rsplit("@", 1)[-1]
        results = letter.headers.get("authentication-results", ())
        vouched = authentication_pass(results, trusted, domain)
        detail: dict[str, Any] = {"commands": runnable,
                                  "not_understood": len(not_understood),
                                  "authentication": vouched or "not vouched for"}
        if vouched is None and runnable:
            failed = authentication_failure(results, trusted, domain) or ""
            self._hold(runnable, not_understood, failed, detail)
            return
        reply = self.services.outgoing.plan_reply(self.session, letter, COMMAND_PURPOSE)
        message_pk = self.record(detail | {"ran": bool(runnable), "reply": reply.note})
        ran = self.run(runnable, message_pk)
        self.keep_results(message_pk, ran, not_understood)
        facts = CommandReplyFacts(
            how="authenticated" if runnable else "nothing", subject=letter.subject,
            received_at=self.local(letter.received_at), ran=ran,
            not_understood=not_understood)
        self.services.outgoing.queue_command_reply(self.session, reply, message_pk, letter,
                                                   facts)

    def _hold(self, runnable: list[str], not_understood: tuple[NotUnderstood, ...],
              failed: str, detail: dict[str, Any]) -> None:
        """Keep the commands under a new code and ask the address to confirm them. When
        no request may be sent (rules/replies.py), nothing is held: nobody could confirm."""
        letter, session = self.letter, self.session
        detail = detail | {"results": results_detail((), not_understood)}
        reply = self.services.outgoing.plan_reply(session, letter, confirmation.REQUEST_PURPOSE)
        if reply.message_id is None:
            self.record(detail | {"ran": False, "held": f"no: {reply.note}"})
            return
        message_pk = self.record(detail | {"ran": False, "held": reply.message_id})
        now = self.services.clock.now()
        code = self._unused_code()
        session.add(CommandConfirmation(
            code=code, address=letter.sender, message_pk=message_pk,
            request_message_id=reply.message_id, commands=runnable, created_at=now,
            expires_at=now + CODE_VALID, used_at=None, used_by_pk=None))
        session.flush()
        facts = ConfirmationRequestFacts(
            code=code, address=letter.sender, subject=letter.subject,
            received_at=self.local(letter.received_at),
            expires_at=self.local(now + CODE_VALID), held=self._held(runnable),
            not_understood=not_understood, authentication_failed=failed)
        self.services.outgoing.queue_confirmation_request(session, reply, message_pk, letter,
                                                          facts)

    def _unused_code(self) -> str:
        while True:
            code = new_code()
            taken = self.session.scalars(select(CommandConfirmation.id).where(
                CommandConfirmation.code == code)).first()
            if taken is None:
                return code

    def _held(self, runnable: list[str]) -> tuple[Held, ...]:
        """Each held command with the items it names, as they stand."""
        held = []
        for text in runnable:
            command = grammar.parse_held(text)
            numbers: tuple[str, ...] = ()
            if isinstance(command, grammar.Adopt):
                numbers = command.numbers
            elif isinstance(command, grammar.Review):
                numbers = (command.number, *((command.of,) if command.of else ()))
            elif isinstance(command, (grammar.Instruct, grammar.Assign)):
                numbers = (command.number,)
            held.append(Held(text.replace("\n", "；"),
                             tuple(self._look(number) for number in numbers)))
        return tuple(held)

    def _look(self, number: str) -> ItemLook:
        item = self.session.scalars(select(Submission).where(
            Submission.number == number)).first()
        if item is None:
            return ItemLook(number)
        return ItemLook(number, item.title, item.unit, item.status)


class _Confirmation(_Work):
    """A reply carrying confirmation codes: each valid one bound to this address runs its
    held commands, once."""

    def handle(self, codes: list[str], requests: list[str]) -> None:
        letter, session = self.letter, self.session
        rows = self._rows(codes, requests)
        extra = grammar.parse_command_mail(letter.subject, letter.body)
        not_understood = tuple(
            NotUnderstood(line.text, ((IN_CONFIRMATION, ""),))
            for line in extra.lines if line.command is not None)
        reply = self.services.outgoing.plan_reply(session, letter, COMMAND_PURPOSE)
        states = [(code, row, self._state(row)) for code, row in rows] or [("", None, "unknown")]
        message_pk = self.record({
            "confirmation": {code: state for code, _row, state in states},
            "reply": reply.note})
        confirming: list[Confirming] = []
        ran: list[Ran] = []
        for code, row, state in states:
            confirming.append(self._confirming(code, row, state))
            if row is not None and state == "ran":
                ran.extend(self.run(row.commands, row.message_pk))
                row.used_at, row.used_by_pk = self.services.clock.now(), message_pk
        self.keep_results(message_pk, ran, not_understood)
        session.flush()
        facts = CommandReplyFacts(
            how="confirmed" if ran else "nothing", subject=letter.subject,
            received_at=self.local(letter.received_at), ran=tuple(ran),
            not_understood=not_understood, confirming=tuple(confirming))
        self.services.outgoing.queue_command_reply(session, reply, message_pk, letter, facts)

    def _rows(self, codes: list[str],
              requests: list[str]) -> list[tuple[str, CommandConfirmation | None]]:
        """The confirmations named by code, then by In-Reply-To, once each, in order."""
        found: dict[str, CommandConfirmation | None] = {}
        for code in codes:
            found[code] = self.session.scalars(select(CommandConfirmation).where(
                CommandConfirmation.code == code)).first()
        for message_id in requests:
            row = self.session.scalars(select(CommandConfirmation).where(
                CommandConfirmation.request_message_id == message_id)).first()
            if row is not None and row.code not in found:
                found[row.code] = row
        return list(found.items())

    def _state(self, row: CommandConfirmation | None) -> str:
        if row is None:
            return "unknown"
        if row.address.lower() != self.letter.sender:
            return "other_address"  # refused; it stays valid for its own address
        if row.used_at is not None:
            return "used"
        if self.letter.received_at > row.expires_at:
            return "expired"
        return "ran"

    def _confirming(self, code: str, row: CommandConfirmation | None,
                    state: str) -> Confirming:
        if row is None or state == "other_address":  # say nothing of another's commands
            return Confirming(code, state)
        held = self.session.get_one(Message, row.message_pk)
        return Confirming(code, state, subject=held.subject,
                          received_at=self.local(held.received_at),
                          expires_at=self.local(row.expires_at),
                          used_at=self.local(row.used_at) if row.used_at else "")
