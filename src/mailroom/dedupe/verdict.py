"""Scoring a pair and turning scores into verdicts (R3), pure.

Scorers. Text is compared as compacted character strings (see normalize): rapidfuzz's
`fuzz.ratio` (normalised Indel similarity) on titles and on content — the token_* scorers
split on white space, and Chinese has none. When one content is much longer than the
other (a forward that adds a paragraph, a body that repeats only part of the .docx), how
much of the shorter one the longer contains is weighed in, discounted by the length ratio
so that a short item is never "contained" in a long one by accident.

Specifics. Items made from one template (the weekly patrol report, the same notice for
another township) share most of their text and differ in dates, places and numbers, so
the text score is reduced by how much their specifics differ: that is where a clerk
looks. Conversely, two units' own accounts of one joint activity share little wording but
all of its dates, figures and places: agreeing specifics add a few points, enough to make
the pair *suspected* but never, alone, an automatic duplicate.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from rapidfuzz import fuzz

from mailroom.dedupe.normalize import MIN_PIECE, trigrams
from mailroom.dedupe.passages import SentenceOverlap, sentence_overlap
from mailroom.dedupe.signature import similarity

MIN_TITLE_ONLY = 6        # compacted title characters before a title alone may match
TITLE_ONLY_CAP = 95.0     # a title-only match is never more certain than this
NUMBER_PENALTY = 40.0     # points taken when no number is shared
NUMBER_CURVE = 1.5        # one changed number costs little; a different week's set, much
MIN_NUMBERS = 2           # numbers each side needs before they are compared
TITLE_WEIGHT = 0.15       # share of the title in a content match
SPECIFICS_BONUS = 10.0    # points added when all specifics agree (the same event retold)
MIN_SHARED_FOR_BONUS = 3  # specifics both must share before they add anything
CONTAINED_GATE = 0.6      # see content_similarity
CORRECTION_TEXT = 95.0    # whole-text score from which a few changed figures are corrections
CORRECTION_VALUES = 2     # … at most this many on either side, none a date or a place
CORRECTION_PENALTY = 3.0  # … points each
MIN_SHARED_CHARS = 60     # sentence matching: shared characters before it says anything
FULL_COVERAGE = 0.5       # … share of the longer text below which the score is reduced
CONTAINED_COVERAGE = 0.85  # … below it, the shorter is a cut-down copy (specifics: subset)
RETOLD_SHARED = 4         # the same event retold: at least this many specifics shared,
RETOLD_AGREEMENT = 0.7    # … this much of them agreeing (Jaccard), a day or month among them,
RETOLD_TEXT = 65.0        # … and a whole-text score of at least this;
RETOLD_FLOOR = 90.0       # … then it scores from this (text 65) up to 100 (text 100)


_DATE_NUMBER = re.compile(r"(\d+)(?=[年月日号时])")
_DAY_NUMBER = re.compile(r"(\d+)(?=[月日号])")


@dataclass(frozen=True)
class Features:
    """What one stored item contributes to a comparison."""

    title: str
    content: str
    source: str
    numbers: frozenset[str]
    minhash: bytes = b""  # dedupe/signature: lets a costly containment check be skipped
    sentences: tuple[str, ...] = ()  # the content cut at sentence ends

    @cached_property
    def grams(self) -> set[str]:
        return trigrams(self.content)

    @cached_property
    def dates(self) -> frozenset[str]:
        """Numbers that are part of a date or time (7月5日, 17时): where issues of a
        series differ, never a figure corrected in a re-sent copy."""
        return frozenset(m.lstrip("0") or "0" for m in _DATE_NUMBER.findall(self.content))

    @cached_property
    def days(self) -> frozenset[str]:
        """Numbers that name a month or a day (4月, 22日): when an event happened."""
        return frozenset(m.lstrip("0") or "0" for m in _DAY_NUMBER.findall(self.content))


@dataclass(frozen=True)
class Match:
    score: float   # 0–100
    part: str      # title | content | attachment
    title: float
    content: float | None
    numbers: float | None  # Jaccard of the specifics, when compared
    bonus: float = 0.0     # points the agreeing specifics added (never an automatic duplicate)
    overlap: SentenceOverlap | None = None  # the sentences found in both (dedupe/passages)
    retold: bool = False   # the same event retold in other words (see `retold_score`)


def content_similarity(a: str, b: str, jaccard: float | None = None,
                       grams: Callable[[], tuple[set[str], set[str]]] | None = None) -> float:
    """fuzz.ratio; when one text is much longer, also how much of the shorter one's
    character trigrams the longer one contains (Broder's containment: alignment by
    partial_ratio costs tens of milliseconds on texts of a few thousand characters),
    discounted by the length ratio."""
    ratio = float(fuzz.ratio(a, b))
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if len(long) > 1.3 * len(short):
        share = len(short) / len(long)
        discount = 0.75 + 0.25 * share
        # a fully contained shorter text has ratio 200·share/(1+share): far below that,
        # it is not contained, and the trigram sets need not be built
        if 100 * discount > ratio >= CONTAINED_GATE * 200 * share / (1 + share) and (
                jaccard is None or _containment_bound(jaccard, share) * discount >= 0.5):
            grams_a, grams_b = grams() if grams is not None else (trigrams(a), trigrams(b))
            own, other = (grams_a, grams_b) if len(a) <= len(b) else (grams_b, grams_a)
            contained = len(own & other) / len(own)
            ratio = max(ratio, 100 * contained * discount)
    return ratio


def _containment_bound(jaccard: float, share: float) -> float:
    """|S∩L|/|S| from the (estimated) Jaccard of S and L and |S|/|L|, with room for the
    estimate's error: |S∩L| = J(|S|+|L|)/(1+J)."""
    generous = min(1.0, jaccard + 0.15)
    return generous * (1 + 1 / share) / (1 + generous)


def number_agreement(a: frozenset[str], b: frozenset[str], contained: bool = False
                     ) -> float | None:
    """Jaccard of the specifics; for a cut-down copy (`contained`), the share of the
    smaller set found in the larger: the copy lost some of the original's figures, it
    changed none."""
    if len(a) < MIN_NUMBERS or len(b) < MIN_NUMBERS:
        return None
    shared = len(a & b)
    return shared / min(len(a), len(b)) if contained else shared / len(a | b)


def sentence_score(overlap: SentenceOverlap) -> float:
    """How much of the shorter text the longer repeats, sentence by sentence (order and
    truncation do not matter): the share of its characters in sentences found near-verbatim,
    specifics equal, in the other; less when that is a small part of the longer one or of
    too few characters to tell."""
    if overlap.shared_chars < MIN_SHARED_CHARS:
        return 0.0
    score = 100 * overlap.containment
    if overlap.coverage < FULL_COVERAGE:
        score *= 0.7 + 0.3 * overlap.coverage / FULL_COVERAGE
    return score


def specifics_penalty(new: Features, old: Features, agreement: float,
                      content: float | None) -> float:
    """Points taken as the specifics differ; a corrected figure or two in an otherwise
    identical text (以此稿为准) costs little — unless it is a date or a place, which is
    what tells the issues of a series apart."""
    full: float = NUMBER_PENALTY * (1 - agreement) ** NUMBER_CURVE
    if content is None or content < CORRECTION_TEXT:
        return full
    gone, added = old.numbers - new.numbers, new.numbers - old.numbers
    changed = gone | added
    # a date replaced by another tells an issue of a series from the next; a date only
    # dropped or only added (截至4月中旬 → 截至目前) does not
    if (len(gone) > CORRECTION_VALUES or len(added) > CORRECTION_VALUES
            or any(not value[0].isdigit() for value in changed)
            or (gone & old.dates and added & new.dates)):
        return full
    return min(full, CORRECTION_PENALTY * max(len(gone), len(added)))


def retold_score(new: Features, old: Features, whole: float) -> float | None:
    """Another unit's own write-up of the same event (a joint activity, the meeting it
    attended): other sentences, but the same facts — at least `RETOLD_SHARED` specifics in
    common, `RETOLD_AGREEMENT` of them agreeing, a month or day among them — and much of the
    same wording (whole-text score ≥ `RETOLD_TEXT`). The notice counts content that is
    basically the same once (首报), so this is a duplicate: it scores from `RETOLD_FLOOR`
    (at `RETOLD_TEXT`) to 100 as the wording agrees. Issues of a series and items of one
    template share the wording but not the facts (their specifics agree far less), related
    news of one topic neither. None when the pair is not the same event retold."""
    shared = new.numbers & old.numbers
    if (whole < RETOLD_TEXT or len(shared) < RETOLD_SHARED
            or len(shared) < RETOLD_AGREEMENT * len(new.numbers | old.numbers)
            or not shared & new.days & old.days):
        return None
    return RETOLD_FLOOR + (100 - RETOLD_FLOOR) * (whole - RETOLD_TEXT) / (100 - RETOLD_TEXT)


def compare(new: Features, old: Features) -> Match:
    """How much `new` repeats `old`, and through which part."""
    title = float(fuzz.ratio(new.title, old.title)) if new.title and old.title else 0.0
    overlap = None
    contained = False
    if len(new.content) >= MIN_PIECE and len(old.content) >= MIN_PIECE:
        jaccard = (similarity(new.minhash, [old.minhash])[0]
                   if new.minhash and old.minhash else None)
        whole = content_similarity(new.content, old.content, jaccard,
                                   lambda: (new.grams, old.grams))
        retold = retold_score(new, old, whole)
        # a whole-text score this high decides alone: equal sentences suffice for the detail
        overlap = sentence_overlap(new.sentences, old.sentences, whole < CORRECTION_TEXT)
        by_sentence = sentence_score(overlap)
        best = max(whole, by_sentence)
        content: float | None = best
        contained = by_sentence > whole and overlap.coverage < CONTAINED_COVERAGE
        score = max(best, (1 - TITLE_WEIGHT) * best + TITLE_WEIGHT * title)
        attachment = "attachment" in new.source or "attachment" in old.source
        part = "attachment" if attachment else "content"
    else:
        content = None
        retold = None
        short_title = min(len(new.title), len(old.title)) < MIN_TITLE_ONLY
        score = 0.0 if short_title else min(title, TITLE_ONLY_CAP)
        part = "title"
    numbers = number_agreement(new.numbers, old.numbers, contained)
    bonus = 0.0
    score = float(score)
    if numbers is not None:
        score -= specifics_penalty(new, old, numbers, content)
        shared = len(new.numbers & old.numbers)
        if content is not None and shared >= MIN_SHARED_FOR_BONUS and numbers > 0.5:
            bonus = SPECIFICS_BONUS * (numbers - 0.5) / 0.5
            score += bonus
    if retold is not None and retold > score - bonus:
        # the facts agreeing are evidence here, not a bonus: it may be automatic
        return Match(round(retold, 1), part, title, content, numbers, 0.0, overlap, True)
    return Match(round(min(max(score, 0.0), 100.0), 1), part, title, content, numbers,
                 round(bonus, 1), overlap)


def status_for(score: float, duplicate_threshold: float, suspect_threshold: float,
               bonus: float = 0.0) -> str:
    """counted below the suspect threshold; suspected between; duplicate at or above the
    duplicate threshold — unless only the specifics bonus lifted it there: agreeing dates
    and numbers make a clerk look (suspected), they never deny a unit its credit alone."""
    if score >= duplicate_threshold and score - bonus >= duplicate_threshold:
        return "duplicate"
    if score >= suspect_threshold:
        return "suspected"
    return "counted"
