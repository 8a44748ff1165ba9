"""Office commands by mail (SPEC "Office commands by mail", R3 R8 R14), pure.

A command mail is read line by line: the subject and every non-empty line of the text
body before a quoted part (a reply's `> ` lines, `-----原始邮件-----`, `发件人:`, `在…写道：`,
Outlook's rule) or a signature (`-- `, a phone's 发自我的iPhone) each hold at most one
command. Every line comes back as a `Line`: the command it holds, if any, and what was wrong
with it (`Problem`, a code the reply template words in Chinese). Nothing here looks at the
database: whether a number exists or a channel is configured is the decisions core's to say.

    采用 NUMBER… CHANNEL          撤销采用 NUMBER… CHANNEL       批示 NUMBER 批示人[：内容]
    确认重复 NUMBER [NUMBER]       不是重复 NUMBER                 分配 NUMBER 单位
    约稿 标题  + lines 单位：A、B / 截止：YYYY-MM-DD [/ 要求：…]

Separators: spaces, `，` `,` `、` `：` `:` (and `;` `；`), full width or not. Numbers are
`201905-0012` or `2019050012`, full-width digits too (vocabulary.parse_number). Each
command has a canonical text (`canonical()`), which is what a held command is stored as
and parses back to the same command.

The confirmation code of a held command mail is in rules/confirmation.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from mailroom.rules.folding import fold
from mailroom.rules.markers import strip_reply_prefixes
from mailroom.rules.quoting import own_lines
from mailroom.vocabulary import parse_number

# longest first: 撤销采用 before 采用
COMMAND_WORDS = ("撤销采用", "采用", "批示", "约稿", "分配", "确认重复", "不是重复")
MAX_LINES = 100  # body lines read; a longer body is cut, and the reply says so

# -- commands -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Adopt:
    """采用 (or, `undo`, 撤销采用) these items by one channel (R8)."""

    numbers: tuple[str, ...]
    channel: str
    undo: bool = False

    @property
    def word(self) -> str:
        return "撤销采用" if self.undo else "采用"

    def canonical(self) -> str:
        return " ".join((self.word, *self.numbers, self.channel))


@dataclass(frozen=True)
class Instruct:
    """批示: a leader's instruction on an item (R8)."""

    number: str
    leader: str
    text: str = ""
    word = "批示"

    def canonical(self) -> str:
        return f"批示 {self.number} {self.leader}" + (f"：{self.text}" if self.text else "")


@dataclass(frozen=True)
class Review:
    """确认重复 (`duplicate`, optionally of another item) or 不是重复: the R3 review."""

    number: str
    duplicate: bool
    of: str | None = None

    @property
    def word(self) -> str:
        return "确认重复" if self.duplicate else "不是重复"

    def canonical(self) -> str:
        return " ".join((self.word, self.number, *((self.of,) if self.of else ())))


@dataclass(frozen=True)
class Assign:
    """分配: an unassigned item given to a unit (R1)."""

    number: str
    unit: str
    word = "分配"

    def canonical(self) -> str:
        return f"分配 {self.number} {self.unit}"


@dataclass(frozen=True)
class Request:
    """约稿 (R14): a commissioned item with the units asked and the due date."""

    title: str
    units: tuple[str, ...] = ()
    due: date | None = None
    note: str = ""  # 要求：/备注： lines (what is asked: length, photos…), as `request add --note`
    word = "约稿"

    def canonical(self) -> str:
        return f"约稿 {self.title}"

    def held(self) -> str:
        """The request with its 单位：/截止： lines, as a held command mail keeps it."""
        lines = [self.canonical()]
        if self.units:
            lines.append("单位：" + "、".join(self.units))
        if self.due is not None:
            lines.append(f"截止：{self.due.isoformat()}")
        if self.note:
            lines.append(f"要求：{self.note}")
        return "\n".join(lines)


Command = Adopt | Instruct | Review | Assign | Request


class ProblemCode(StrEnum):
    """Why a line was not (wholly) understood; templates/_words.j2 words each."""

    NOT_A_COMMAND = "not_a_command"
    MALFORMED_NUMBER = "malformed_number"  # text: the word that is no number
    MISSING_NUMBER = "missing_number"
    MISSING_CHANNEL = "missing_channel"
    MISSING_LEADER = "missing_leader"
    MISSING_UNIT = "missing_unit"
    MISSING_TITLE = "missing_title"
    TOO_MANY_NUMBERS = "too_many_numbers"
    UNEXPECTED_TEXT = "unexpected_text"  # text: the words that do not fit
    BAD_DUE_DATE = "bad_due_date"  # text: the date as written
    STRAY_REQUEST_LINE = "stray_request_line"  # 单位：/截止： with no 约稿 before it
    REPEATED = "repeated"  # the same command again (subject copied into the body)
    TOO_MANY_LINES = "too_many_lines"  # text: how many lines were left unread


@dataclass(frozen=True)
class Problem:
    code: ProblemCode
    text: str = ""  # the words concerned, as written


@dataclass(frozen=True)
class Line:
    """One line of a command mail: where it was, what it says, what it commands (None:
    nothing), and what could not be understood (a command may run with some of its
    numbers while another is reported)."""

    place: str  # "subject" | "body"
    text: str  # as written, trimmed
    command: Command | None
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class CommandMail:
    lines: tuple[Line, ...]

    @property
    def commands(self) -> list[Command]:
        return [line.command for line in self.lines if line.command is not None]

    @property
    def not_understood(self) -> list[Line]:
        return [line for line in self.lines if line.problems]


# -- the command word --------------------------------------------------------------------------

_LIST_MARK = re.compile(  # on folded text: 1. 1、 (1) 一、 - •
    r"^\s*(?:\(?\d{1,2}[).、]|[一二三四五六七八九十]{1,3}[、.]|[-*•·●◆■]+)\s*")


def command_word(subject: str) -> str | None:
    """The command word a subject or line starts with (after reply prefixes, a list mark,
    an opening bracket), longest first."""
    _start, word = _word_at(strip_reply_prefixes(subject))
    return word


def _word_at(text: str) -> tuple[int, str | None]:
    folded = fold(text)
    start = len(folded) - len(folded.lstrip())
    mark = _LIST_MARK.match(folded, start)
    if mark is not None and mark.end() > start:
        start = mark.end()
    while start < len(folded) and folded[start] in "[【〔(（":
        start += 1
    start += len(folded[start:]) - len(folded[start:].lstrip())
    word = next((w for w in COMMAND_WORDS if folded.startswith(w, start)), None)
    return start, word


# -- reading the lines --------------------------------------------------------------------------

_SEPARATORS = " \t\u3000,，、:：;；"
_SPLIT = re.compile(r"[\s,，、:：;；]+")
_DIGITS = "0-9\uff10-\uff19"
_PIECE = re.compile(rf"[{_DIGITS}][{_DIGITS}\-\uff0d—–]*|[^{_DIGITS}]+")
_LEADING_NUMBER = re.compile(rf"^([{_DIGITS}][{_DIGITS}\-\uff0d—–]*)")
_REQUEST_FIELD = re.compile(  # on folded text
    r"^\s*(单位|报送单位|约稿单位|截止|截止日期|截止时间|时限|要求|约稿要求|备注|说明)\s*:\s*(.*)$")
_NOTE_FIELDS = ("要求", "约稿要求", "备注", "说明")
_DUE = re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?$")


def parse_command_mail(subject: str, body: str) -> CommandMail:
    """Every line of a command mail, read: the subject (when it starts with a command
    word), then the body's own lines (own_lines). A line repeating an earlier command (the
    subject copied into the body) is marked `repeated`, not run twice; 单位：/截止： lines
    go into the 约稿 before them."""
    lines: list[Line] = []
    seen: set[str] = set()

    def add(line: Line) -> None:
        key = line.command.canonical() if line.command is not None else None
        if key is not None and key in seen:
            line = Line(line.place, line.text, None, (Problem(ProblemCode.REPEATED),))
        elif key is not None:
            seen.add(key)
        lines.append(line)

    subject_text = strip_reply_prefixes(subject)
    if _word_at(subject_text)[1] is not None:
        add(parse_line(subject_text, "subject"))
    body_lines = own_lines(body)
    for text in body_lines[:MAX_LINES]:
        field = _REQUEST_FIELD.match(fold(text))
        request = _last_request(lines)
        if field is not None and request is not None:
            lines[request] = _with_field(lines[request], field.group(1), text[field.start(2):])
            continue
        add(parse_line(text, "body"))
    if len(body_lines) > MAX_LINES:
        lines.append(Line("body", "", None, (Problem(ProblemCode.TOO_MANY_LINES,
                                                     str(len(body_lines) - MAX_LINES)),)))
    if lines and _only_a_heading(lines[0]) and any(line.command for line in lines[1:]):
        del lines[0]  # subject "采用" over a body of commands: a heading, not a command
    return CommandMail(tuple(lines))


def held_text(command: Command) -> str:
    """What a held command is kept as: its canonical line (a 约稿 with its field lines);
    `parse_held` reads it back."""
    return command.held() if isinstance(command, Request) else command.canonical()


def parse_held(text: str) -> Command | None:
    if "\n" not in text:
        return parse_line(text).command
    commands = parse_command_mail("", text).commands
    return commands[0] if commands else None


def _only_a_heading(line: Line) -> bool:
    return line.place == "subject" and line.command is None and all(
        p.code in (ProblemCode.MISSING_NUMBER, ProblemCode.MISSING_TITLE) for p in line.problems)


def parse_line(text: str, place: str = "body") -> Line:
    """One line: its command, or why it holds none."""
    text = text.strip()
    start, word = _word_at(text)
    if word is None:
        if _REQUEST_FIELD.match(fold(text)):
            return Line(place, text, None, (Problem(ProblemCode.STRAY_REQUEST_LINE),))
        return Line(place, text, None, (Problem(ProblemCode.NOT_A_COMMAND),))
    rest = text[start + len(word):]
    rest = rest[len(rest) - len(rest.lstrip(_SEPARATORS + "】]）)〕")):]
    command, problems = _READERS[word](rest)
    return Line(place, text, command, tuple(problems))


Read = tuple[Command | None, list[Problem]]
_Reader = Callable[[str], Read]


@dataclass(frozen=True)
class _Words:
    """The words after a command word: numbers (valid, in order), words that look like a
    number but are none, and the runs of other text between them."""

    numbers: tuple[str, ...]
    malformed: tuple[str, ...]
    texts: tuple[str, ...]  # runs of non-number words, each joined by a space
    text_runs: int  # how many separate runs (the words between numbers split a run)


def _words(rest: str) -> _Words:
    numbers: list[str] = []
    malformed: list[str] = []
    runs: list[list[str]] = []
    last_was_text = False
    for token in (t for t in _SPLIT.split(rest) if t):
        for piece in _PIECE.findall(token):
            number = parse_number(_dashes(piece))
            if _LEADING_NUMBER.match(piece):
                (numbers if number else malformed).append(number or piece)
                last_was_text = False
            elif last_was_text:
                runs[-1].append(piece)
            else:
                runs.append([piece])
                last_was_text = True
    return _Words(tuple(numbers), tuple(malformed), tuple(" ".join(r) for r in runs), len(runs))


def _dashes(text: str) -> str:
    return text.replace("—", "-").replace("–", "-").replace("\uff0d", "-")


def _number_problems(words: _Words) -> list[Problem]:
    return [Problem(ProblemCode.MALFORMED_NUMBER, token) for token in words.malformed]


def _adopt(undo: bool) -> _Reader:
    def read(rest: str) -> Read:
        words = _words(rest)
        problems = _number_problems(words)
        if words.text_runs > 1:
            return None, [*problems, Problem(ProblemCode.UNEXPECTED_TEXT, " ".join(words.texts))]
        if not words.numbers:
            return None, problems or [Problem(ProblemCode.MISSING_NUMBER)]
        if not words.texts:
            return None, [*problems, Problem(ProblemCode.MISSING_CHANNEL)]
        numbers = tuple(dict.fromkeys(words.numbers))
        return Adopt(numbers, words.texts[0], undo), problems
    return read


def _single(rest: str, most: int = 1) -> tuple[_Words, list[Problem]]:
    """The words of a command about one item (`most` numbers at most): problems that
    make the whole line not understood."""
    words = _words(rest)
    problems = _number_problems(words)
    if not words.numbers and not problems:
        problems.append(Problem(ProblemCode.MISSING_NUMBER))
    elif len(words.numbers) > most:
        problems.append(Problem(ProblemCode.TOO_MANY_NUMBERS, " ".join(words.numbers)))
    return words, problems


def _review(duplicate: bool) -> _Reader:
    def read(rest: str) -> Read:
        words, problems = _single(rest, most=2 if duplicate else 1)
        if words.texts:
            problems.append(Problem(ProblemCode.UNEXPECTED_TEXT, " ".join(words.texts)))
        if problems:
            return None, problems
        of = words.numbers[1] if len(words.numbers) > 1 else None
        return Review(words.numbers[0], duplicate, of), []
    return read


def _assign(rest: str) -> Read:
    words, problems = _single(rest)
    if words.text_runs > 1:
        problems.append(Problem(ProblemCode.UNEXPECTED_TEXT, " ".join(words.texts)))
    elif not words.texts and not problems:
        problems.append(Problem(ProblemCode.MISSING_UNIT))
    if problems:
        return None, problems
    return Assign(words.numbers[0], words.texts[0]), []


_LEADER_END = re.compile(r"[\s,，、:：;；]")


def _instruct(rest: str) -> Read:
    """批示 NUMBER 批示人[：内容]: the number first; the leader up to the next separator;
    the rest, as written, is the instruction's text."""
    match = _LEADING_NUMBER.match(rest)
    if match is None:
        return None, [Problem(ProblemCode.MISSING_NUMBER)]
    number = parse_number(_dashes(match.group(1)))
    if number is None:
        return None, [Problem(ProblemCode.MALFORMED_NUMBER, match.group(1))]
    after = rest[match.end():].lstrip(_SEPARATORS)
    end = _LEADER_END.search(after)
    leader = (after[:end.start()] if end else after).strip()
    text = after[end.end():].strip(_SEPARATORS) if end else ""
    if not leader:
        return None, [Problem(ProblemCode.MISSING_LEADER)]
    if parse_number(_dashes(leader)) is not None:  # 批示 201905-0012 201905-0013 …
        return None, [Problem(ProblemCode.TOO_MANY_NUMBERS, f"{number} {leader}")]
    return Instruct(number, leader, text), []


def _request(rest: str) -> Read:
    title = rest.strip(_SEPARATORS)
    if not title:
        return None, [Problem(ProblemCode.MISSING_TITLE)]
    return Request(title), []


def _last_request(lines: Sequence[Line]) -> int | None:
    for index in range(len(lines) - 1, -1, -1):
        if isinstance(lines[index].command, Request):
            return index
    return None


def _with_field(line: Line, name: str, value: str) -> Line:
    """The 约稿 of `line` with a 单位：/截止：/要求： line read into it."""
    request = line.command
    assert isinstance(request, Request)
    if name.endswith("单位"):
        units = tuple(u for u in _SPLIT.split(value.strip()) if u)
        return Line(line.place, line.text, replace(request, units=request.units + units),
                    line.problems)
    if name in _NOTE_FIELDS:
        note = "；".join(part for part in (request.note, value.strip()) if part)
        return Line(line.place, line.text, replace(request, note=note), line.problems)
    due = _due(value)
    if due is None:
        return Line(line.place, line.text, request,
                    (*line.problems, Problem(ProblemCode.BAD_DUE_DATE, value.strip())))
    return Line(line.place, line.text, replace(request, due=due), line.problems)


def _due(value: str) -> date | None:
    match = _DUE.match(fold(value).strip())
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


_READERS: dict[str, _Reader] = {
    "采用": _adopt(undo=False), "撤销采用": _adopt(undo=True), "批示": _instruct,
    "确认重复": _review(duplicate=True), "不是重复": _review(duplicate=False),
    "分配": _assign, "约稿": _request,
}
