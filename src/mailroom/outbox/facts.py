"""What an outgoing mail says, as plain values: built from the database by outgoing.py
after the decision, rendered by compose.py. Pure: no session, no clock. No wording either:
the Chinese words for these codes and numbers are in templates/_words.j2."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mailroom.vocabulary import COUNTING, Status, WarningCode


@dataclass(frozen=True)
class ItemRef:
    """Another submission a receipt points to (the first report, the 初报)."""

    number: str
    unit: str | None
    received_at: str  # local time, "YYYY-MM-DD HH:MM"


@dataclass(frozen=True)
class RequestRef:
    """A 约稿 the submission is linked to (R14): its code and title, and whether the
    submission's unit was one of the units asked."""

    code: str
    title: str
    asked: bool = True


@dataclass(frozen=True)
class ReceiptFacts:
    number: str
    unit: str | None
    title: str
    status: str  # counted | suspected | duplicate | unassigned | rejected
    priority: str  # urgent | important | general
    followup: str | None  # 续报 / 终报 …
    received_at: str
    attachments: tuple[str, ...]
    warnings: tuple[str, ...]  # WarningCode values
    rejected_by: tuple[str, ...]  # the warnings configured to reject
    missing_elements: tuple[str, ...]  # R5 elements an urgent report lacks
    duplicate_of: ItemRef | None
    score: float | None
    followup_of: ItemRef | None
    month: str  # "YYYY-MM"
    counted_this_month: int  # the unit's counted + suspected items this month
    quota: int | None  # the unit's monthly quota; None without a unit
    registered: bool  # the sender is a registered officer
    unit_example: str  # a configured unit name for the how-to-fix text; "" when none
    requests: tuple[RequestRef, ...] = ()  # the 约稿 it answers (R14)

    @property
    def counts(self) -> bool:
        return self.status in COUNTING

    @property
    def hints(self) -> tuple[str, ...]:
        """The warnings a receipt lists as hints (提示): not those that rejected the item,
        nor those it explains in a sentence of their own (no unit: the unassigned status
        says how to fix the subject; unknown sender: how to register)."""
        explained = {WarningCode.NO_UNIT if self.status == Status.UNASSIGNED else None,
                     None if self.registered else WarningCode.UNKNOWN_SENDER}
        return tuple(code for code in self.warnings
                     if code not in self.rejected_by and code not in explained)


@dataclass(frozen=True)
class RosterFacts:
    registered: bool
    unit: str | None
    name: str
    address: str
    why: str  # when not registered: the pipeline's reason (English, worded by the template)
    unit_example: str


def rejected_checks(warnings: Sequence[str], actions: Mapping[str, str]) -> tuple[str, ...]:
    """The warnings that made a submission `rejected`: checks configured to reject, and
    failed sender authentication."""
    return tuple(code for code in warnings
                 if actions.get(code) == "reject"
                 or code == WarningCode.SENDER_AUTHENTICATION_FAILED)
