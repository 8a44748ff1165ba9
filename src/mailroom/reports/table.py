"""The tables of the bulletin and the annual summary, laid out once for every format:
which columns (key, Chinese heading, kind, width), and each row's values in column order.
The renderers (HTML, XLSX, DOCX; text and CSV may too) only paint them. Pure.

Values stay typed: counts are int, scores float, 完成任务 bool, text str, and None
is an empty cell; `text(column, value)` is the cell as a clerk reads it (3, 2.5, √).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from mailroom.reports.values import (
    AdoptedItem,
    AnnualReport,
    AnnualUnitLine,
    MonthlyReport,
    ReporterLine,
    RequestLine,
    Tally,
    UnitLine,
)
from mailroom.reports.wording import word

Kind = Literal["text", "count", "score", "mark"]
Value = str | int | float | bool | None


@dataclass(frozen=True)
class Column:
    key: str  # "unit", "counted", "adoption:县政府网站", …
    heading: str
    kind: Kind
    width: int  # display cells (a Chinese character is 2) the widest line needs

    def lines(self) -> list[str]:
        """The heading in lines, for narrow columns: "采用：县政府网站" breaks after the
        colon, "计数（首报）" before the bracket, a four-character word in the middle."""
        h = self.heading
        head, sep, tail = h.partition("：")
        if sep and tail:
            return [head + sep, tail]
        head, sep, tail = h.partition("（")
        if head and sep:
            return [head, sep + tail]
        if len(h) == 4 and display_width(h) == 8:
            return [h[:2], h[2:]]
        return [h]


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[tuple[Value, ...], ...]
    total: tuple[Value, ...] | None = None  # the 合计 row, when the table has one

    def texts(self, row: Sequence[Value]) -> list[str]:
        return [text(c, v) for c, v in zip(self.columns, row, strict=True)]


def text(column: Column, value: Value) -> str:
    """A cell as printed: scores without a needless .0, 完成任务 as √ / ×."""
    if value is None:
        return ""
    if column.kind == "mark":
        return word("mark", bool(value))
    if column.kind == "score" and isinstance(value, int | float):
        return word("num", float(value))
    return str(value)


WIDE = {"address": 22, "months_below_quota": 18, "title": 60}  # caps of wider columns


def shares(table: Table, whole: int, cap: int = 24, least: int = 5) -> list[int]:
    """Column widths summing to `whole` (percent, twips…), each in proportion to its widest
    line, at least `least` and at most `cap` display cells (a longer unit name wraps; the
    columns of WIDE have their own cap)."""
    cells = [min(max(c.width, least), max(cap, WIDE.get(c.key, 0))) for c in table.columns]
    exact = [whole * n / sum(cells) for n in cells]
    parts = [int(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: parts[i] - exact[i])
    for i in by_remainder[: whole - sum(parts)]:
        parts[i] += 1
    return parts


def display_width(s: str) -> int:
    """Display cells of `s`: 2 for a wide (CJK, full-width) character, 1 otherwise."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


# A tally's columns: key, kind, how to read it
_TALLY: tuple[tuple[str, Kind, Callable[[Tally], Value]], ...] = (
    ("submitted", "count", lambda t: t.submitted),
    ("counted", "count", lambda t: t.counted),
    ("duplicates", "count", lambda t: t.duplicates),
    ("suspected", "count", lambda t: t.suspected),
    ("rejected", "count", lambda t: t.rejected),
    ("adopted", "count", lambda t: t.adopted),
)


def _tally_columns(channels: Sequence[str], rejected: bool) -> list[tuple[str, str, Kind]]:
    cols = [(key, word("heading", key), kind) for key, kind, _ in _TALLY
            if rejected or key != "rejected"]
    cols += [(f"adoption:{ch}", word("channel_heading", ch), "count") for ch in channels]
    cols += [("instructions", word("heading", "instructions"), "count"),
             ("score", word("heading", "score"), "score")]
    return cols


def _tally_values(t: Tally, channels: Sequence[str], rejected: bool) -> list[Value]:
    values = [get(t) for key, _, get in _TALLY if rejected or key != "rejected"]
    values += [t.adoptions.get(ch, 0) for ch in channels]
    values += [t.instructions, _score(t.score)]
    return values


def _score(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


def _build(spec: list[tuple[str, str, Kind]], rows: list[list[Value]],
           total: list[Value] | None = None) -> Table:
    columns = []
    for i, (key, heading, kind) in enumerate(spec):
        probe = Column(key, heading, kind, 0)
        widths = [display_width(part) for part in probe.lines()]
        for row in [*rows, *([total] if total else [])]:
            widths.append(display_width(text(probe, row[i])))
        columns.append(Column(key, heading, kind, max(widths)))
    return Table(tuple(columns), tuple(tuple(r) for r in rows),
                 tuple(total) if total is not None else None)


def _has_rejected(t: Tally) -> bool:
    return t.rejected > 0


def monthly_table(r: MonthlyReport) -> Table:
    """排名 | 单位 | 报送数 | 计数（首报） | 重复 | 待确认 | [未计数] | 采用篇数 | 采用：渠道… |
    批示 | 得分 | 累计得分 | 任务数 | 完成任务; then 合计. 未计数 only in a month that has
    rejected items."""
    rej = _has_rejected(r.totals)
    spec: list[tuple[str, str, Kind]] = [("rank", word("heading", "rank"), "count"),
                                         ("unit", word("heading", "unit"), "text")]
    spec += _tally_columns(r.channels, rej)
    spec += [("cumulative_score", word("heading", "cumulative_score"), "score"),
             ("quota", word("heading", "quota"), "count"),
             ("meets_quota", word("heading", "meets_quota"), "mark")]
    rows = [_monthly_row(line, r.channels, rej) for line in r.units]
    total: list[Value] = [None, word("total_label"), *_tally_values(r.totals, r.channels, rej),
                          None, None, None]
    return _build(spec, rows, total)


def _monthly_row(line: UnitLine, channels: Sequence[str], rej: bool) -> list[Value]:
    return [line.rank, line.unit, *_tally_values(line.tally, channels, rej),
            _score(line.cumulative_score), line.quota, line.meets_quota]


def annual_unit_table(r: AnnualReport) -> Table:
    """排名 | 单位 | the tally | 年度任务数 | 未完成月份; then 合计."""
    rej = _has_rejected(r.totals)
    spec: list[tuple[str, str, Kind]] = [("rank", word("heading", "rank"), "count"),
                                         ("unit", word("heading", "unit"), "text")]
    spec += _tally_columns(r.channels, rej)
    spec += [("quota", word("heading", "annual_quota"), "count"),
             ("months_below_quota", word("heading", "months_below_quota"), "text")]
    rows = [_annual_row(line, r.channels, rej) for line in r.units]
    total: list[Value] = [None, word("total_label"), *_tally_values(r.totals, r.channels, rej),
                          None, None]
    return _build(spec, rows, total)


def _annual_row(line: AnnualUnitLine, channels: Sequence[str], rej: bool) -> list[Value]:
    return [line.rank, line.unit, *_tally_values(line.tally, channels, rej), line.quota,
            word("months_list", line.months_below_quota)]


def reporter_table(r: AnnualReport) -> Table:
    """排名 | 信息员 | 邮箱 | 单位 | the tally."""
    rej = any(line.tally.rejected for line in r.reporters)
    spec: list[tuple[str, str, Kind]] = [("rank", word("heading", "rank"), "count"),
                                         ("reporter", word("heading", "reporter"), "text"),
                                         ("address", word("heading", "address"), "text"),
                                         ("unit", word("heading", "unit"), "text")]
    spec += _tally_columns(r.channels, rej)
    rows = [_reporter_row(line, r.channels, rej) for line in r.reporters]
    return _build(spec, rows)


def _reporter_row(line: ReporterLine, channels: Sequence[str], rej: bool) -> list[Value]:
    return [line.rank, word("reporter_name", line), line.address, word("unit_name", line.unit),
            *_tally_values(line.tally, channels, rej)]


def adopted_table(items: Sequence[AdoptedItem]) -> Table:
    """编号 | 单位 | 标题 | 采用渠道 | 批示 (★) | 得分: the second XLSX sheet."""
    spec: list[tuple[str, str, Kind]] = [
        ("number", word("heading", "number"), "text"),
        ("unit", word("heading", "unit"), "text"),
        ("title", word("heading", "title"), "text"),
        ("channels", word("heading", "channels"), "text"),
        ("instructed", word("heading", "instructed"), "text"),
        ("item_score", word("heading", "item_score"), "score"),
    ]
    rows: list[list[Value]] = [
        [i.number, word("unit_name", i.unit), i.title, word("adopted_channels", i),
         word("star") if i.instructed else "", _score(i.score)] for i in items]
    return _build(spec, rows)


def requests_table(requests: Sequence[RequestLine]) -> Table:
    """约稿编号 | 约稿题目 | 截止日期 | 约稿单位 | 已报送 | 未报送 | 状态: the 约稿 XLSX sheet."""
    spec: list[tuple[str, str, Kind]] = [
        (key, word("heading", key), "text")
        for key in ("request_code", "request_title", "due", "units_asked", "answered",
                    "missing", "request_status")]
    rows: list[list[Value]] = [
        [q.code, q.title, word("request_due", q), "、".join(q.units),
         word("request_answers", q), "、".join(q.missing), word("request_status", q)]
        for q in requests]
    return _build(spec, rows)


def by_unit(items: Sequence[AdoptedItem]) -> list[tuple[str | None, list[AdoptedItem]]]:
    """The adopted items grouped by unit, in the report's order (rank order, then number)."""
    groups: dict[str | None, list[AdoptedItem]] = {}
    for item in items:
        groups.setdefault(item.unit, []).append(item)
    return list(groups.items())
