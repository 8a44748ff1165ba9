"""A report from the database: load the period's records (records.py), build (build.py).
What the CLI and the schedule call."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from mailroom.config import Settings
from mailroom.reports import records
from mailroom.reports.build import build_annual, build_monthly, year_months
from mailroom.reports.values import AnnualReport, MonthlyReport


def monthly(session: Session, settings: Settings, period: str, now: datetime) -> MonthlyReport:
    """The bulletin of `period` ("YYYY-MM") as of `now`."""
    loaded = records.load(session, int(period[:4]), period, period)
    return build_monthly(loaded, period, settings, now)


def annual(session: Session, settings: Settings, year: int, now: datetime) -> AnnualReport:
    """The summary of `year` as of `now`: its months up to now's (in `timezone`)."""
    months = year_months(year, now.astimezone(settings.zone))
    loaded = records.load(session, year, months[0], months[-1], titles=False)
    return build_annual(loaded, year, settings, now)
