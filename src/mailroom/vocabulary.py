"""The domain's words, defined once (SPEC "Kinds, statuses, numbers, months").

Kinds of mail, submission statuses and which of them count, priorities, warning codes,
months, submission numbers and how times are shown. The pipeline, the outbox, the CLI
listings, the reports and the digest all import these from here, never from each other.
Pure: no session, no clock.

The members are `StrEnum`s: each *is* its string ("counted" == Status.COUNTED), so rows,
JSON and templates carry plain strings.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo


class Kind(StrEnum):
    """What a mail is; decided in this order (rules/classify.py), `failed` by the runner."""

    OWN = "own"
    BOUNCE = "bounce"
    AUTO_REPLY = "auto-reply"
    LIST = "list"
    COMMAND = "command"
    ROSTER = "roster"
    SUBMISSION = "submission"
    FAILED = "failed"


class Status(StrEnum):
    """A submission's status (R3, R1, R2)."""

    COUNTED = "counted"
    SUSPECTED = "suspected"
    DUPLICATE = "duplicate"
    UNASSIGNED = "unassigned"
    REJECTED = "rejected"


COUNTING = frozenset({Status.COUNTED, Status.SUSPECTED})  # count toward a quota
JUDGED = frozenset({Status.COUNTED, Status.SUSPECTED, Status.DUPLICATE})  # given a 首报 verdict
LINKED = frozenset({Status.SUSPECTED, Status.DUPLICATE})  # point to a first report
# unassigned and rejected items are never judged nor anyone's first report


class Priority(StrEnum):
    """R5, from a subject marker; ordered from least to most pressing."""

    GENERAL = "general"
    IMPORTANT = "important"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        return list(Priority).index(self)


class WarningCode(StrEnum):
    """Short strings in a submission's `warnings` (SPEC JSON shapes); their Chinese
    wording is in templates/_words.j2."""

    ATTACHMENT_NAME = "attachment_name"  # R2 checks: the names are the [checks] keys
    ELECTRONIC_VERSION = "electronic_version"
    SIGNED_SCAN = "signed_scan"
    UNIT_FROM_SENDER = "unit_from_sender"
    NO_UNIT = "no_unit"
    UNKNOWN_SENDER = "unknown_sender"
    SENDER_AUTHENTICATION_FAILED = "sender_authentication_failed"


class DecisionAction(StrEnum):
    """What an office decision did (table `decisions`); from the CLI, a command mail or
    the console."""

    ADOPT = "adopt"  # R8 采用, per channel
    UNADOPT = "unadopt"  # 撤销采用
    INSTRUCT = "instruct"  # R8 批示
    ASSIGN = "assign"  # R1: an unassigned item given a unit
    DUPLICATE = "duplicate"  # R3 review: 确认重复
    DISTINCT = "distinct"  # R3 review: 不是重复


class DecisionSource(StrEnum):
    """Where a decision came from."""

    CLI = "cli"
    MAIL = "mail"
    WEB = "web"


# --- months (R4) ---------------------------------------------------------------------

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def month_of(instant: datetime, zone: ZoneInfo) -> str:
    """"YYYY-MM" of an instant in the configured zone (R4: by when the mailbox got it)."""
    return instant.astimezone(zone).strftime("%Y-%m")


def is_month(text: str) -> bool:
    return _MONTH.match(text) is not None


def month_bounds(month: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The first instant of `month` ("YYYY-MM") and of the month after, in `zone`."""
    year, number = (int(part) for part in month.split("-"))
    start = datetime(year, number, 1, tzinfo=zone)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    return start, end


# --- submission numbers --------------------------------------------------------------

_NUMBER = re.compile(r"^(\d{4})(0[1-9]|1[0-2])-?(\d{4,})$")


def format_number(month: str, sequence: int) -> str:
    """`YYYYMM-NNNN`: the month's `sequence`-th submission."""
    return f"{month.replace('-', '')}-{sequence:04d}"


def parse_number(text: str) -> str | None:
    """A submission number as written by a person (`201905-0012`, `2019050012`,
    full-width digits) in its canonical form, or None when it is not one."""
    folded = text.strip().translate(_FULL_WIDTH)
    match = _NUMBER.match(folded)
    if match is None:
        return None
    year, month, sequence = match.groups()
    return f"{year}{month}-{int(sequence):04d}"


_FULL_WIDTH = {c: c - 0xFEE0 for c in range(0xFF10, 0xFF1A)} | {0xFF0D: 0x2D}


# --- how times are shown ---------------------------------------------------------------


def local_iso(instant: datetime, zone: ZoneInfo) -> str:
    """ISO 8601 with the zone's offset (SPEC JSON shapes: `received_at`)."""
    return instant.astimezone(zone).isoformat()


def local_minute(instant: datetime, zone: ZoneInfo) -> str:
    """"YYYY-MM-DD HH:MM" in the zone: what mails and tables show a person."""
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M")
