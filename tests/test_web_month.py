"""The month page's chart geometry (web/charts.py), pure."""

from __future__ import annotations

import pytest

from mailroom.web.charts import (
    WIDTH,
    months_ending,
    nice_step,
    progress,
    scale_top,
    shift_month,
    trend_columns,
    unit_bars,
)


@pytest.mark.parametrize(("period", "delta", "expected"), [
    ("2019-05", -1, "2019-04"), ("2019-01", -1, "2018-12"), ("2019-12", 1, "2020-01"),
    ("2019-05", -12, "2018-05"), ("2019-05", 0, "2019-05"), ("2019-05", 19, "2020-12"),
])
def test_shift_month(period: str, delta: int, expected: str) -> None:
    assert shift_month(period, delta) == expected


def test_months_ending_runs_twelve_months_oldest_first() -> None:
    months = months_ending("2019-05")
    assert months[0] == "2018-06" and months[-1] == "2019-05" and len(months) == 12
    assert list(months) == sorted(months)


@pytest.mark.parametrize(("top", "step", "end"), [
    (0, 1, 1), (1, 1, 1), (4, 1, 4), (6, 1, 6), (7, 2, 8), (11, 2, 12), (13, 5, 15),
    (30, 5, 30), (31, 10, 40), (95, 20, 100), (1234, 500, 1500),
])
def test_scale_ends_on_a_nice_step(top: int, step: int, end: int) -> None:
    assert nice_step(top) == step
    assert scale_top(top) == end


def test_progress_is_capped_and_a_zero_quota_is_met() -> None:
    assert progress(0, 2) == 0
    assert progress(1, 2) == 50
    assert progress(5, 2) == 100
    assert progress(0, 0) == 100


def test_unit_bars_scale_to_the_largest_value_or_quota() -> None:
    chart = unit_bars([("黄河生态林场", 4, 2), ("耕地保护股", 1, 2), ("望洪林业站", 0, 3)])
    first, second, third = chart.bars
    assert chart.ticks[0].value == 0 and chart.ticks[-1].value == 4
    assert chart.ticks[-1].position <= WIDTH
    assert first.length == pytest.approx(2 * chart.bars[0].target_x - 2 * chart.left)
    assert second.length == pytest.approx(first.length / 4)
    assert third.length == 0
    assert third.target_x == pytest.approx(chart.left + first.length * 3 / 4)
    assert [b.met for b in chart.bars] == [True, False, False]
    assert second.top > first.top and chart.height > third.bar_y + chart.bar_height


def test_unit_bars_with_nothing_at_all() -> None:
    chart = unit_bars([("办公室", 0, 0)])
    assert chart.bars[0].length == 0
    assert [t.value for t in chart.ticks] == [0, 1]


def test_trend_columns_mark_the_chosen_month_and_grow_upwards() -> None:
    points = [(month, n) for month, n in zip(months_ending("2019-05"), range(12), strict=True)]
    chart = trend_columns(points, "2019-05")
    assert [c.chosen for c in chart.columns] == [False] * 11 + [True]
    assert chart.columns[0].height == 0 and chart.columns[0].y == chart.base
    tallest = chart.columns[-1]
    assert tallest.value == 11 and tallest.y < chart.columns[5].y
    assert chart.ticks[-1].value == 15 and chart.ticks[-1].position < tallest.y
    lefts = [c.x for c in chart.columns]
    assert lefts == sorted(lefts) and chart.columns[-1].x + tallest.width <= chart.right
    assert (chart.columns[0].year, chart.columns[0].month) == (2018, 6)
