"""A report from the database: load the period's records (records.py), build (build.py).
What the CLI and the schedule call.

The cyclic garbage collector is paused while a report is loaded and built: tens of
thousands of small tuples are made and none of them form cycles, and the collector's passes
over them cost a quarter of the time (benchmarks/reports.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy.orm import Session

from mailroom.config import Settings
from mailroom.reports import records
from mailroom.reports.build import build_annual, build_monthly, year_months
from mailroom.reports.values import AnnualReport, MonthlyReport


@contextmanager
def _collector_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def monthly(session: Session, settings: Settings, period: str, now: datetime) -> MonthlyReport:
    """The bulletin of `period` ("YYYY-MM") as of `now`."""
    with _collector_paused():
        loaded = records.load(session, int(period[:4]), period, period)
        return build_monthly(loaded, period, settings, now)


def annual(session: Session, settings: Settings, year: int, now: datetime) -> AnnualReport:
    """The summary of `year` as of `now`: its months up to now's (in `timezone`)."""
    with _collector_paused():
        months = year_months(year, now.astimezone(settings.zone))
        loaded = records.load(session, year, months[0], months[-1], titles=False)
        return build_annual(loaded, year, settings, now)
