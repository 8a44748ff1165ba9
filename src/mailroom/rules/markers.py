"""R5 / R3 markers of a subject line: reply prefixes, priority, follow-up, trailing dates.

A priority comes from a *marker* only — 紧急 / 特急 / 加急 / 重要 in brackets (【紧急】,
[特急], （重要）) or as a leading word with a colon (紧急：) — never from the same word
inside a title ("学习重要讲话精神" is general). A follow-up report (续报, 终报, 第二次续报,
续报二 …) is marked the same ways or by the word ending the title ("…的续报"); this
module holds the one definition of that word, which the dedupe engine also uses to find
a follow-up's first report (``without_followup_marker``).
"""

from __future__ import annotations

import re

from mailroom.rules.folding import CLOSE, EDGE, OPEN, SEP_CHARS, fold
from mailroom.vocabulary import Priority

_PRIORITY_WORD = r"(?:特别)?(?P<p>紧急|特急|加急|重要)(?:信息)?"
_FOLLOWUP_WORD = r"(?P<f>(?:第[一二三四五六七八九十\d]+次)?(?:续报|终报)[一二三四五六七八九十\d]*)"
_MARKER_WORD = rf"(?:{_PRIORITY_WORD}|{_FOLLOWUP_WORD})"
_ANY_MARKER = re.sub(r"\?P<\w>", "?:", _MARKER_WORD)  # the same, without named groups
_ANY_FOLLOWUP = re.sub(r"\?P<\w>", "?:", _FOLLOWUP_WORD)
_SEGMENT_START = rf"(?:^|(?<=[{SEP_CHARS}\s\]】〕)〗」》]))"

_LEADING_MARKER = re.compile(rf"\s*(?:{OPEN}\s*{_ANY_MARKER}\s*{CLOSE}|{_ANY_MARKER}\s*:)\s*")
_BRACKET_MARKER = re.compile(rf"{OPEN}\s*{_MARKER_WORD}\s*{CLOSE}")
_COLON_MARKER = re.compile(rf"{_SEGMENT_START}\s*{_MARKER_WORD}\s*:")
_TRAILING_FOLLOWUP = re.compile(rf"{_FOLLOWUP_WORD}\s*$")
_FOLLOWUP_ANYWHERE = re.compile(rf"{OPEN}?\s*{_ANY_FOLLOWUP}\s*{CLOSE}?\s*:?")
COLON_WORD_AT_END = re.compile(rf"{_ANY_MARKER}\s*$")  # "执法大队紧急" before a colon

_REPLY_PREFIX = re.compile(
    r"\s*(?:(?:re|fwd?)\s*(?:\[\d+\]|\(\d+\))?\s*:"
    r"|(?:回复|答复|转发)\s*(?:\[\d+\]|\(\d+\))?\s*(?::|\s)|转\s*:)\s*",
    re.IGNORECASE,
)

_Y = r"(?:19|20)\d{2}"
_M = r"(?:1[0-2]|0?[1-9])"
_D = r"(?:3[01]|[12]\d|0?[1-9])"
_YMD8 = rf"{_Y}(?:1[0-2]|0[1-9])(?:3[01]|[12]\d|0[1-9])"  # 20190508
_FULL_DATE = rf"{_Y}\s*[.\-/年]\s*{_M}\s*[.\-/月]\s*{_D}\s*[日号]?|{_YMD8}"
_ANY_DATE = rf"(?:{_FULL_DATE}|{_M}\s*月\s*{_D}\s*[日号]|{_M}\.{_D}|{_Y}\s*年?(?:\s*{_M}\s*月)?)"
_TRAILING_DATE = re.compile(
    rf"(?:\s*{OPEN}\s*{_ANY_DATE}\s*{CLOSE}"
    rf"|(?:\s|[{SEP_CHARS}])+{_ANY_DATE}"
    rf"|(?<![\d.])(?:{_FULL_DATE}|{_M}\.{_D}))\s*$"
)


def strip_reply_prefixes(subject: str) -> str:
    """The subject without (nested) Re:/Fwd:/回复：/转发：/答复… prefixes, trimmed."""
    text = subject.strip()
    while True:
        match = _REPLY_PREFIX.match(fold(text))
        if match is None or match.end() == 0:
            return text
        text = text[match.end():].strip()


def detect_priority(subject: str) -> Priority:
    """R5: urgent / important / general, from a bracketed or colon marker only."""
    folded = fold(strip_reply_prefixes(subject))
    found = Priority.GENERAL
    for pattern in (_BRACKET_MARKER, _COLON_MARKER):
        for match in pattern.finditer(folded):
            word = match.group("p")
            if not word:
                continue
            level = Priority.IMPORTANT if word == "重要" else Priority.URGENT
            found = max(found, level, key=lambda p: p.rank)
    return found


def detect_followup(title: str) -> str | None:
    """续报 / 终报 / 续报二 … when the title marks a follow-up report, else None."""
    folded = fold(title)
    for pattern in (_BRACKET_MARKER, _COLON_MARKER, _TRAILING_FOLLOWUP):
        for match in pattern.finditer(folded):
            if match.group("f"):
                return re.sub(r"\s+", "", match.group("f"))
    return None


def without_followup_marker(title: str) -> str:
    """The title without any 续报 / 终报 word (with its brackets or colon), as written."""
    folded = fold(title)
    for match in reversed(list(_FOLLOWUP_ANYWHERE.finditer(folded))):
        title = title[:match.start()] + title[match.end():]
    return title


def take_leading_markers(text: str) -> tuple[str, str]:
    """Split priority / follow-up markers off the front: (markers as written, rest)."""
    folded = fold(text)
    position, markers = 0, ""
    while (match := _LEADING_MARKER.match(folded, position)) is not None:
        markers += text[match.start():match.end()].strip()
        position = match.end()
    return markers, text[position:]


def pull_bracket_markers(text: str) -> tuple[str, str]:
    """Bracketed markers inside a would-be unit part: (text without them, the markers)."""
    folded = fold(text)
    found = list(_BRACKET_MARKER.finditer(folded))
    markers = "".join(text[m.start():m.end()] for m in found)
    for match in reversed(found):
        text = text[:match.start()] + text[match.end():]
    return text, markers


def trailing_date(title: str) -> str | None:
    """The date a title ends with ("（5月8日）", "2019.5.8"), unless that is all there is.

    The date stays in the title: SPEC's title drops only prefixes, unit and separator.
    """
    match = _TRAILING_DATE.search(fold(title))
    if match is None or not title[:match.start()].strip(EDGE):
        return None
    return title[match.start():].strip(EDGE + " ")
