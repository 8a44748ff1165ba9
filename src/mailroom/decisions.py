"""The office's decisions on an item: R8 adoption (采用) per channel and its undoing, R8
leader instructions (批示), R1 assigning an unassigned item to a unit, R3 review of a
first-report verdict — whoever makes them and however they come (the CLI, a command mail,
the console).

Every call writes one `Decision` row (who, when, what, where from: `Actor`) in the
caller's transaction, next to the state it changes (an `Adoption`, an `Instruction`, the
submission row), and never commits. A decision that cannot be made raises `DecisionError`
(errors.py) with a `code` and the `facts` a Chinese reply needs, and writes nothing.

Which items may be credited. Adoption and 批示 credit a unit, so they need an item that
counts (`counted` or `suspected`): a `duplicate` is refused, naming its first report (that
is the item; adopt it), an `unassigned` one is refused until it is assigned (the credit
must have an owner), a `rejected` one counts for nobody. Undoing an adoption works on any
item. A review that makes an adopted item a duplicate is refused until it is unadopted
(the credit belongs to the first report). Only an `unassigned` item can be assigned; it
becomes the unit's (`unit_source` "office"), `counted`, and is judged for 首报 at once
against the stored items (`Dedupe.rejudge`; it may take the credit of later copies, which
is kept in `verdict_changes` for the digest). Its sender got a receipt saying it was
unassigned when it arrived; none is sent again (the assignment is the office's correction,
a second automatic mail for one submission would be noise, and the unit's count shows in
the next receipt, reminder and bulletin).

Channels are the configured `[[adoption_channels]]`, named exactly (after folding width
and spaces), else by a unique fuzzy match: the text must be the channel's name with
characters left out or added, never changed ("县网站", "国家" pass; "市政府网站" is not
"县政府网站"), scoring at least `CHANNEL_THRESHOLD` (a part of the name of two characters
or more always does). Two channels passing is an ambiguity, reported with their names.
Units are matched as in subjects (rules/units.py: name, alias, guarded fuzzy).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import LCSseq
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailroom.config import Settings
from mailroom.dedupe import review as dedupe_review
from mailroom.dedupe.engine import Dedupe
from mailroom.errors import DecisionError, ReviewError
from mailroom.rules.folding import key
from mailroom.rules.units import UnitName, match_unit
from mailroom.store import storable
from mailroom.store.models import Adoption, Decision, Instruction, Submission
from mailroom.vocabulary import (
    COUNTING,
    LINKED,
    DecisionAction,
    DecisionSource,
    Status,
    local_iso,
    local_minute,
    parse_number,
)

CHANNEL_THRESHOLD = 75.0
_PART_SCORE = 90.0  # a run of the name's characters ("网站", "国家") of length ≥ 2
_BY = storable.limits_of(Decision)["by"]
_LEADER = storable.limits_of(Instruction)["leader"]


@dataclass(frozen=True)
class Actor:
    """Who makes a decision, when, and how it came."""

    by: str  # --by, else the OS user; a command mail's sender address
    source: DecisionSource
    at: datetime  # aware
    message_pk: int | None = None  # the command mail it came in


@dataclass(frozen=True)
class Outcome:
    """What a decision changed, for the CLI line and the reply to a command mail.

    `detail` always has the item's `title` and `unit` (after the decision), and per action:
    adopt `channel`, `note`; unadopt `channel`, `adopted_by`, `adopted_at`; instruct
    `leader`, `text`; assign `unit`, `previous_status`, `status`, `duplicate_of`, `score`;
    duplicate / distinct `previous_status`, `status`, `duplicate_of`."""

    number: str
    action: DecisionAction
    detail: dict[str, Any]


class Decisions:
    def __init__(self, settings: Settings, dedupe: Dedupe) -> None:
        self.settings = settings
        self.dedupe = dedupe

    # --- names -------------------------------------------------------------------------

    def channel(self, text: str) -> str:
        """The configured adoption channel `text` names: exact, else fuzzy and unique."""
        names = [channel.name for channel in self.settings.adoption_channels]
        if not names:
            raise DecisionError("no_channels", "no adoption channels are configured: add "
                                "[[adoption_channels]] (name, score) to the config",
                                channel=text, channels="")
        wanted = key(text)
        exact = [name for name in names if key(name) == wanted]
        if exact:
            return exact[0]
        passed = [name for name in names
                  if wanted and channel_score(wanted, key(name)) >= CHANNEL_THRESHOLD]
        if len(passed) == 1:
            return passed[0]
        if passed:
            raise DecisionError("ambiguous_channel", f"{text!r} could be any of the channels "
                                f"{'、'.join(passed)}; write the name in full",
                                channel=text, channels="、".join(passed))
        raise DecisionError("unknown_channel", f"no adoption channel named {text!r}; "
                            f"channels: {'、'.join(names)}", channel=text,
                            channels="、".join(names))

    def unit(self, text: str) -> str:
        """The configured unit `text` names (name, alias, or as rules/units.py matches)."""
        units = [UnitName(unit.name, tuple(unit.aliases)) for unit in self.settings.units]
        found = match_unit(text, units) if units else None
        if found is None:
            names = "、".join(unit.name for unit in units) or "(none configured)"
            raise DecisionError("unknown_unit", f"no unit named {text!r} in the config; "
                                f"units: {names}", unit=text, units=names)
        return found[0]

    # --- R8 adoption and 批示 ------------------------------------------------------------

    def adopt(self, session: Session, number: str, channel: str, actor: Actor,
              note: str = "") -> Outcome:
        item = self._item(session, number)
        name = self.channel(channel)
        _creditable(item, "adopted")
        existing = self._adoptions(session, item)
        if name in existing:
            earlier = existing[name]
            raise DecisionError(
                "already_adopted", f"{item.number} is already adopted by {name} (recorded by "
                f"{earlier.by}, {local_minute(earlier.at, self.settings.zone)})",
                number=item.number, channel=name, by=earlier.by)
        note = storable.text(note.strip())
        detail = {"channel": name, "note": note}
        decision = self._record(session, item, DecisionAction.ADOPT, detail, actor)
        session.add(Adoption(submission_id=item.id, channel=name, note=note,
                             by=decision.by, at=actor.at, decision_id=decision.id))
        session.flush()
        return _outcome(item, DecisionAction.ADOPT, detail)

    def unadopt(self, session: Session, number: str, channel: str, actor: Actor) -> Outcome:
        item = self._item(session, number)
        existing = self._adoptions(session, item)
        name = self._adopted_channel(channel, list(existing))
        adoption = existing.get(name)
        if adoption is None:
            adopted = "、".join(existing) or "none"
            raise DecisionError("not_adopted", f"{item.number} is not adopted by {name} "
                                f"(adopted by: {adopted})", number=item.number,
                                channel=name, channels="、".join(existing))
        detail = {"channel": name, "adopted_by": adoption.by,
                  "adopted_at": local_iso(adoption.at, self.settings.zone)}
        self._record(session, item, DecisionAction.UNADOPT, detail, actor)
        session.delete(adoption)
        session.flush()
        return _outcome(item, DecisionAction.UNADOPT, detail)

    def instruct(self, session: Session, number: str, leader: str, text: str,
                 actor: Actor) -> Outcome:
        """A leader's 批示 on the item; each one adds `[scoring] instruction_bonus` in the
        reports. `actor` is who records it, `leader` who gave it."""
        item = self._item(session, number)
        leader = storable.bounded(" ".join(leader.split()), _LEADER)
        text = storable.text(text.strip())
        if not leader:
            raise DecisionError("no_leader", f"an instruction (批示) on {item.number} needs "
                                "the leader who gave it", number=item.number)
        _creditable(item, "given an instruction (批示)")
        same = session.scalars(select(Instruction).where(
            Instruction.submission_id == item.id, Instruction.leader == leader,
            Instruction.text == text)).first()
        if same is not None:
            raise DecisionError(
                "already_instructed", f"{item.number} already has this instruction (批示) of "
                f"{leader} (recorded by {same.by}, "
                f"{local_minute(same.at, self.settings.zone)})",
                number=item.number, leader=leader, by=same.by)
        detail = {"leader": leader, "text": text}
        decision = self._record(session, item, DecisionAction.INSTRUCT, detail, actor)
        session.add(Instruction(submission_id=item.id, leader=leader, text=text,
                                by=decision.by, at=actor.at, decision_id=decision.id))
        session.flush()
        return _outcome(item, DecisionAction.INSTRUCT, detail)

    # --- R1 assign, R3 review -------------------------------------------------------------

    def assign(self, session: Session, number: str, unit: str, actor: Actor) -> Outcome:
        """An unassigned item becomes the unit's, counted, then judged for 首报."""
        item = self._item(session, number)
        name = self.unit(unit)
        if item.status != Status.UNASSIGNED:
            owner = f" ({item.unit})" if item.unit else ""
            raise DecisionError("not_unassigned", f"{item.number} is {item.status}{owner}: "
                                "only an unassigned item can be assigned",
                                number=item.number, status=item.status, unit=item.unit or "")
        item.unit, item.unit_source, item.status = name, "office", Status.COUNTED
        session.flush()
        self.dedupe.rejudge(session, item.id)
        session.expire_all()  # the verdicts were written by core statements
        first = (session.get_one(Submission, item.duplicate_of_id).number
                 if item.status in LINKED and item.duplicate_of_id is not None else None)
        detail = {"unit": name, "previous_status": Status.UNASSIGNED.value,
                  "status": item.status, "duplicate_of": first,
                  "score": item.score if first else None}
        self._record(session, item, DecisionAction.ASSIGN, detail, actor)
        return _outcome(item, DecisionAction.ASSIGN, detail)

    def review(self, session: Session, number: str, *, duplicate: bool, of: str | None,
               actor: Actor) -> Outcome:
        """The office's R3 decision (dedupe/review.py, which keeps its `dedupe_reviews`
        history and is never overridden by re-evaluation)."""
        item = self._item(session, number)
        target = self._item(session, of).number if of is not None else None
        if duplicate:
            adopted = self._adoptions(session, item)
            if adopted:
                channels = "、".join(adopted)
                raise DecisionError(
                    "still_adopted", f"{item.number} is adopted by {channels}: unadopt it "
                    "first (a duplicate's credit goes to its first report)",
                    number=item.number, channels=channels)
        try:
            reviewed = dedupe_review.review(session, item.number, duplicate=duplicate,
                                            of=target, by=_who(actor), at=actor.at)
        except ReviewError as error:
            raise DecisionError("review_refused", str(error), number=item.number) from None
        action = DecisionAction.DUPLICATE if duplicate else DecisionAction.DISTINCT
        detail = {"previous_status": reviewed.previous_status, "status": reviewed.status,
                  "duplicate_of": reviewed.duplicate_of}
        self._record(session, item, action, detail, actor)
        return _outcome(item, action, detail)

    # --- rows -------------------------------------------------------------------------

    def _item(self, session: Session, number: str) -> Submission:
        canonical = parse_number(number)
        found = None if canonical is None else session.scalars(
            select(Submission).where(Submission.number == canonical)).first()
        if found is None:
            written = canonical or number.strip()
            raise DecisionError("unknown_number", f"no submission numbered {written}",
                                number=written)
        return found

    def _adoptions(self, session: Session, item: Submission) -> dict[str, Adoption]:
        rows = session.scalars(select(Adoption).where(Adoption.submission_id == item.id)
                               .order_by(Adoption.at, Adoption.id))
        return {row.channel: row for row in rows}

    def _adopted_channel(self, text: str, adopted: Sequence[str]) -> str:
        """For undoing: a configured channel, or one no longer configured that the item
        is adopted by, named exactly."""
        try:
            return self.channel(text)
        except DecisionError:
            for name in adopted:
                if key(name) == key(text):
                    return name
            raise

    def _record(self, session: Session, item: Submission, action: DecisionAction,
                detail: dict[str, Any], actor: Actor) -> Decision:
        decision = Decision(submission_id=item.id, action=action.value,
                            detail=storable.json_value(detail), by=_who(actor), at=actor.at,
                            source=actor.source.value, message_pk=actor.message_pk)
        session.add(decision)
        session.flush()
        return decision


def channel_score(wanted: str, name: str) -> float:
    """How well a folded text names a folded channel name; 0 unless one is the other with
    characters left out (a changed character names another channel)."""
    if LCSseq.similarity(wanted, name) != min(len(wanted), len(name)):
        return 0.0
    score = float(fuzz.ratio(wanted, name))
    if len(wanted) >= 2 and (wanted in name or name in wanted):
        score = max(score, _PART_SCORE)
    return score


def _who(actor: Actor) -> str:
    return storable.bounded(actor.by.strip() or "unknown", _BY)


def _creditable(item: Submission, done: str) -> None:
    """Adoption and 批示 credit the item's unit: only an item that counts gets them."""
    if item.status in COUNTING:
        return
    number, status = item.number, item.status
    if item.status == Status.DUPLICATE and item.duplicate_of is not None:
        first = item.duplicate_of.number
        raise DecisionError("not_counting", f"{number} is a duplicate of {first}: the first "
                            f"report is the item; {first} can be {done}",
                            number=number, status=status, first=first)
    if item.status == Status.UNASSIGNED:
        raise DecisionError("not_counting", f"{number} is unassigned: assign it to a unit "
                            f"first, then it can be {done}", number=number, status=status,
                            first="")
    raise DecisionError("not_counting", f"{number} is {status}: it counts for nobody and "
                        f"cannot be {done}", number=number, status=status, first="")


def _outcome(item: Submission, action: DecisionAction, detail: dict[str, Any]) -> Outcome:
    return Outcome(item.number, action, {"title": item.title, "unit": item.unit, **detail})
