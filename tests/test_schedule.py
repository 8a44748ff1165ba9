"""The schedule's runner (schedule/runner.py) on a real database with an injected clock: a job
runs once per period at its time, across restarts and between two sessions racing for one
period; runs missed while stopped are made up within their period only; failures roll back
and are retried; month ends, 29 February, 31 December, DST and Sunday = 0 through the
whole path (cron → APScheduler trigger → period → ledger)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailroom.app import App
from mailroom.clock import Clock, FixedClock
from mailroom.config import Settings
from mailroom.schedule.jobs import JOBS, Job
from mailroom.schedule.periods import Period
from mailroom.schedule.runner import Schedule
from mailroom.store.models import JobRun, OutgoingMail

CST = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")

REPORTS = {name: JOBS[name] for name in ("monthly_report", "annual_report")}


class Recorder:
    """A job function that records its fire times; fails its first `fail` calls."""

    def __init__(self, fail: int = 0) -> None:
        self.fired: list[datetime] = []
        self.fail = fail

    def __call__(self, session: Session, settings: Settings, clock: Clock,
                 fire_time: datetime) -> str:
        self.fired.append(fire_time)
        if self.fail:
            self.fail -= 1
            raise RuntimeError("the template is missing")
        return f"ran for {fire_time.astimezone(settings.zone):%Y-%m-%d %H:%M}"


def schedule_of(app: App, clock: FixedClock, **jobs: tuple[Period, Recorder]) -> Schedule:
    """A schedule of recording jobs; each name must be a [schedule] key."""
    return Schedule(app.sessions, app.settings, clock,
                    {name: Job(period, job) for name, (period, job) in jobs.items()})


def ledger(app: App) -> list[tuple[str, str, datetime]]:
    with app.sessions() as session:
        return [(row.job, row.period, row.fire_time) for row in
                session.scalars(select(JobRun).order_by(JobRun.id))]


def outbox(app: App, purpose: str) -> int:
    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(OutgoingMail)
                              .where(OutgoingMail.purpose == purpose)) or 0


def test_a_job_runs_at_its_time_once_per_period_and_not_again_after_a_restart(
    make_app: Callable[..., App]
) -> None:
    clock = FixedClock(datetime(2019, 5, 28, 8, 59, tzinfo=CST))
    app = make_app(schedule={"monthly_report": "0 9 28 * *"})
    job = Recorder()
    schedule = schedule_of(app, clock, monthly_report=(Period.MONTH, job))
    assert schedule.run_due() == 0
    assert schedule.seconds_until_due() == pytest.approx(60.2)  # the loop wakes at 09:00
    clock.advance(timedelta(seconds=60.2))
    assert schedule.run_due() == 1
    assert job.fired == [datetime(2019, 5, 28, 9, tzinfo=CST)]
    assert schedule.run_due() == 0
    clock.advance(timedelta(days=2))
    assert schedule_of(app, clock, monthly_report=(Period.MONTH, job)).run_due() == 0  # restart
    assert ledger(app) == [("monthly_report", "2019-05", datetime(2019, 5, 28, 1, tzinfo=UTC))]
    clock.advance(timedelta(days=29))  # 2019-06-29 09:00:00.2
    assert schedule.run_due() == 1
    assert [row[1] for row in ledger(app)] == ["2019-05", "2019-06"]


def test_a_run_missed_while_stopped_is_made_up_once_on_start_in_its_period(
    make_app: Callable[..., App]
) -> None:
    clock = FixedClock(datetime(2019, 5, 28, 15, 30, tzinfo=CST))  # 09:00 passed while down
    app = make_app(schedule={"monthly_report": "0 9 28 * *"})
    job = Recorder()
    assert schedule_of(app, clock, monthly_report=(Period.MONTH, job)).run_due() == 1
    assert job.fired == [datetime(2019, 5, 28, 9, tzinfo=CST)]  # the time it stands for
    clock.advance(timedelta(minutes=5))
    assert schedule_of(app, clock, monthly_report=(Period.MONTH, job)).run_due() == 0
    assert len(job.fired) == 1


def test_of_two_missed_periods_only_the_current_one_is_made_up(
    make_app: Callable[..., App], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(schedule={"monthly_report": "0 9 28 * *"})
    job = Recorder()
    # stopped since April: the runs of 28 April and 28 May were missed
    clock = FixedClock(datetime(2019, 6, 29, 10, tzinfo=CST))
    with caplog.at_level(logging.INFO, "mailroom.schedule"):
        assert schedule_of(app, clock, monthly_report=(Period.MONTH, job)).run_due() == 1
    assert job.fired == [datetime(2019, 6, 28, 9, tzinfo=CST)]
    assert [row[1] for row in ledger(app)] == ["2019-06"]
    missed = [r.getMessage() for r in caplog.records if "not made up" in r.getMessage()]
    assert len(missed) == 1 and "2019-05-28 09:00 (period 2019-05)" in missed[0]
    # the year's run (31 December) is ahead: nothing is due; last year's is said once
    caplog.clear()
    yearly = schedule_of(app, clock, annual_report=(Period.YEAR, job))
    with caplog.at_level(logging.INFO, "mailroom.schedule"):
        assert yearly.run_due() == 0
        assert yearly.run_due() == 0
    [missed] = [r.getMessage() for r in caplog.records if "not made up" in r.getMessage()]
    assert "2018-12-31 09:00 (period 2018)" in missed


def test_a_failed_job_is_rolled_back_logged_in_one_line_and_retried_within_its_period(
    make_app: Callable[..., App], caplog: pytest.LogCaptureFixture
) -> None:
    clock = FixedClock(datetime(2019, 5, 28, 9, tzinfo=CST))
    app = make_app(schedule={"monthly_report": "0 9 28 * *"})
    monthly = JOBS["monthly_report"].function
    failing = Recorder(fail=2)

    def bulletin_then_fail(session: Session, settings: Settings, clock: Clock,
                           fire_time: datetime) -> str:
        outcome = monthly(session, settings, clock, fire_time)  # queues the bulletin …
        failing(session, settings, clock, fire_time)  # … and then fails: nothing of it stays
        return outcome

    schedule = Schedule(app.sessions, app.settings, clock,
                        {"monthly_report": Job(Period.MONTH, bulletin_then_fail)})
    with caplog.at_level(logging.INFO, "mailroom.schedule"):
        assert schedule.run_due() == 0
    assert (ledger(app), outbox(app, "bulletin")) == ([], 0)
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.getMessage().startswith("job monthly_report, period 2019-05 failed: the "
                                         "template is missing; rolled back, nothing sent; "
                                         "trying again in ")
    assert error.exc_info is None  # the traceback only at debug (--verbose)
    assert schedule.run_due() == 0 and len(failing.fired) == 1  # not before the backoff
    assert 30 <= schedule.seconds_until_due() <= 60.2
    clock.advance(timedelta(seconds=61))
    assert schedule.run_due() == 0 and len(failing.fired) == 2  # failed again: 2 min
    clock.advance(timedelta(seconds=121))
    assert schedule.run_due() == 1
    assert (len(ledger(app)), outbox(app, "bulletin")) == (1, 1)


def test_the_monthly_report_job_does_not_send_what_the_office_sent_by_hand(
    make_app: Callable[..., App]
) -> None:
    from mailroom.reports import sending, service
    from mailroom.reports.render import RENDERERS

    clock = FixedClock(datetime(2019, 5, 28, 9, 30, tzinfo=CST))
    app = make_app(schedule={"monthly_report": "0 9 28 * *"})
    with app.sessions.begin() as session:  # `report monthly --month 2019-05 --send` at 09:10
        report = service.monthly(session, app.settings, "2019-05", clock.now())
        sending.queue_report(session, app.settings, FixedClock(
            datetime(2019, 5, 28, 9, 10, tzinfo=CST)), report, RENDERERS)
    schedule = Schedule(app.sessions, app.settings, clock, jobs=REPORTS)
    assert schedule.run_due() == 1
    assert outbox(app, "bulletin") == 1
    with app.sessions() as session:
        row = session.scalars(select(JobRun)).one()
    assert (row.job, row.period) == ("monthly_report", "2019-05")
    assert row.outcome == ("the 2019-05 bulletin not sent again: the 2019-05 report was "
                           "already queued at 2019-05-28 09:10 (pending)")


def test_the_31_december_job_mails_that_years_summary_once(
    make_app: Callable[..., App]
) -> None:
    # 09:00 on 31 December in Shanghai is 01:00 UTC; after 16:00 UTC it is 2020 there
    clock = FixedClock(datetime(2019, 12, 31, 8, 59, 59, tzinfo=CST))
    app = make_app(units=[{"name": "办公室", "heads": ["head@example.cn"]}],
                   schedule={"monthly_report": "0 23 31 12 *"})
    schedule = Schedule(app.sessions, app.settings, clock, jobs=REPORTS)
    assert [entry.name for entry in schedule.entries] == ["monthly_report", "annual_report"]
    assert schedule.run_due() == 0
    assert schedule.seconds_until_due() == pytest.approx(1.2)
    clock.advance(timedelta(seconds=1))
    assert schedule.run_due() == 1
    with app.sessions() as session:
        mail = session.scalars(select(OutgoingMail)).one()
    assert (mail.purpose, mail.recipients) == ("annual", ["office@example.cn",
                                                          "head@example.cn"])
    assert "2019" in mail.subject
    clock.advance(timedelta(hours=15, minutes=30))  # 2020-01-01 00:30 in Shanghai
    assert Schedule(app.sessions, app.settings, clock, jobs=REPORTS).run_due() == 0
    assert ledger(app) == [("annual_report", "2019", datetime(2019, 12, 31, 1, tzinfo=UTC))]


def test_month_ends_and_29_february(make_app: Callable[..., App]) -> None:
    app = make_app(schedule={"monthly_report": "0 9 29 * *", "annual_report": "0 0 1 * *"})
    on_29th, first_of_month = Recorder(), Recorder()
    # 1 June 00:00 in Shanghai is still 31 May in UTC: the period is the local month
    clock = FixedClock(datetime(2019, 5, 31, 23, 59, 59, tzinfo=CST))
    schedule = schedule_of(app, clock, monthly_report=(Period.MONTH, on_29th),
                           annual_report=(Period.MONTH, first_of_month))
    schedule.run_due()
    first_of_month.fired.clear()  # 1 May, made up on start
    assert schedule.seconds_until_due() == pytest.approx(1.2)
    clock.advance(timedelta(seconds=1.2))
    assert schedule.run_due() == 1
    assert first_of_month.fired == [datetime(2019, 6, 1, tzinfo=CST)]
    assert ("annual_report", "2019-06", datetime(2019, 5, 31, 16, tzinfo=UTC)) in ledger(app)
    # February 2019 has no 29th: nothing is due all month; 2020 has one
    on_29th.fired.clear()
    clock = FixedClock(datetime(2019, 2, 28, 23, 59, tzinfo=CST))
    schedule = schedule_of(app, clock, monthly_report=(Period.MONTH, on_29th))
    assert schedule.run_due() == 0 and on_29th.fired == []
    clock = FixedClock(datetime(2020, 2, 29, 9, 0, tzinfo=CST))
    schedule = schedule_of(app, clock, monthly_report=(Period.MONTH, on_29th))
    assert schedule.run_due() == 1
    assert on_29th.fired == [datetime(2020, 2, 29, 9, tzinfo=CST)]


def test_a_daily_job_in_a_dst_zone(make_app: Callable[..., App]) -> None:
    """America/New_York, 10 March 2019: 02:00 EST jumps to 03:00 EDT, so 02:30 does not
    exist that day. APScheduler gives it as 02:30 standard time, which is 03:30 daylight
    time: the job runs then, once, for that day. On 3 November 01:30 happens twice: the
    job runs at the first; the second finds the day done."""
    app = make_app(timezone="America/New_York", schedule={"monthly_report": "30 2 * * *",
                                                          "annual_report": "30 1 * * *"})
    spring, autumn = Recorder(), Recorder()
    # a clock in UTC: arithmetic on a New York datetime would be wall-clock arithmetic
    clock = FixedClock(datetime(2019, 3, 10, 1, 59, tzinfo=NEW_YORK).astimezone(UTC))  # EST
    schedule = schedule_of(app, clock, monthly_report=(Period.DAY, spring))
    schedule.run_due()
    spring.fired.clear()  # 01:59 is before its time; nothing made up: today's is ahead
    assert schedule.seconds_until_due() == pytest.approx(31 * 60 + 0.2)
    clock.advance(timedelta(minutes=30))  # 03:29 EDT
    assert schedule.run_due() == 0
    clock.advance(timedelta(minutes=1, seconds=0.2))  # 03:30 EDT = 07:30 UTC
    assert schedule.run_due() == 1
    assert spring.fired == [datetime(2019, 3, 10, 7, 30, tzinfo=UTC)]
    assert ("monthly_report", "2019-03-10", datetime(2019, 3, 10, 7, 30, tzinfo=UTC)) \
        in ledger(app)
    clock.advance(timedelta(hours=23))  # 11 March 02:30 EDT: back on the wall clock
    assert schedule.run_due() == 1
    assert spring.fired[-1] == datetime(2019, 3, 11, 2, 30, tzinfo=NEW_YORK)

    clock = FixedClock(datetime(2019, 11, 3, 5, 30, tzinfo=UTC))  # 01:30 EDT, the first
    schedule = schedule_of(app, clock, annual_report=(Period.DAY, autumn))
    assert schedule.run_due() == 1
    assert schedule.seconds_until_due() == pytest.approx(3600.2)  # APScheduler's second 01:30
    clock.advance(timedelta(hours=1, seconds=0.2))  # 01:30 EST
    assert schedule.run_due() == 0
    assert autumn.fired == [datetime(2019, 11, 3, 5, 30, tzinfo=UTC)]


@pytest.mark.parametrize(("text", "runs_on"), [("0 9 * * 0", "Sun"), ("0 9 * * 7", "Sun"),
                                               ("0 9 * * 1", "Mon"), ("0 9 * * sat", "Sat")])
def test_weekdays_count_from_sunday_through_the_runner(
    make_app: Callable[..., App], text: str, runs_on: str
) -> None:
    app = make_app(schedule={"monthly_report": text})
    job = Recorder()
    clock = FixedClock(datetime(2019, 5, 12, 8, tzinfo=CST))  # a Sunday
    ran = []
    for _ in range(7):  # each day at 08:00, then 09:00 (after its time)
        schedule = schedule_of(app, clock, monthly_report=(Period.DAY, job))
        assert schedule.run_due() == 0
        clock.advance(timedelta(hours=1))
        ran.append(schedule.run_due())
        clock.advance(timedelta(hours=23))
    assert sum(ran) == 1
    assert [f"{fire.astimezone(CST):%a %Y-%m-%d %H:%M}" for fire in job.fired] == [
        f"{runs_on} {datetime(2019, 5, 12 + ran.index(1)):%Y-%m-%d} 09:00"]


def _race(app: App, clock: FixedClock) -> tuple[list[datetime], list[str]]:
    """Two schedules (two daemons) in two threads, each its own sessions, one period: the
    first holds its transaction open inside the job while the second tries to claim."""
    inside, go = threading.Event(), threading.Event()
    fired: list[datetime] = []
    errors: list[str] = []

    def job(session: Session, settings: Settings, clock: Clock, fire_time: datetime) -> str:
        fired.append(fire_time)
        inside.set()
        go.wait(10)
        return "first"

    def daemon() -> None:
        try:
            Schedule(app.sessions, app.settings, clock,
                     {"monthly_report": Job(Period.MONTH, job)}).run_due()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(repr(exc))

    first = threading.Thread(target=daemon)
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=daemon)
    second.start()
    second.join(0.5)  # the second is waiting on the first's claim of the period
    go.set()
    first.join(15)
    second.join(15)
    return fired, errors


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_daemons_on_one_database_run_a_period_once(
    make_app: Callable[..., App], request: pytest.FixtureRequest, backend: str,
    caplog: pytest.LogCaptureFixture
) -> None:
    database: dict[str, Any] = {}
    if backend == "postgresql":
        database = {"database": {"url": request.getfixturevalue("postgres_url")}}
    app = make_app(schedule={"monthly_report": "0 9 28 * *"}, **database)
    clock = FixedClock(datetime(2019, 5, 28, 9, tzinfo=CST))
    with caplog.at_level(logging.INFO, "mailroom.schedule"):
        fired, errors = _race(app, clock)
    assert errors == []
    assert fired == [datetime(2019, 5, 28, 9, tzinfo=CST)]
    assert [(row[0], row[1]) for row in ledger(app)] == [("monthly_report", "2019-05")]
    assert any("was run by another mailroom process" in r.getMessage()
               for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
