"""R1 / R5 / R7 on a subject line: reply prefixes, unit, title, priority, follow-up, roster.

Pure: strings and a roster in, values out. ``parse_subject`` puts the pieces together:
``markers`` (reply prefixes, priority and follow-up markers, trailing dates), ``units``
(which roster unit a piece of text names), ``roster`` (R7 titles); ``folding`` says how
text is compared. This module finds the unit part of a subject: 【单位】标题, 单位+标题 (any
separator; the first head, left to right, that is a unit), 单位标题 glued (a roster name
the subject starts with), 标题（单位）; a roster mail may name its unit anywhere.

A subject that is only a unit ("执法大队") gives the title "" (there is nothing else).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from mailroom.rules.folding import CLOSE, EDGE, OPEN, SEP, SEP_CHARS, fold
from mailroom.rules.markers import (
    COLON_WORD_AT_END,
    detect_followup,
    detect_priority,
    pull_bracket_markers,
    strip_reply_prefixes,
    take_leading_markers,
    trailing_date,
)
from mailroom.rules.roster import is_roster_title
from mailroom.rules.units import MAX_UNIT_TEXT, ORG_PREFIX, UnitName, candidates, match_unit
from mailroom.vocabulary import Priority

__all__ = ["ParsedSubject", "UnitName", "parse_subject"]


@dataclass(frozen=True)
class ParsedSubject:
    original: str
    stripped: str
    unit_text: str | None
    unit: str | None
    unit_score: float | None
    title: str
    priority: Priority
    followup: str | None
    is_roster: bool
    date: str | None = None  # a trailing date, kept in the title too


@dataclass(frozen=True)
class _Found:
    unit_text: str
    unit: str
    score: float
    title: str  # markers + rest


def _found(unit_text: str, match: tuple[str, float], markers: str, rest: str) -> _Found:
    return _Found(unit_text.strip(), match[0], match[1], markers + rest.lstrip(EDGE + "，,、。"))


def _leading_bracket(body: str, markers: str, units: Sequence[UnitName]) -> _Found | None:
    """【单位】标题 / [单位]标题."""
    match = re.match(rf"\s*{OPEN}([^\[\]【】〔〕()]{{1,{MAX_UNIT_TEXT}}}){CLOSE}", fold(body))
    if match is None:
        return None
    unit = match_unit(body[match.start(1):match.end(1)], units)
    if unit is None:
        return None
    return _found(body[match.start(1):match.end(1)], unit, markers, body[match.end():])


def _separated(body: str, markers: str, units: Sequence[UnitName]) -> _Found | None:
    """单位+标题 and every other separator; the first head (left to right) that is a unit."""
    folded = fold(body)
    for match in SEP.finditer(folded):
        if match.start() == 0:
            continue
        if match.start() > MAX_UNIT_TEXT:
            return None
        head, head_markers = pull_bracket_markers(body[:match.start()])
        rest = body[match.end():]
        word = COLON_WORD_AT_END.search(folded, 0, match.start())
        if word is not None and ":" in match.group():  # 执法大队紧急：…
            head, rest = body[:word.start()], body[word.start():]
        unit = match_unit(head, units)
        if unit is not None:
            return _found(head, unit, markers + head_markers, rest)
    return None


def _glued(body: str, markers: str, units: Sequence[UnitName]) -> _Found | None:
    """执法大队开展……: a roster name / alias the subject starts with, longest first."""
    folded = fold(body)
    lead = len(folded) - len(folded.lstrip())
    prefix = ORG_PREFIX.match(folded, lead)
    starts = sorted({lead, prefix.end() if prefix else lead})
    for label, name in candidates(units):
        for start in starts:
            if folded.startswith(label, start):
                end = start + len(label)
                return _found(body[lead:end], (name, 100.0), markers, body[end:])
    return None


def _trailing_bracket(body: str, markers: str, units: Sequence[UnitName]) -> _Found | None:
    """标题（单位）: the unit in brackets at the very end."""
    match = re.search(rf"{OPEN}([^\[\]【】〔〕()]{{1,{MAX_UNIT_TEXT}}}){CLOSE}\s*$", fold(body))
    if match is None or match.start() == 0:
        return None
    unit = match_unit(body[match.start(1):match.end(1)], units)
    if unit is None:
        return None
    rest = body[:match.start()].rstrip(EDGE)
    return _Found(body[match.start(1):match.end(1)].strip(), unit[0], unit[1], markers + rest)


def _find_unit(body: str, markers: str, units: Sequence[UnitName]) -> _Found | None:
    for finder in (_leading_bracket, _separated, _glued, _trailing_bracket):
        found = finder(body, markers, units)
        if found is not None:
            return found
    return None


def _roster_unit(title: str, units: Sequence[UnitName]) -> _Found | None:
    """A roster mail may name its unit anywhere ("信息员名单-执法大队")."""
    pieces = re.finditer(rf"[^{SEP_CHARS}\s\[\]【】〔〕()]+", fold(title))
    for piece in pieces:
        unit = match_unit(piece.group(), units)
        if unit is not None and "信息员" not in piece.group():
            rest = title[:piece.start()].rstrip(EDGE + "[【〔(（") + title[piece.end():]
            return _Found(title[piece.start():piece.end()], unit[0], unit[1], rest.strip(EDGE))
    return None


def _finish_title(title: str) -> str:
    """Tidy whitespace. A trailing date stays (see markers.trailing_date)."""
    return re.sub(r"\s+", " ", title).strip()


def parse_subject(subject: str, units: Sequence[UnitName]) -> ParsedSubject:
    """R1: "单位+信息标题" → unit, title (markers and dates kept), priority, R7 roster."""
    stripped = strip_reply_prefixes(subject)
    markers, body = take_leading_markers(stripped)
    found = _find_unit(body, markers, units)
    title = _finish_title(found.title if found else stripped)
    roster = is_roster_title(title)
    if found is None and roster:
        found = _roster_unit(title, units)
        title = _finish_title(found.title) if found else title
    priority = max(detect_priority(stripped), detect_priority(title), key=lambda p: p.rank)
    return ParsedSubject(
        original=subject,
        stripped=stripped,
        unit_text=found.unit_text if found else None,
        unit=found.unit if found else None,
        unit_score=found.score if found else None,
        title=title,
        priority=priority,
        followup=detect_followup(title),
        is_roster=roster,
        date=trailing_date(title),
    )
