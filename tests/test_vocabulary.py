"""The domain vocabulary: statuses that count, months, numbers, local times."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from mailroom.vocabulary import (
    COUNTING,
    JUDGED,
    Priority,
    Status,
    format_number,
    is_month,
    local_iso,
    local_minute,
    month_bounds,
    month_of,
    parse_number,
)

ZONE = ZoneInfo("Asia/Shanghai")


def test_members_are_their_strings() -> None:
    assert Status.COUNTED == "counted"
    assert json.dumps([Status.SUSPECTED]) == '["suspected"]'
    assert f"{Status.DUPLICATE}" == "duplicate"


def test_which_statuses_count_and_which_are_judged() -> None:
    assert {"counted", "suspected"} == COUNTING
    assert {"counted", "suspected", "duplicate"} == JUDGED
    assert "unassigned" not in JUDGED and "rejected" not in JUDGED


def test_priority_rank() -> None:
    assert Priority.GENERAL.rank < Priority.IMPORTANT.rank < Priority.URGENT.rank
    assert max(Priority, key=lambda p: p.rank) == "urgent"


def test_month_is_taken_in_the_configured_zone() -> None:
    assert month_of(datetime(2019, 5, 31, 16, 5, tzinfo=UTC), ZONE) == "2019-06"
    assert month_of(datetime(2019, 5, 31, 15, 59, tzinfo=UTC), ZONE) == "2019-05"
    start, end = month_bounds("2019-12", ZONE)
    assert (start.month, end.year, end.month) == (12, 2020, 1)
    assert is_month("2019-05") and not is_month("2019-13") and not is_month("201905")


@pytest.mark.parametrize(("written", "canonical"), [
    ("201905-0012", "201905-0012"),
    ("2019050012", "201905-0012"),
    (" ２０１９０５－００１２ ", "201905-0012"),
    ("201905-12345", "201905-12345"),
    ("201913-0001", None),
    ("abc", None),
    ("201905-12", None),
    ("", None),
])
def test_numbers_as_people_write_them(written: str, canonical: str | None) -> None:
    assert parse_number(written) == canonical


def test_format_number() -> None:
    assert format_number("2019-05", 7) == "201905-0007"


def test_local_times() -> None:
    instant = datetime(2019, 5, 8, 2, 30, tzinfo=UTC)
    assert local_iso(instant, ZONE) == "2019-05-08T10:30:00+08:00"
    assert local_minute(instant, ZONE) == "2019-05-08 10:30"
