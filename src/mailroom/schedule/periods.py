"""A scheduled job's period: the day, month or year a run stands for, on `timezone`'s wall
clock (SPEC: Schedule, "one mail per period"). Pure: values in, values out.

The period of a run is taken from its fire time in the zone: digest and request_reminder
by the day (`2019-05-09`), reminder and monthly_report by the month (`2019-05`),
annual_report by the year (`2019`). The ledger keeps one row per job and period.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Period(StrEnum):
    DAY = "day"
    MONTH = "month"
    YEAR = "year"


def period_key(period: Period, moment: datetime, zone: ZoneInfo) -> str:
    """The key of the period `moment` falls in, in `zone`: 2019-05-09 | 2019-05 | 2019."""
    local = moment.astimezone(zone)
    if period is Period.DAY:
        return local.strftime("%Y-%m-%d")
    if period is Period.MONTH:
        return local.strftime("%Y-%m")
    return f"{local.year:04d}"


def period_start(period: Period, moment: datetime, zone: ZoneInfo) -> datetime:
    """Local midnight that starts the period `moment` falls in (timezone-aware, in `zone`)."""
    local = moment.astimezone(zone)
    if period is Period.DAY:
        return datetime(local.year, local.month, local.day, tzinfo=zone)
    if period is Period.MONTH:
        return datetime(local.year, local.month, 1, tzinfo=zone)
    return datetime(local.year, 1, 1, tzinfo=zone)


def next_period_start(period: Period, moment: datetime, zone: ZoneInfo) -> datetime:
    """Local midnight that starts the period after the one `moment` falls in."""
    start = period_start(period, moment, zone)
    if period is Period.DAY:
        day = start.date() + timedelta(days=1)
        return datetime(day.year, day.month, day.day, tzinfo=zone)
    if period is Period.MONTH:
        year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
        return datetime(year, month, 1, tzinfo=zone)
    return datetime(start.year + 1, 1, 1, tzinfo=zone)


def previous_period_start(period: Period, moment: datetime, zone: ZoneInfo) -> datetime:
    """Local midnight that starts the period before the one `moment` falls in."""
    start = period_start(period, moment, zone)
    return period_start(period, start - timedelta(hours=1), zone)
