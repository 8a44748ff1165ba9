"""The office digest's values (R11), pure: the records digest/records.py reads since the
last digest sent (ItemRow, MailRow, DecisionRow, ChangeRow → Records) and the digest
digest/build.py makes of them (Digest and its entries), which templates/digest.* print."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mailroom.outbox.command_facts import NotUnderstood, Refused

# --- the records (records.py reads them) -------------------------------------------------


@dataclass(frozen=True)
class ItemRow:
    """A submission as the digest needs it; times already local ("YYYY-MM-DD HH:MM")."""

    pk: int
    number: str
    unit: str | None
    title: str
    sender: str
    received_at: str
    status: str
    priority: str
    text: str  # the body as read from the raw mail ("" when it cannot be read), or …
    text_from: str = "body"  # … "attachment": the attachments' text dedupe compared
    attachments: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    followup: str | None = None
    duplicate_of_pk: int | None = None
    score: float | None = None
    match_part: str | None = None
    stored_passages: tuple[tuple[str, str], ...] = ()  # the verdict's (compacted) pairs


@dataclass(frozen=True)
class MailRow:
    """A message (any kind) recorded since the last digest."""

    pk: int
    kind: str
    sender: str
    subject: str
    received_at: str
    reason: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    reply_subject: str | None = None  # a command mail's reply (or confirmation request)


@dataclass(frozen=True)
class DecisionRow:
    id: int
    number: str
    title: str
    unit: str | None
    action: str
    detail: Mapping[str, Any]  # as recorded, with the item's title and unit (as an Outcome)
    by: str
    at: str
    source: str  # cli | mail | web
    mail_subject: str | None = None


@dataclass(frozen=True)
class ChangeRow:
    id: int
    item_pk: int
    caused_by_pk: int
    previous_status: str
    previous_first_pk: int | None
    status: str
    first_pk: int | None


@dataclass(frozen=True)
class Records:
    """What records.py read: new mail (and its submissions), decisions and changed
    verdicts not shown yet, and the other submissions they point to."""

    since: str | None  # when the last digest was sent (local), None: never
    mails: tuple[MailRow, ...] = ()
    items: tuple[ItemRow, ...] = ()  # submissions of the new mail, in number order
    others: Mapping[int, ItemRow] = field(default_factory=dict)  # first reports… by pk
    changes: tuple[ChangeRow, ...] = ()
    decisions: tuple[DecisionRow, ...] = ()
    receipts: int = 0  # receipts queued for the new mail


# --- the digest -----------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    text: str
    marked: bool = False  # a passage found in the other item of the pair


@dataclass(frozen=True)
class Entry:
    """One item as the digest shows it."""

    number: str
    unit: str | None
    title: str
    sender: str
    received_at: str
    status: str
    priority: str
    excerpt: str  # the first EXCERPT characters of its text, white space folded
    text_from: str  # body | attachment
    attachments: tuple[str, ...]
    warnings: tuple[str, ...]
    followup: str | None
    more: bool  # the text goes on past the excerpt


@dataclass(frozen=True)
class Pair:
    """A suspected duplicate and the first report it was matched with, side by side."""

    item: Entry
    first: Entry
    score: float | None
    part: str | None  # title | content | attachment
    item_excerpt: tuple[Segment, ...]
    first_excerpt: tuple[Segment, ...]
    passages: tuple[tuple[str, str], ...]  # (this item's, the first report's: the same
                                           # string when they differ only in punctuation)
    confirm: str  # 确认重复 201905-0013 201905-0011
    distinct: str  # 不是重复 201905-0013


@dataclass(frozen=True)
class UnknownSender:
    address: str
    items: tuple[Entry, ...]


@dataclass(frozen=True)
class Change:
    number: str
    unit: str | None
    title: str
    previous_status: str
    previous_first: str | None
    status: str
    first: str | None
    caused_by: str | None  # the mail received earlier but processed later


@dataclass(frozen=True)
class Failed:
    received_at: str
    sender: str
    subject: str
    reason: str


@dataclass(frozen=True)
class CommandMail:
    received_at: str
    sender: str
    subject: str
    commands: tuple[str, ...]
    outcome: str  # ran | confirmed | held | not_held | nothing | refused
    reply_subject: str | None
    not_understood: int
    # what the command reply said was refused and not understood, read back from the
    # mail's detail `results` (handlers/command.results_detail), worded by _words.j2
    refused: tuple[Refused, ...] = ()
    lines_not_understood: tuple[NotUnderstood, ...] = ()


@dataclass(frozen=True)
class Counts:
    mails: int
    kinds: tuple[tuple[str, int], ...]
    items: int
    statuses: tuple[tuple[str, int], ...]
    urgent: int
    receipts: int
    decisions: int


@dataclass(frozen=True)
class Digest:
    day: str  # YYYY-MM-DD the digest is for
    since: str | None
    bureau: str
    urgent: tuple[Entry, ...]
    pairs: tuple[Pair, ...]
    unassigned: tuple[Entry, ...]
    unknown_senders: tuple[UnknownSender, ...]
    rejected: tuple[Entry, ...]  # rejected, or sender authentication failed
    changes: tuple[Change, ...]
    failed: tuple[Failed, ...]
    decisions: tuple[DecisionRow, ...]
    command_mails: tuple[CommandMail, ...]
    counts: Counts
    new_items: tuple[Entry, ...]  # every new submission, for the list at the end
    omitted: Mapping[str, int] = field(default_factory=dict)  # section → entries left out

    @property
    def sections(self) -> tuple[str, ...]:
        """The sections that have something, in the order shown."""
        present = [("urgent", self.urgent), ("pairs", self.pairs),
                   ("unassigned", self.unassigned), ("unknown_senders", self.unknown_senders),
                   ("rejected", self.rejected), ("changes", self.changes),
                   ("failed", self.failed),
                   ("commands", self.decisions or self.command_mails)]
        return (*(name for name, values in present if values), "counts")

    def left_out(self, section: str) -> int:
        """Entries of a section (Digest.sections' name) not listed (LIMIT, LIST_LIMIT)."""
        keys = {"commands": ("decisions", "command_mails"), "counts": ("new_items",)}
        return sum(self.omitted.get(key, 0) for key in keys.get(section, (section,)))

    @property
    def entries(self) -> int:
        """What the office is asked to look at (the log line's figure)."""
        return (len(self.urgent) + len(self.pairs) + len(self.unassigned)
                + sum(len(s.items) for s in self.unknown_senders) + len(self.rejected)
                + len(self.changes) + len(self.failed) + len(self.decisions)
                + len(self.command_mails))
