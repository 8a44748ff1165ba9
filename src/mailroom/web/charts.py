"""The month page's charts as geometry, pure: counts in, coordinates out. The SVG itself
(labels, titles, classes) is drawn by templates/web/month_charts.html from these values,
autoescaped like every page, so a unit's name stays text.

Two charts, both sized for a phone first (a viewBox 360 units wide, shown at most ~560 px
wide, so 1 unit is about 1 px on a phone and text stays ~13 px):
- `unit_bars`: horizontal bars of counted items per unit, the unit's name above its bar
  (long Chinese names need the width) with the value at the line's right end (where it
  never collides with the bar or the tick), and the unit's quota as a tick across the bar;
- `trend_columns`: a column per month of counted items, the chosen month marked.

Scales start at 0 and end at a "nice" number (1, 2, 5 × 10ⁿ) at or above the largest value
(or quota), with 3 to 6 gridlines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 360.0

# unit_bars: one row per unit
ROW = 44.0  # a row's height: the name's line, then the bar
LABEL_BASELINE = 15.0  # the name's baseline, from the row's top
BAR_TOP = 21.0  # the bar's top, from the row's top
BAR_HEIGHT = 14.0
BARS_LEFT = 4.0
BARS_RIGHT = 12.0  # room right of the scale for its last label
AXIS = 22.0  # the tick labels' band under the bars

# trend_columns
COLUMNS_HEIGHT = 210.0
COLUMNS_LEFT = 30.0  # the tick labels' band left of the columns
COLUMNS_RIGHT = 4.0
COLUMNS_TOP = 20.0  # room above the tallest column for its value
COLUMNS_BOTTOM = 40.0  # the month (and year) labels under the columns
COLUMN_FILL = 0.62  # the share of its slot a column fills


@dataclass(frozen=True)
class Tick:
    value: int
    position: float  # x for unit_bars, y for trend_columns


@dataclass(frozen=True)
class Bar:
    key: str  # the unit's name
    value: int  # counted items
    target: int  # the unit's quota
    top: float  # the row's top
    length: float  # the bar's length (0 for nothing)
    target_x: float  # where the quota's tick is

    @property
    def label_y(self) -> float:
        return self.top + LABEL_BASELINE

    @property
    def bar_y(self) -> float:
        return self.top + BAR_TOP

    @property
    def met(self) -> bool:
        return self.value >= self.target


@dataclass(frozen=True)
class BarChart:
    width: float
    height: float
    left: float  # x of the scale's 0
    plot_bottom: float  # y under the last bar, where the tick labels start
    bar_height: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]


@dataclass(frozen=True)
class Column:
    key: str  # "YYYY-MM"
    value: int
    x: float  # the column's left
    y: float  # the column's top
    width: float
    height: float
    chosen: bool  # the month the page shows

    @property
    def middle(self) -> float:
        return self.x + self.width / 2

    @property
    def month(self) -> int:
        return int(self.key[5:7])

    @property
    def year(self) -> int:
        return int(self.key[:4])


@dataclass(frozen=True)
class ColumnChart:
    width: float
    height: float
    left: float
    right: float  # x of the plot's right edge
    base: float  # y of the 0 line
    columns: tuple[Column, ...]
    ticks: tuple[Tick, ...]


def shift_month(period: str, delta: int) -> str:
    """"YYYY-MM" `delta` months after `period` (before, when negative)."""
    index = int(period[:4]) * 12 + int(period[5:7]) - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_ending(period: str, count: int = 12) -> tuple[str, ...]:
    """The `count` months ending with `period`, oldest first."""
    return tuple(shift_month(period, delta) for delta in range(1 - count, 1))


def nice_step(top: int, most: int = 6) -> int:
    """The smallest step of 1, 2 or 5 × 10ⁿ that covers 0..`top` in at most `most` steps."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if -(-max(top, 1) // step) <= most:
                return step
        magnitude *= 10


def scale_top(top: int, most: int = 6) -> int:
    """The scale's end: `top` rounded up to a whole step (at least 1)."""
    step = nice_step(top, most)
    return -(-max(top, 1) // step) * step


def progress(counted: int, quota: int) -> int:
    """Percent of the quota reached, 0..100, for a progress bar (a quota of 0 is met)."""
    if quota <= 0:
        return 100
    return min(100, round(100 * counted / quota))


def unit_bars(rows: Sequence[tuple[str, int, int]]) -> BarChart:
    """Horizontal bars of (unit, counted, quota) rows, in the given order."""
    top = scale_top(max([0, *(max(value, quota) for _, value, quota in rows)]))
    span = WIDTH - BARS_LEFT - BARS_RIGHT
    step = nice_step(top)

    def x(value: int) -> float:
        return round(span * value / top, 2)

    bars = tuple(Bar(key=name, value=value, target=quota, top=index * ROW, length=x(value),
                     target_x=round(BARS_LEFT + x(quota), 2))
                 for index, (name, value, quota) in enumerate(rows))
    bottom = len(rows) * ROW
    ticks = tuple(Tick(value, round(BARS_LEFT + x(value), 2))
                  for value in range(0, top + 1, step))
    return BarChart(width=WIDTH, height=bottom + AXIS, left=BARS_LEFT, plot_bottom=bottom,
                    bar_height=BAR_HEIGHT, bars=bars, ticks=ticks)


def trend_columns(points: Sequence[tuple[str, int]], chosen: str) -> ColumnChart:
    """A column per ("YYYY-MM", counted) point, oldest first; `chosen` marked."""
    top = scale_top(max([0, *(value for _, value in points)]), most=5)
    step = nice_step(top, most=5)
    base = COLUMNS_HEIGHT - COLUMNS_BOTTOM
    plot_height = base - COLUMNS_TOP
    right = WIDTH - COLUMNS_RIGHT
    slot = (right - COLUMNS_LEFT) / max(len(points), 1)
    width = round(slot * COLUMN_FILL, 2)

    def height(value: int) -> float:
        return round(plot_height * value / top, 2)

    columns = tuple(
        Column(key=key, value=value,
               x=round(COLUMNS_LEFT + slot * index + (slot - width) / 2, 2),
               y=round(base - height(value), 2), width=width, height=height(value),
               chosen=key == chosen)
        for index, (key, value) in enumerate(points))
    ticks = tuple(Tick(value, round(base - height(value), 2))
                  for value in range(0, top + 1, step))
    return ColumnChart(width=WIDTH, height=COLUMNS_HEIGHT, left=COLUMNS_LEFT, right=right,
                       base=base, columns=columns, ticks=ticks)
