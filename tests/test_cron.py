"""Standard 5-field cron (SPEC: Schedule): the parser, and its APScheduler 3 triggers checked
against APScheduler's own next-fire computation."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from mailroom.schedule.cron import Cron, CronError, parse, trigger, trigger_arguments

ZONE = ZoneInfo("Asia/Shanghai")
START = datetime(2024, 1, 20, 0, 0, tzinfo=ZONE)  # a Saturday; the span holds 29 February


def fire_times(cron: Cron, start: datetime, count: int) -> list[datetime]:
    schedule, fired, previous = trigger(cron, ZONE), [], None
    now = start
    for _ in range(count):
        at = schedule.get_next_fire_time(previous, now)
        fired.append(at)
        previous, now = at, at + timedelta(seconds=1)
    return fired


def test_fields_are_sets_of_allowed_values() -> None:
    cron = parse("*/15 9-17/2 1,15 jan-Mar,DEC mon-fri")
    assert cron.minutes == {0, 15, 30, 45}
    assert cron.hours == {9, 11, 13, 15, 17}
    assert cron.days == {1, 15}
    assert cron.months == {1, 2, 3, 12}
    assert cron.weekdays == {1, 2, 3, 4, 5}
    assert cron.either_day
    every = parse("* * * * *")
    assert (len(every.minutes), len(every.hours), len(every.days), len(every.months),
            every.weekdays) == (60, 24, 31, 12, {0, 1, 2, 3, 4, 5, 6})
    assert not every.either_day


@pytest.mark.parametrize(("text", "weekdays"), [
    ("0 9 * * 0", {0}), ("0 9 * * 7", {0}), ("0 9 * * sun", {0}), ("0 9 * * 5-7", {5, 6, 0}),
    ("0 9 * * 1-5", {1, 2, 3, 4, 5}), ("0 9 * * */2", {0, 2, 4, 6}), ("0 9 * * sat,SUN", {6, 0}),
])
def test_weekdays_count_from_sunday(text: str, weekdays: set[int]) -> None:
    assert parse(text).weekdays == weekdays


@pytest.mark.parametrize(("text", "message"), [
    ("61 25 * * *", "minute 61 is out of range 0-59"),
    ("0 25 * * *", "hour 25 is out of range 0-23"),
    ("every day", "expected 5 fields (minute hour day-of-month month day-of-week), found 2"),
    ("", "expected 5 fields"),
    ("0 9 * * * *", "found 6"),
    ("0 9 0 * *", "day-of-month 0 is out of range 1-31"),
    ("0 9 * 13 *", "month 13 is out of range 1-12"),
    ("0 9 * * 8", "day-of-week 8 is out of range 0-7"),
    ("0 9 * jam *", "month 'jam' is not a number or a name (jan…dec)"),
    ("mon 9 * * *", "minute 'mon' is not a number"),
    ("0 9 * * 5-1", "day-of-week range '5-1' runs backwards"),
    ("*/0 9 * * *", "minute '*/0': a step must be at least 1"),
    ("5/15 9 * * *", "a step goes with * or a range (*/15 or 5-59/15)"),
    ("1,,2 9 * * *", "minute '' is not a value"),
    ("-1 9 * * *", "minute '-1' is not a value"),
    ("0 9 30 2 *", "never fires: day-of-month 30 does not occur in feb"),
    ("0 9 31 4,jun *", "never fires: day-of-month 31 does not occur in apr,jun"),
])
def test_what_is_not_standard_cron_is_refused(text: str, message: str) -> None:
    with pytest.raises(CronError) as caught:
        parse(text)
    assert message in str(caught.value)


def test_29_february_is_a_day() -> None:
    assert fire_times(parse("0 9 29 2 *"), START, 2) == [
        datetime(2024, 2, 29, 9, tzinfo=ZONE), datetime(2028, 2, 29, 9, tzinfo=ZONE)]


def test_sunday_is_0_although_apschedulers_from_crontab_says_monday() -> None:
    [sunday] = fire_times(parse("0 9 * * 0"), START, 1)
    assert sunday == datetime(2024, 1, 21, 9, tzinfo=ZONE) and sunday.weekday() == 6
    # the pitfall this module exists for (SPEC: Schedule)
    monday = CronTrigger.from_crontab("0 9 * * 0", timezone=ZONE).get_next_fire_time(None, START)
    assert monday.weekday() == 0
    assert trigger_arguments(parse("0 9 * * 0"))[0]["day_of_week"] == "sun"


def test_weekdays_fire_monday_to_friday() -> None:
    fired = fire_times(parse("0 17 * * 1-5"), START, 10)
    assert [at.strftime("%a %d %H:%M") for at in fired[:6]] == [
        "Mon 22 17:00", "Tue 23 17:00", "Wed 24 17:00", "Thu 25 17:00", "Fri 26 17:00",
        "Mon 29 17:00"]
    assert {at.weekday() for at in fired} == {0, 1, 2, 3, 4}


def test_the_spec_defaults_fire_when_they_say() -> None:
    assert fire_times(parse("0 9 31 12 *"), START, 2) == [
        datetime(2024, 12, 31, 9, tzinfo=ZONE), datetime(2025, 12, 31, 9, tzinfo=ZONE)]
    assert fire_times(parse("0 9 28 * *"), START, 2) == [
        datetime(2024, 1, 28, 9, tzinfo=ZONE), datetime(2024, 2, 28, 9, tzinfo=ZONE)]
    assert fire_times(parse("0 17 * * *"), START, 1) == [datetime(2024, 1, 20, 17, tzinfo=ZONE)]


def test_both_day_fields_restricted_fire_on_either() -> None:
    """Cron's rule: "0 9 1 * 1" is the 1st of the month and every Monday, not only a
    Monday the 1st."""
    fired = fire_times(parse("0 9 1 * mon"), START, 4)
    assert [at.date().isoformat() for at in fired] == [
        "2024-01-22", "2024-01-29", "2024-02-01", "2024-02-05"]
    # a day field starting with * keeps both required (Vixie cron, cronie)
    fired = fire_times(parse("0 9 */2 * 1"), START, 3)
    assert all(at.weekday() == 0 and at.day % 2 == 1 for at in fired)


@pytest.mark.parametrize("text", [
    "0 9 * * 0", "0 17 * * 1-5", "30 8-18/3 * * *", "0 9 1,15 * *", "0 9 1 * 1",
    "*/20 0 29-31 * *", "0 0 * jan,feb fri", "45 23 * * 7", "0 12 */10 * fri-7/2",
])
def test_triggers_fire_exactly_when_the_parsed_fields_match(text: str) -> None:
    """Minute by minute over seven weeks (a month end, 29 February), APScheduler's fire
    times are exactly the minutes the parsed fields allow."""
    cron = parse(text)
    end = START + timedelta(days=49)
    expected = []
    moment = START
    while moment < end:
        if cron.matches(moment):
            expected.append(moment)
        moment += timedelta(minutes=1)
    fired = [at for at in fire_times(cron, START, len(expected) + 1) if at < end]
    assert expected and fired == expected
