"""R1 / R5 / R7 on a subject line: reply prefixes, unit, title, priority, follow-up, roster.

Pure: strings and a roster in, values out. Matching works on a *folded* copy of the text
(full-width ASCII and the ideographic space mapped to ASCII, one character for one, so
indices carry over) and slices the original, so a title keeps the characters as written.

Unit matching (``match_unit``): an exact name / alias first (also after dropping a
"永宁县自然资源局" style prefix), then ``fuzz.ratio`` (normalised Indel similarity) with two
guards, because on short CJK strings one differing character of five still scores 80:

* the shorter string must be a subsequence of the longer one (pure omissions such as
  "综合执法队", "国土规划股", or pure additions such as "局办公室"); a *substituted*
  character ("望远" for "望洪", "财政股" for "财务股", "林草" for "林业") means another unit;
* the best unit must lead the runner-up by more than ``AMBIGUITY_MARGIN``.

``partial_ratio`` and ``WRatio`` are not used: they score any substring 100 / 90
("林业站" against both 望洪林业站 and 望远林业站; "自然资源局" → 80 against
自然资源综合执法大队), and the ``token_*`` scorers see a CJK title as one token.

A subject that is only a unit ("执法大队") gives the title "" (there is nothing else).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import LCSseq

FUZZY_THRESHOLD = 75.0
ABBREVIATION_THRESHOLD = 40.0
AMBIGUITY_MARGIN = 5.0
MAX_UNIT_TEXT = 40

PRIORITIES = ("general", "important", "urgent")


@dataclass(frozen=True)
class UnitName:
    """One roster entry as the matcher sees it."""

    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParsedSubject:
    original: str
    stripped: str
    unit_text: str | None
    unit: str | None
    unit_score: float | None
    title: str
    priority: str
    followup: str | None
    is_roster: bool
    date: str | None = None  # a trailing date, kept in the title too


@dataclass(frozen=True)
class _Found:
    unit_text: str
    unit: str
    score: float
    title: str  # markers + rest


# --- folding and shared patterns -------------------------------------------------------

_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20, 0xA0: 0x20}
_HAN = r"[\u4e00-\u9fff]"
_OPEN = r"[\[【〔(〖「《]"
_CLOSE = r"[\]】〕)〗」》]"
_SEP_CHARS = r"+\-—–―‐─:|_~"  # inside a character class, on folded text
_SEP = re.compile(rf"\s*[{_SEP_CHARS}]+\s*|\s+")
_EDGE = " \t\u3000+-—–―‐─:|_~＋－：｜～"  # for str.strip on original text
_PRIORITY_WORD = r"(?:特别)?(?P<p>紧急|特急|加急|重要)(?:信息)?"
_FOLLOWUP_WORD = r"(?P<f>(?:第[一二三四五六七八九十\d]+次)?(?:续报|终报)[一二三四五六七八九十\d]*)"
_MARKER_WORD = rf"(?:{_PRIORITY_WORD}|{_FOLLOWUP_WORD})"
_ANY_MARKER = re.sub(r"\?P<\w>", "?:", _MARKER_WORD)  # the same, without named groups
_SEGMENT_START = rf"(?:^|(?<=[{_SEP_CHARS}\s\]】〕)〗」》]))"

_LEADING_MARKER = re.compile(rf"\s*(?:{_OPEN}\s*{_ANY_MARKER}\s*{_CLOSE}|{_ANY_MARKER}\s*:)\s*")
_BRACKET_MARKER = re.compile(rf"{_OPEN}\s*{_MARKER_WORD}\s*{_CLOSE}")
_COLON_MARKER = re.compile(rf"{_SEGMENT_START}\s*{_MARKER_WORD}\s*:")
_COLON_WORD_AT_END = re.compile(rf"{_ANY_MARKER}\s*$")
_TRAILING_FOLLOWUP = re.compile(rf"{_FOLLOWUP_WORD}\s*$")

_REPLY_PREFIX = re.compile(
    r"\s*(?:(?:re|fwd?)\s*(?:\[\d+\]|\(\d+\))?\s*:"
    r"|(?:回复|答复|转发)\s*(?:\[\d+\]|\(\d+\))?\s*(?::|\s)|转\s*:)\s*",
    re.IGNORECASE,
)
_ORG_PREFIX = re.compile(
    rf"(?:{_HAN}{{2,6}}?[省市县区]|县)*(?:自然资源(?:和规划)?局|国土资源局|林业(?:和草原)?局|局)?"
)

_Y = r"(?:19|20)\d{2}"
_M = r"(?:1[0-2]|0?[1-9])"
_D = r"(?:3[01]|[12]\d|0?[1-9])"
_YMD8 = rf"{_Y}(?:1[0-2]|0[1-9])(?:3[01]|[12]\d|0[1-9])"  # 20190508
_FULL_DATE = rf"{_Y}\s*[.\-/年]\s*{_M}\s*[.\-/月]\s*{_D}\s*[日号]?|{_YMD8}"
_ANY_DATE = rf"(?:{_FULL_DATE}|{_M}\s*月\s*{_D}\s*[日号]|{_M}\.{_D}|{_Y}\s*年?(?:\s*{_M}\s*月)?)"
_TRAILING_DATE = re.compile(
    rf"(?:\s*{_OPEN}\s*{_ANY_DATE}\s*{_CLOSE}"
    rf"|(?:\s|[{_SEP_CHARS}])+{_ANY_DATE}"
    rf"|(?<![\d.])(?:{_FULL_DATE}|{_M}\.{_D}))\s*$"
)


def _fold(text: str) -> str:
    return text.translate(_FOLD)


def _key(text: str) -> str:
    """A roster-comparable form: folded, no whitespace, no wrapping brackets or separators."""
    folded = re.sub(r"\s+", "", _fold(text))
    return folded.strip("[]【】〔〕()〖〗「」《》<>\"'“”‘’" + _EDGE)


# --- reply prefixes and markers ---------------------------------------------------------


def strip_reply_prefixes(subject: str) -> str:
    """The subject without (nested) Re:/Fwd:/回复：/转发：/答复… prefixes, trimmed."""
    text = subject.strip()
    while True:
        match = _REPLY_PREFIX.match(_fold(text))
        if match is None or match.end() == 0:
            return text
        text = text[match.end():].strip()


def _rank(priority: str) -> int:
    return PRIORITIES.index(priority)


def detect_priority(subject: str) -> str:
    """R5: urgent / important / general, from a bracketed or colon marker only."""
    folded = _fold(strip_reply_prefixes(subject))
    found = "general"
    for pattern in (_BRACKET_MARKER, _COLON_MARKER):
        for match in pattern.finditer(folded):
            word = match.group("p")
            level = "important" if word == "重要" else "urgent" if word else "general"
            if _rank(level) > _rank(found):
                found = level
    return found


def detect_followup(title: str) -> str | None:
    """续报 / 终报 / 续报二 … when the title marks a follow-up report, else None."""
    folded = _fold(title)
    for pattern in (_BRACKET_MARKER, _COLON_MARKER, _TRAILING_FOLLOWUP):
        for match in pattern.finditer(folded):
            if match.group("f"):
                return re.sub(r"\s+", "", match.group("f"))
    return None


def _take_leading_markers(text: str) -> tuple[str, str]:
    """Split priority / follow-up markers off the front: (markers as written, rest)."""
    folded = _fold(text)
    position, markers = 0, ""
    while (match := _LEADING_MARKER.match(folded, position)) is not None:
        markers += text[match.start():match.end()].strip()
        position = match.end()
    return markers, text[position:]


def _pull_bracket_markers(text: str) -> tuple[str, str]:
    """Bracketed markers inside a would-be unit part: (text without them, the markers)."""
    folded = _fold(text)
    found = list(_BRACKET_MARKER.finditer(folded))
    markers = "".join(text[m.start():m.end()] for m in found)
    for match in reversed(found):
        text = text[:match.start()] + text[match.end():]
    return text, markers


# --- unit matching ----------------------------------------------------------------------


def _candidates(units: Sequence[UnitName]) -> list[tuple[str, str]]:
    """(key, canonical name) for every name and alias, longest key first."""
    return _candidates_of(tuple(units))


@functools.lru_cache(maxsize=8)  # the roster rarely changes; rebuilding it per subject shows
def _candidates_of(units: tuple[UnitName, ...]) -> list[tuple[str, str]]:
    pairs = [(_key(label), unit.name) for unit in units for label in (unit.name, *unit.aliases)]
    return sorted({pair for pair in pairs if pair[0]}, key=lambda pair: -len(pair[0]))


def _variants(key: str) -> list[str]:
    """The key, then the key without a county / bureau prefix ("永宁县自然资源局执法大队")."""
    prefix = _ORG_PREFIX.match(key)
    rest = key[prefix.end():] if prefix else key
    return [key, rest] if rest and rest != key else [key]


def _one_way_edit(a: str, b: str) -> bool:
    """True when the shorter string is a subsequence of the longer: omissions only."""
    return LCSseq.similarity(a, b) == min(len(a), len(b))


def _exact(variants: list[str], candidates: list[tuple[str, str]]) -> str | None:
    for variant in variants:
        names = {name for key, name in candidates if key == variant}
        if len(names) == 1:
            return names.pop()
    return None


def _pass_mark(variant: str, key: str) -> float:
    """An abbreviation keeping the unit-type suffix ("地籍股", "检疫站") may score lower."""
    abbreviation = 3 <= len(variant) < len(key) and variant[-1] == key[-1]
    return ABBREVIATION_THRESHOLD if abbreviation else FUZZY_THRESHOLD


def _fuzzy(variants: list[str], candidates: list[tuple[str, str]]) -> tuple[str, float] | None:
    scores: dict[str, float] = {}
    passed: dict[str, float] = {}
    for variant in variants:
        for key, name in candidates:
            if not _one_way_edit(variant, key):
                continue
            score = fuzz.ratio(variant, key)
            scores[name] = max(scores.get(name, 0.0), score)
            if score >= _pass_mark(variant, key):
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
    key = _key(text)
    if not key or len(key) > MAX_UNIT_TEXT:
        return None
    candidates = _candidates(units)
    variants = _variants(key)
    exact = _exact(variants, candidates)
    if exact is not None:
        return exact, 100.0
    return _fuzzy(variants, candidates)


# --- finding the unit part --------------------------------------------------------------


def _found(unit_text: str, match: tuple[str, float], markers: str, rest: str) -> _Found:
    return _Found(unit_text.strip(), match[0], match[1], markers + rest.lstrip(_EDGE + "，,、。"))


def _leading_bracket(body: str, markers: str, units: Sequence[UnitName]) -> _Found | None:
    """【单位】标题 / [单位]标题."""
    match = re.match(rf"\s*{_OPEN}([^\[\]【】〔〕()]{{1,{MAX_UNIT_TEXT}}}){_CLOSE}", _fold(body))
    if match is None:
        return None
    unit = match_unit(body[match.start(1):match.end(1)], units)
    if unit is None:
        return None
    return _found(body[match.start(1):match.end(1)], unit, markers, body[match.end():])


def _separated(body: str, markers: str, units: Sequence[UnitName]) -> _Found | None:
    """单位+标题 and every other separator; the first head (left to right) that is a unit."""
    folded = _fold(body)
    for match in _SEP.finditer(folded):
        if match.start() == 0:
            continue
        if match.start() > MAX_UNIT_TEXT:
            return None
        head, head_markers = _pull_bracket_markers(body[:match.start()])
        rest = body[match.end():]
        word = _COLON_WORD_AT_END.search(folded, 0, match.start())
        if word is not None and ":" in match.group():  # 执法大队紧急：…
            head, rest = body[:word.start()], body[word.start():]
        unit = match_unit(head, units)
        if unit is not None:
            return _found(head, unit, markers + head_markers, rest)
    return None


def _glued(body: str, markers: str, units: Sequence[UnitName]) -> _Found | None:
    """执法大队开展……: a roster name / alias the subject starts with, longest first."""
    folded = _fold(body)
    lead = len(folded) - len(folded.lstrip())
    prefix = _ORG_PREFIX.match(folded, lead)
    starts = sorted({lead, prefix.end() if prefix else lead})
    for key, name in _candidates(units):
        for start in starts:
            if folded.startswith(key, start):
                end = start + len(key)
                return _found(body[lead:end], (name, 100.0), markers, body[end:])
    return None


def _trailing_bracket(body: str, markers: str, units: Sequence[UnitName]) -> _Found | None:
    """标题（单位）: the unit in brackets at the very end."""
    match = re.search(rf"{_OPEN}([^\[\]【】〔〕()]{{1,{MAX_UNIT_TEXT}}}){_CLOSE}\s*$", _fold(body))
    if match is None or match.start() == 0:
        return None
    unit = match_unit(body[match.start(1):match.end(1)], units)
    if unit is None:
        return None
    rest = body[:match.start()].rstrip(_EDGE)
    return _Found(body[match.start(1):match.end(1)].strip(), unit[0], unit[1], markers + rest)


def _find_unit(body: str, markers: str, units: Sequence[UnitName]) -> _Found | None:
    for finder in (_leading_bracket, _separated, _glued, _trailing_bracket):
        found = finder(body, markers, units)
        if found is not None:
            return found
    return None


def _roster_unit(title: str, units: Sequence[UnitName]) -> _Found | None:
    """A roster mail may name its unit anywhere ("信息员名单-执法大队")."""
    pieces = re.finditer(rf"[^{_SEP_CHARS}\s\[\]【】〔〕()]+", _fold(title))
    for piece in pieces:
        unit = match_unit(piece.group(), units)
        if unit is not None and "信息员" not in piece.group():
            rest = title[:piece.start()].rstrip(_EDGE + "[【〔(（") + title[piece.end():]
            return _Found(title[piece.start():piece.end()], unit[0], unit[1], rest.strip(_EDGE))
    return None


# --- title and roster -------------------------------------------------------------------


def _finish_title(title: str) -> str:
    """Tidy whitespace. A trailing date stays: SPEC's title drops only prefixes, unit and
    separator (see trailing_date)."""
    return re.sub(r"\s+", " ", title).strip()


def trailing_date(title: str) -> str | None:
    """The date a title ends with ("（5月8日）", "2019.5.8"), unless that is all there is."""
    match = _TRAILING_DATE.search(_fold(title))
    if match is None or not title[:match.start()].strip(_EDGE):
        return None
    return title[match.start():].strip(_EDGE + " ")


_ROSTER_VERB = r"(?:关于)?(?:报送|上报|拟定|确定|更新|变更|调整|新增|更换|推荐|备案)?的?"
_UNIT_SUFFIX = r"(?:股|站|室|队|中心|场|局|所|科|办|院|组)"
_ROSTER_OWNER = rf"(?:本单位|我单位|单位|{_HAN}{{1,15}}?{_UNIT_SUFFIX})?的?"
_ROSTER_BEFORE = re.compile(rf"{_ROSTER_VERB}{_ROSTER_OWNER}")
_ROSTER_AFTER_WORD = re.compile(
    r"名单|名字|姓名|人选|人员|联系|变更|调整|报备|备案|信息表|登记表"
)
_NOT_A_NAME = re.compile(  # 信息员培训会 is news, not a name
    r"培训|会议|工作|队伍|业务|考核|座谈|交流|学习|大会|能力|素质|表彰|评选|专题|例会|培养"
)
_NAMES = re.compile(rf"{_HAN}{{2,4}}(?:[\s,，、]+{_HAN}{{2,4}})*(?:{_OPEN}.*{_CLOSE})?[\d\s-]*")


def is_roster_title(title: str) -> bool:
    """R7: the title names 信息员 as a roster does (信息员名单, 信息员张三, 报送信息员…)."""
    folded = _fold(title).strip()
    position = folded.find("信息员")
    if position < 0:
        return False
    before = folded[:position].rstrip(_EDGE + "[【〔(")
    after = folded[position + 3:].lstrip(_EDGE + "]】〕)")
    if _ROSTER_BEFORE.fullmatch(before) is None and not _bracketed_name(folded, position):
        return False
    if not after or _ROSTER_AFTER_WORD.match(after) or re.fullmatch(r"[\d\s-]+", after):
        return True
    return _NAMES.fullmatch(after) is not None and _NOT_A_NAME.match(after) is None


def _bracketed_name(folded: str, position: int) -> bool:
    """张三（信息员）."""
    return re.fullmatch(rf"{_HAN}{{2,4}}\s*{_OPEN}", folded[:position]) is not None


# --- the whole subject ------------------------------------------------------------------


def parse_subject(subject: str, units: Sequence[UnitName]) -> ParsedSubject:
    """R1: "单位+信息标题" → unit, title (markers and dates kept), priority, R7 roster."""
    stripped = strip_reply_prefixes(subject)
    markers, body = _take_leading_markers(stripped)
    found = _find_unit(body, markers, units)
    title = _finish_title(found.title if found else stripped)
    roster = is_roster_title(title)
    if found is None and roster:
        found = _roster_unit(title, units)
        title = _finish_title(found.title) if found else title
    priority = max(detect_priority(stripped), detect_priority(title), key=_rank)
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
