"""The item page's side by side (R3), pure: an item's text next to the text of the item
its verdict matched, the passages found in both marked.

Nothing new is decided here: the passages are `dedupe.passages.matched_passages` of the two
readable texts (what the digest shows), else the pairs the verdict stored, and they are
marked with the digest's own `digest.build.marked`. The text compared is the one the
digest shows: the mail's body, or — when the body is only a cover note and dedupe read the
attachments — the attachments' text as dedupe keeps it (`compared_text`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mailroom.dedupe.normalize import clean_text, compact
from mailroom.dedupe.passages import matched_passages
from mailroom.digest.build import marked
from mailroom.digest.records import COVER_NOTE, MAX_TEXT
from mailroom.digest.values import Segment

BODY = "body"
ATTACHMENT = "attachment"


@dataclass(frozen=True)
class Side:
    """One item's text cut into segments, those found in the other item marked."""

    segments: tuple[Segment, ...]
    text_from: str  # body | attachment
    cut: bool  # the text was longer than MAX_TEXT characters and is shown cut


@dataclass(frozen=True)
class SideBySide:
    left: Side  # the item
    right: Side  # the item its verdict matched
    passages: int  # passages found in both


def is_cover_note(body: str | None) -> bool:
    """A body with under COVER_NOTE characters of content ("详见附件", a greeting, a name)."""
    return len(compact(clean_text(body or ""))) < COVER_NOTE


def compared_text(body: str | None, attached: str | None, readable: str = "") -> tuple[str, str]:
    """(text, where from) of an item as the digest shows it: the body, unless it is a cover
    note (under COVER_NOTE characters of content) and dedupe read the attachments' text
    (`attached`: DedupeText.content, one compacted sentence a line) — then the attachments'
    `readable` text when the caller could read it (a .docx, with its punctuation), else
    `attached` as dedupe keeps it."""
    text = body or ""
    if attached and is_cover_note(text) and len(attached) > COVER_NOTE:
        if len(compact(readable)) >= COVER_NOTE:
            return readable, ATTACHMENT
        return "".join(f"{line}。" for line in attached.split("\n") if line), ATTACHMENT
    return text, BODY


def side_by_side(item: tuple[str, str], other: tuple[str, str],
                 stored: Sequence[tuple[str, str]] = ()) -> SideBySide:
    """`item` and `other` ((text, where from), as `compared_text` gives) side by side.
    The passages are those `matched_passages` finds in the two texts, else `stored` (the
    verdict's (item sentence, other sentence) pairs, compacted)."""
    (text, text_from), (other_text, other_from) = item, other
    left, right = text[:MAX_TEXT], other_text[:MAX_TEXT]
    found = matched_passages(left, right) if left and right else []
    pairs = [(p.a, p.b) for p in found] or list(stored)
    return SideBySide(
        Side(marked(left, [a for a, _ in pairs]), text_from, len(text) > MAX_TEXT),
        Side(marked(right, [b for _, b in pairs]), other_from, len(other_text) > MAX_TEXT),
        len(pairs))
