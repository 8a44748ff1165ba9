"""The scheduled jobs: the job table (each `[schedule]` key's function and period) and the
two report jobs this package owns.

A job function (the interface the issue's four parts share):

    def scheduled_<name>(session: Session, settings: Settings, clock: Clock,
                         fire_time: datetime) -> str

`fire_time` is the scheduled time the run stands for (timezone-aware; it may lie in the
past: a run made up on start); the job's period is taken from it in `settings.zone`;
`clock.now()` is "as of". The job QUEUES its mail in the outbox through `session` and does
not commit: the runner (runner.py) commits it together with the ledger row. It returns one
short English line for the log and the ledger ("nothing new: no digest" is a normal
outcome: nothing queued, the period still counts as done), and raises on failure.

JOBS has one line per `[schedule]` key: its period and its function (the digest, reminder
and request-reminder functions live with what they send: digest/, reminders/, requests/).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from mailroom.clock import Clock
from mailroom.config import Settings
from mailroom.digest.sending import scheduled_digest
from mailroom.reminders.sending import scheduled_reminders
from mailroom.reports import sending, service
from mailroom.reports.render import RENDERERS
from mailroom.reports.values import AnnualReport, MonthlyReport
from mailroom.requests.reminding import scheduled_due_reminders
from mailroom.schedule.periods import Period, period_key

JobFunction = Callable[[Session, Settings, Clock, datetime], str]


@dataclass(frozen=True)
class Job:
    """What a `[schedule]` key runs: once per `period`, `function`."""

    period: Period
    function: JobFunction


def scheduled_monthly_report(session: Session, settings: Settings, clock: Clock,
                             fire_time: datetime) -> str:
    """The bulletin (R9) of the month `fire_time` falls in, as of now, to the office and
    the units' heads. A bulletin the office already sent by hand (`report monthly --send`)
    is not sent again: the period counts as done, and the outcome says so."""
    month = period_key(Period.MONTH, fire_time, settings.zone)
    report = service.monthly(session, settings, month, clock.now())
    return _queue(session, settings, clock, report, f"the {month} bulletin")


def scheduled_annual_report(session: Session, settings: Settings, clock: Clock,
                            fire_time: datetime) -> str:
    """The annual summary (R10) of the year `fire_time` falls in (its months up to now)."""
    year = int(period_key(Period.YEAR, fire_time, settings.zone))
    report = service.annual(session, settings, year, clock.now())
    return _queue(session, settings, clock, report, f"the {year} annual summary")


def _queue(session: Session, settings: Settings, clock: Clock,
           report: MonthlyReport | AnnualReport, what: str) -> str:
    try:
        queued = sending.queue_report(session, settings, clock, report, RENDERERS)
    except sending.AlreadyQueued as exc:
        return f"{what} not sent again: {exc}".removesuffix("; --force sends it again")
    count = len(queued.recipients)
    return (f"{what} queued for {count} recipient{'s' if count != 1 else ''} "
            f"(outbox #{queued.outbox_id})")


JOBS: dict[str, Job] = {
    "digest": Job(Period.DAY, scheduled_digest),
    "reminder": Job(Period.MONTH, scheduled_reminders),
    "request_reminder": Job(Period.DAY, scheduled_due_reminders),
    "monthly_report": Job(Period.MONTH, scheduled_monthly_report),
    "annual_report": Job(Period.YEAR, scheduled_annual_report),
}
