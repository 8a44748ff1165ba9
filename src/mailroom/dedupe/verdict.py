"""Scoring a pair and turning scores into verdicts (R3), pure.

Scorers. Text is compared as compacted character strings (see normalize): rapidfuzz's
`fuzz.ratio` (normalised Indel similarity) on titles and on content — the token_* scorers
split on white space, and Chinese has none. When one content is much longer than the
other (a forward that adds a paragraph, a body that repeats only part of the .docx), how
much of the shorter one the longer contains is weighed in, discounted by the length ratio
so that a short item is never "contained" in a long one by accident.

Specifics. Items made from one template (the weekly patrol report, the same notice for
another township) share most of their text and differ in dates, places and numbers, so
the text score is reduced by how much their numbers differ: that is where a clerk looks.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from rapidfuzz import fuzz

from mailroom.dedupe.normalize import MIN_PIECE, trigrams

MIN_TITLE_ONLY = 6        # compacted title characters before a title alone may match
TITLE_ONLY_CAP = 95.0     # a title-only match is never more certain than this
NUMBER_PENALTY = 40.0     # points taken when no number is shared
NUMBER_CURVE = 1.5        # one changed number costs little; a different week's set, much
MIN_NUMBERS = 2           # numbers each side needs before they are compared
TITLE_WEIGHT = 0.15       # share of the title in a content match
CONTAINED_GATE = 0.6      # see content_similarity


@dataclass(frozen=True)
class Features:
    """What one stored item contributes to a comparison."""

    title: str
    content: str
    source: str
    numbers: frozenset[str]

    @cached_property
    def grams(self) -> set[str]:
        return trigrams(self.content)


@dataclass(frozen=True)
class Match:
    score: float   # 0–100
    part: str      # title | content | attachment
    title: float
    content: float | None
    numbers: float | None  # Jaccard of the numbers, when compared


def content_similarity(a: str, b: str, grams_a: set[str] | None = None,
                       grams_b: set[str] | None = None) -> float:
    """fuzz.ratio; when one text is much longer, also how much of the shorter one's
    character trigrams the longer one contains (Broder's containment: alignment by
    partial_ratio costs tens of milliseconds on texts of a few thousand characters),
    discounted by the length ratio."""
    ratio = float(fuzz.ratio(a, b))
    (short, short_grams), (long, long_grams) = sorted(
        ((a, grams_a), (b, grams_b)), key=lambda pair: len(pair[0]))
    if len(long) > 1.3 * len(short):
        share = len(short) / len(long)
        discount = 0.75 + 0.25 * share
        # a fully contained shorter text has ratio 200·share/(1+share): far below that,
        # it is not contained, and the trigram sets need not be built
        if 100 * discount > ratio >= CONTAINED_GATE * 200 * share / (1 + share):
            grams = short_grams if short_grams is not None else trigrams(short)
            other = long_grams if long_grams is not None else trigrams(long)
            contained = len(grams & other) / len(grams)
            ratio = max(ratio, 100 * contained * discount)
    return ratio


def number_agreement(a: frozenset[str], b: frozenset[str]) -> float | None:
    if len(a) < MIN_NUMBERS or len(b) < MIN_NUMBERS:
        return None
    return len(a & b) / len(a | b)


def compare(new: Features, old: Features) -> Match:
    """How much `new` repeats `old`, and through which part."""
    title = float(fuzz.ratio(new.title, old.title)) if new.title and old.title else 0.0
    numbers = number_agreement(new.numbers, old.numbers)
    if len(new.content) >= MIN_PIECE and len(old.content) >= MIN_PIECE:
        content = content_similarity(new.content, old.content, new.grams, old.grams)
        score = max(content, (1 - TITLE_WEIGHT) * content + TITLE_WEIGHT * title)
        attachment = "attachment" in new.source or "attachment" in old.source
        part = "attachment" if attachment else "content"
    else:
        content = None
        short_title = min(len(new.title), len(old.title)) < MIN_TITLE_ONLY
        score = 0.0 if short_title else min(title, TITLE_ONLY_CAP)
        part = "title"
    if numbers is not None:
        score -= NUMBER_PENALTY * (1 - numbers) ** NUMBER_CURVE
    return Match(round(max(score, 0.0), 1), part, title, content, numbers)


def status_for(score: float, duplicate_threshold: float, suspect_threshold: float) -> str:
    """counted below the suspect threshold; suspected between; duplicate at or above the
    duplicate threshold."""
    if score >= duplicate_threshold:
        return "duplicate"
    if score >= suspect_threshold:
        return "suspected"
    return "counted"
