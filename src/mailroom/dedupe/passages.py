"""Sentences found in both of two items (R3), pure: what makes a copy a copy whatever the
order of its paragraphs or how much of the original it kept, and what a clerk is shown.

A sentence of one text is *shared* when the other has a sentence at least
`SENTENCE_CUTOFF` similar to it (rapidfuzz `fuzz.ratio` on the compacted characters:
near-verbatim, a changed particle or punctuation aside) **and the same numbers**: issues of
a templated series — the daily 执法巡查日志, the ten-day mine report — share sentences that
differ only in their dates and figures, and those are not the same sentence.

`sentence_overlap` works on the compacted sentences dedupe stores (dedupe/normalize); a
verdict keeps its pairs in `match_detail["passages"]`. `matched_passages` works on two
readable texts (a submission's body and attachment text, as `submissions show` prints
them) and returns the shared passages with their positions, for the digest, the CLI and
the console to show the pair side by side with the shared passages marked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from mailroom.dedupe.normalize import MIN_SENTENCE, clean_text, compact

SENTENCE_CUTOFF = 85.0  # fuzz.ratio of two sentences that say the same
MAX_PAIRS = 12          # pairs a verdict keeps (the longest shared sentences)
MAX_FUZZY = 20          # sentences of each side compared fuzzily once equal ones are paired
FUZZY_FROM = 0.25       # … and only when equal sentences make this much of the shorter text
FUZZY_UNTIL = 0.95      # … but not already (nearly) all of it
_DIGITS = re.compile(r"\d+")
_READABLE = re.compile(r"[^。！!？?；;\n]+[。！!？?；;]?")


@dataclass(frozen=True)
class SentenceOverlap:
    containment: float   # share of the shorter text's characters in shared sentences
    coverage: float      # share of the longer text's characters in shared sentences
    shared_chars: int    # characters of the shorter text in shared sentences
    pairs: tuple[tuple[str, str, float], ...]  # (new sentence, old sentence, ratio)

    def detail(self) -> dict[str, object]:
        """The JSON kept in a verdict's match_detail."""
        longest = sorted(self.pairs, key=lambda pair: -len(pair[0]))[:MAX_PAIRS]
        return {"containment": round(self.containment, 3), "coverage": round(self.coverage, 3),
                "passages": [[a, b, round(score, 1)] for a, b, score in longest]}


NO_OVERLAP = SentenceOverlap(0.0, 0.0, 0, ())


def _same_numbers(a: str, b: str) -> bool:
    return sorted(_DIGITS.findall(a)) == sorted(_DIGITS.findall(b))


def _pairs(a: Sequence[str], b: Sequence[str], fuzzy: bool = True
           ) -> list[tuple[int, int, float]]:
    """For each sentence of `a`, the most similar sentence of `b` with the same numbers:
    equal sentences first (a set look-up), then — `fuzzy` — rapidfuzz on the rest, at most
    `MAX_FUZZY` of each side (a decision must stay within milliseconds)."""
    if not a or not b:
        return []
    where = {sentence: j for j, sentence in enumerate(b)}
    found = [(i, where[s], 100.0) for i, s in enumerate(a) if s in where]
    if not fuzzy:
        return found
    done_a, done_b = {i for i, _, _ in found}, {j for _, j, _ in found}
    rest_a = [i for i in range(len(a)) if i not in done_a][:MAX_FUZZY]
    rest_b = [j for j in range(len(b)) if j not in done_b][:MAX_FUZZY]
    if not rest_a or not rest_b:
        return found
    scores = process.cdist([a[i] for i in rest_a], [b[j] for j in rest_b], scorer=fuzz.ratio,
                           score_cutoff=SENTENCE_CUTOFF)
    for row_index, row in enumerate(scores):
        if row.max() < SENTENCE_CUTOFF:
            continue
        i = rest_a[row_index]
        for column in row.argsort()[::-1]:
            value = float(row[column])
            if value < SENTENCE_CUTOFF:
                break
            j = rest_b[int(column)]
            if _same_numbers(a[i], b[j]):
                found.append((i, j, value))
                break
    return sorted(found)


def sentence_overlap(new: Sequence[str], old: Sequence[str], fuzzy: bool = True
                     ) -> SentenceOverlap:
    """Which sentences of `new` are in `old` (both compacted, in order); `fuzzy=False`:
    equal sentences only."""
    a = [s for s in new if len(s) >= MIN_SENTENCE]
    b = [s for s in old if len(s) >= MIN_SENTENCE]
    if not a or not b:
        return NO_OVERLAP
    exact = _overlap(a, b, _pairs(a, b, fuzzy=False))
    # rapidfuzz only where equal sentences already show part of a copy, not all of it
    if fuzzy and FUZZY_FROM <= exact.containment < FUZZY_UNTIL:
        return _overlap(a, b, _pairs(a, b, fuzzy=True))
    return exact


def _overlap(a: Sequence[str], b: Sequence[str], pairs: list[tuple[int, int, float]]
             ) -> SentenceOverlap:
    size_a, size_b = sum(map(len, a)), sum(map(len, b))
    if not pairs:
        return NO_OVERLAP
    shared_a = sum(len(a[i]) for i in {i for i, _, _ in pairs})
    shared_b = sum(len(b[j]) for j in {j for _, j, _ in pairs})
    short, long = ((shared_a, size_a), (shared_b, size_b))[::1 if size_a <= size_b else -1]
    return SentenceOverlap(min(1.0, short[0] / short[1]), min(1.0, long[0] / long[1]), short[0],
                           tuple((a[i], b[j], score) for i, j, score in pairs))


@dataclass(frozen=True)
class PassagePair:
    """One passage of each text that says the same; spans index the texts given."""

    a: str
    b: str
    score: float
    a_span: tuple[int, int]
    b_span: tuple[int, int]


def _readable(text: str) -> list[tuple[str, str, tuple[int, int]]]:
    """(passage, compacted, span) of each sentence of a readable text."""
    out = []
    for match in _READABLE.finditer(text):
        passage = match.group(0)
        key = compact(clean_text(passage))
        if len(key) >= MIN_SENTENCE:
            start = match.start() + len(passage) - len(passage.lstrip())
            out.append((passage.strip(), key, (start, match.end())))
    return out


def matched_passages(a: str, b: str) -> list[PassagePair]:
    """The passages (sentences) of readable text `a` found near-verbatim, with the same
    numbers, in readable text `b`, in `a`'s order: e.g. a suspected item's text and its
    first report's, to show side by side with these spans marked. Pure; quoted headers,
    greetings and signatures count for nothing (dedupe/normalize.clean_text)."""
    left, right = _readable(a), _readable(b)
    pairs = _pairs([key for _, key, _ in left], [key for _, key, _ in right])
    return [PassagePair(left[i][0], right[j][0], score, left[i][2], right[j][2])
            for i, j, score in pairs]
