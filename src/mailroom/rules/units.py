"""R1 unit matching: which roster unit a piece of a subject names (``match_unit``).

An exact name / alias first (also after dropping a "永宁县自然资源局" style prefix), then
``fuzz.ratio`` (normalised Indel similarity) with two guards, because on short CJK strings
one differing character of five still scores 80:

* the shorter string must be a subsequence of the longer one (pure omissions such as
  "综合执法队", "国土规划股", or pure additions such as "局办公室"); a *substituted*
  character ("望远" for "望洪", "财政股" for "财务股", "林草" for "林业") means another unit;
* the best unit must lead the runner-up by more than ``AMBIGUITY_MARGIN``.

``roster_problems`` checks, once when the config is loaded, that the roster cannot credit a
mail to the wrong unit: every name and alias names one unit only, compared as the matcher
compares them (``folding.key``), and an officer's address belongs to one unit only
(addresses compare case-insensitively).

``partial_ratio`` and ``WRatio`` are not used: they score any substring 100 / 90
("林业站" against both 望洪林业站 and 望远林业站; "自然资源局" → 80 against
自然资源综合执法大队), and the ``token_*`` scorers see a CJK title as one token.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rapidfuzz import fuzz
from rapidfuzz.distance import LCSseq

from mailroom.rules.folding import HAN, key

FUZZY_THRESHOLD = 75.0
ABBREVIATION_THRESHOLD = 40.0
AMBIGUITY_MARGIN = 5.0
MAX_UNIT_TEXT = 40

ORG_PREFIX = re.compile(  # a county / bureau before the unit: "永宁县自然资源局执法大队"
    rf"(?:{HAN}{{2,6}}?[省市县区]|县)*(?:自然资源(?:和规划)?局|国土资源局|林业(?:和草原)?局|局)?"
)


@dataclass(frozen=True)
class UnitName:
    """One roster entry as the matcher sees it."""

    name: str
    aliases: tuple[str, ...] = ()


def candidates(units: Sequence[UnitName]) -> list[tuple[str, str]]:
    """(key, canonical name) for every name and alias, longest key first."""
    return _candidates_of(tuple(units))


@functools.lru_cache(maxsize=8)  # the roster rarely changes; rebuilding it per subject shows
def _candidates_of(units: tuple[UnitName, ...]) -> list[tuple[str, str]]:
    pairs = [(key(label), unit.name) for unit in units for label in (unit.name, *unit.aliases)]
    return sorted({pair for pair in pairs if pair[0]}, key=lambda pair: -len(pair[0]))


def _variants(text_key: str) -> list[str]:
    """The key, then the key without a county / bureau prefix."""
    prefix = ORG_PREFIX.match(text_key)
    rest = text_key[prefix.end():] if prefix else text_key
    return [text_key, rest] if rest and rest != text_key else [text_key]


def _one_way_edit(a: str, b: str) -> bool:
    """True when the shorter string is a subsequence of the longer: omissions only."""
    return LCSseq.similarity(a, b) == min(len(a), len(b))


def _exact(variants: list[str], pairs: list[tuple[str, str]]) -> str | None:
    for variant in variants:
        names = {name for label, name in pairs if label == variant}
        if len(names) == 1:
            return names.pop()
    return None


def _pass_mark(variant: str, label: str) -> float:
    """An abbreviation keeping the unit-type suffix ("地籍股", "检疫站") may score lower."""
    abbreviation = 3 <= len(variant) < len(label) and variant[-1] == label[-1]
    return ABBREVIATION_THRESHOLD if abbreviation else FUZZY_THRESHOLD


def _fuzzy(variants: list[str], pairs: list[tuple[str, str]]) -> tuple[str, float] | None:
    scores: dict[str, float] = {}
    passed: dict[str, float] = {}
    for variant in variants:
        for label, name in pairs:
            if not _one_way_edit(variant, label):
                continue
            score = fuzz.ratio(variant, label)
            scores[name] = max(scores.get(name, 0.0), score)
            if score >= _pass_mark(variant, label):
                passed[name] = max(passed.get(name, 0.0), score)
    if not passed:
        return None
    name, score = max(passed.items(), key=lambda item: item[1])
    rivals = [other for rival, other in scores.items() if rival != name]
    if rivals and score - max(rivals) <= AMBIGUITY_MARGIN:
        return None
    return name, score


def match_unit(text: str, units: Sequence[UnitName]) -> tuple[str, float] | None:
    """The roster unit a unit part names, with its score (100 = exact), or None."""
    text_key = key(text)
    if not text_key or len(text_key) > MAX_UNIT_TEXT:
        return None
    pairs = candidates(units)
    variants = _variants(text_key)
    exact = _exact(variants, pairs)
    if exact is not None:
        return exact, 100.0
    return _fuzzy(variants, pairs)


# --- the roster's consistency (checked at config load) ------------------------------------


class RosterUnit(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def aliases(self) -> list[str]: ...
    @property
    def officers(self) -> list[str]: ...


def roster_problems(units: Sequence[RosterUnit]) -> list[str]:
    """What makes the roster ambiguous, one phrase each naming the units; [] when nothing."""
    by_name: dict[str, list[str]] = {}
    for unit in units:
        by_name.setdefault(key(unit.name), []).append(unit.name)
    problems = [f"name given more than once: {' / '.join(dict.fromkeys(names))}"
                for names in by_name.values() if len(names) > 1]
    named = {key: names[0] for key, names in by_name.items()}
    aliased: dict[str, str] = {}
    officers: dict[str, str] = {}
    for unit in units:
        for alias in unit.aliases:
            other = named.get(key(alias), unit.name)
            if other != unit.name:
                problems.append(f"alias {alias!r} of {unit.name!r} is the name of the unit "
                                f"{other!r}")
            owner = aliased.setdefault(key(alias), unit.name)
            if owner != unit.name:
                problems.append(f"alias {alias!r} is given to both {owner!r} and "
                                f"{unit.name!r}")
        for address in unit.officers:
            owner = officers.setdefault(address.lower(), unit.name)
            if owner != unit.name:
                problems.append(f"officer {address!r} is listed under both {owner!r} and "
                                f"{unit.name!r}")
    return list(dict.fromkeys(problems))
