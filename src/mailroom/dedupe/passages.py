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


def _pairs(a: Sequence[str], b: Sequence[str]) -> list[tuple[int, int, float]]:
    """For each sentence of `a`, the most similar sentence of `b` with the same numbers."""
    if not a or not b:
        return []
    scores = process.cdist(a, b, scorer=fuzz.ratio, score_cutoff=SENTENCE_CUTOFF)
    found = []
    for i, row in enumerate(scores):
        for j in row.argsort()[::-1]:
            value = float(row[j])
            if value < SENTENCE_CUTOFF:
                break
            if _same_numbers(a[i], b[int(j)]):
                found.append((i, int(j), value))
                break
    return found


def sentence_overlap(new: Sequence[str], old: Sequence[str]) -> SentenceOverlap:
    """Which sentences of `new` are in `old` (both compacted, in order)."""
    a = [s for s in new if len(s) >= MIN_SENTENCE]
    b = [s for s in old if len(s) >= MIN_SENTENCE]
    size_a, size_b = sum(map(len, a)), sum(map(len, b))
    pairs = _pairs(a, b)
    if not pairs or not size_a or not size_b:
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
