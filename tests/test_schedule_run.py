"""The schedule inside `mailroom run`: the loop wakes for a job due two seconds away (in-process,
on a clock that runs at real speed from a chosen moment), sends it once, not again after a
restart, and makes up a run missed while stopped; the same as a real process on the real
clock; `poll --once` runs no job; `jobs list`."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from mailroom.app import App
from mailroom.clock import FixedClock
from mailroom.daemon import run_forever
from mailroom.schedule.jobs import JOBS, Job
from mailroom.schedule.periods import Period
from mailroom.schedule.runner import Schedule
from mailroom.store.models import JobRun, Message, OutgoingMail
from support.cli import restore_logging, run  # noqa: F401  (restore_logging: autouse)
from support.mail import deliver, make_mail
from support.process import Mailroom, filed_count, fill_inbox, wait_until, write_config
from test_schedule import REPORTS, Recorder

CST = ZoneInfo("Asia/Shanghai")


class RunningClock:
    """The time from `start` on, running at real speed."""

    def __init__(self, start: datetime) -> None:
        self.start, self.began = start.astimezone(UTC), time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.began)


class Counting(Schedule):
    """The schedule, counting the loop's calls (a test waits for a pass to have happened)."""

    calls = 0

    def run_due(self, stop: Callable[[], bool] = lambda: False) -> int:
        ran = super().run_due(stop)
        self.calls += 1
        return ran


def bulletins(app: App) -> list[tuple[str, str]]:
    with app.sessions() as session:
        return [(row.status, row.subject) for row in session.scalars(
            select(OutgoingMail).where(OutgoingMail.purpose == "bulletin"))]


MONTHLY = {"monthly_report": JOBS["monthly_report"]}


def run_until(app: App, done: Callable[[Counting], bool],
              jobs: dict[str, Job] = MONTHLY) -> tuple[Counting, float]:
    """run_forever in this (the main) thread until `done` holds; then SIGTERM to ourselves,
    as systemd would. Returns the schedule and how long it ran."""
    schedule = Counting(app.sessions, app.settings, app.clock, jobs)

    def stop_when_done() -> None:
        wait_until(lambda: done(schedule), timeout=20)
        os.kill(os.getpid(), signal.SIGTERM)

    watcher = threading.Thread(target=stop_when_done)
    began = time.monotonic()
    watcher.start()
    try:
        run_forever(app, schedule=schedule)
    finally:
        watcher.join(25)
    return schedule, time.monotonic() - began


def test_run_wakes_for_a_job_sends_it_once_and_makes_up_one_missed_while_stopped(
    make_app: Callable[..., App], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings: dict[str, Any] = {"schedule": {"monthly_report": "0 9 28 * *",
                                             "annual_report": "0 0 1 1 *"}}
    for sub in ("cur", "new", "tmp"):
        (tmp_path / "inbox" / sub).mkdir(parents=True)
    app = make_app(**settings)
    # two seconds before 09:00 on 28 May: the Maildir loop would wait 5 s, the job cuts it
    app.clock = RunningClock(datetime(2019, 5, 28, 8, 59, 58, tzinfo=CST))
    _, took = run_until(app, lambda _: bulletins(app) == [("sent", _subject("2019年5月"))])
    assert took < 10
    assert len(list((tmp_path / "sent").glob("mailroom.bulletin.*.eml"))) == 1
    # a restart later that day: the period is in the ledger, nothing is sent; another job
    # fails, and the mail waiting in the inbox is recorded all the same
    deliver(tmp_path / "inbox", make_mail("执法大队+任务失败时到的信息"),
            datetime(2019, 5, 28, 16, tzinfo=CST))
    app.clock = RunningClock(datetime(2019, 5, 28, 17, 0, tzinfo=CST))
    failing = Recorder(fail=1)
    with caplog.at_level(logging.INFO, "mailroom"):
        run_until(app, lambda _: recorded(app) == 1,
                  {**MONTHLY, "annual_report": Job(Period.YEAR, failing)})
    assert len(bulletins(app)) == 1 and len(failing.fired) == 1
    assert any(r.getMessage().startswith("job annual_report, period 2019 failed: the template "
                                         "is missing;") for r in caplog.records)
    # stopped over June's 09:00 on the 28th: sent once, on start
    app.clock = RunningClock(datetime(2019, 6, 28, 11, 0, tzinfo=CST))
    run_until(app, lambda _: len(bulletins(app)) == 2 and bulletins(app)[1][0] == "sent")
    with app.sessions() as session:
        assert [(row.period, row.fire_time) for row in session.scalars(select(JobRun))] == [
            ("2019-05", datetime(2019, 5, 28, 1, tzinfo=UTC)),
            ("2019-06", datetime(2019, 6, 28, 1, tzinfo=UTC))]
    assert len(list((tmp_path / "sent").glob("mailroom.bulletin.*.eml"))) == 2
    # the mailbox is down (no Maildir there): the jobs run and their mail goes out anyway
    (tmp_path / "inbox").rename(tmp_path / "inbox-away")
    app.clock = RunningClock(datetime(2019, 7, 28, 9, 30, tzinfo=CST))
    with caplog.at_level(logging.INFO, "mailroom"):
        run_until(app, lambda _: [status for status, _ in bulletins(app)].count("sent") == 3)
    assert "mailbox unavailable" in caplog.text


def recorded(app: App) -> int:
    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(Message)) or 0


def _subject(month: str) -> str:
    return f"{month}信息报送情况通报"


def test_mailroom_run_sends_a_due_job_once_across_a_restart_and_poll_never_runs_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real process on the real clock: monthly_report and the digest every minute are due
    since the 1st of this month and since midnight (their first fire times in their
    periods), so each is a run missed while stopped: sent once, not again after a restart,
    even with something new for the digest then."""
    config = write_config(tmp_path)
    with config.open("a", encoding="utf-8") as text:
        text.write('[schedule]\nmonthly_report = "* * * * *"\ndigest = "* * * * *"\n')
    fill_inbox(tmp_path, 1)
    assert run(capsys, "--config", str(config), "poll", "--once")[0] == 0
    code, out, _ = run(capsys, "--config", str(config), "jobs", "list", "--format", "json")
    rows = {row["job"]: row for row in json.loads(out)}
    assert (code, rows["monthly_report"]["due_now"], rows["monthly_report"]["last_period"]) \
        == (0, True, None)  # poll --once ran no job
    sent = tmp_path / "var" / "sent"
    assert [path.name.split(".")[1] for path in sent.glob("*.eml")] == ["receipt"]

    daemon = Mailroom(config, "run")
    try:
        assert daemon.wait_for_log("job monthly_report, period "), daemon.err
        assert wait_until(lambda: len(list(sent.glob("mailroom.bulletin.*.eml"))) == 1)
        assert wait_until(lambda: len(list(sent.glob("mailroom.digest.*.eml"))) == 1)
        daemon.signal()
        assert daemon.wait() == 0, daemon.err
        daemon = Mailroom(config, "run")  # a restart: not again
        assert daemon.wait_for_log("mailroom run: started"), daemon.err
        deliver(tmp_path / "inbox", make_mail("执法大队+重启后的信息", sender="r9@example.cn"),
                datetime.now(UTC))
        assert wait_until(lambda: filed_count(tmp_path) == 2)  # a pass after the jobs' turn
        daemon.signal()
        assert daemon.wait() == 0, daemon.err
    finally:
        daemon.kill()
    assert "job monthly_report, period" not in daemon.err and "Traceback" not in daemon.err
    assert len(list(sent.glob("mailroom.bulletin.*.eml"))) == 1
    assert len(list(sent.glob("mailroom.digest.*.eml"))) == 1
    code, out, _ = run(capsys, "--config", str(config), "jobs", "list")
    this_month = datetime.now(CST).strftime("%Y-%m")
    assert code == 0
    assert f"last: period {this_month} (due {this_month}-01 00:00)" in out
    assert "bulletin queued for 1 recipient (outbox #" in out


def test_jobs_list_shows_cron_next_run_and_the_last_period(
    make_app: Callable[..., App], capsys: pytest.CaptureFixture[str]
) -> None:
    from mailroom.schedule.commands import job_rows, jobs_table

    clock = FixedClock(datetime(2019, 5, 28, 9, 5, tzinfo=CST))
    app = make_app(schedule={"monthly_report": "0 9 28 * *", "annual_report": "0 9 31 12 *"})
    assert Schedule(app.sessions, app.settings, clock, jobs=REPORTS).run_due() == 1
    clock.advance(timedelta(hours=1))
    rows = job_rows(app, clock.now())
    assert rows == [
        {"job": "digest", "cron": "0 17 * * *", "period": "day",
         "next_run": "2019-05-28 17:00", "due_now": False, "last_period": None,
         "last_fire_time": None, "last_run": None, "outcome": None},
        # 20 May's and today's 09:00 passed in their period, not run: the next pass runs them
        {"job": "reminder", "cron": "0 9 20 * *", "period": "month",
         "next_run": "2019-06-20 09:00", "due_now": True, "last_period": None,
         "last_fire_time": None, "last_run": None, "outcome": None},
        {"job": "request_reminder", "cron": "0 9 * * *", "period": "day",
         "next_run": "2019-05-29 09:00", "due_now": True, "last_period": None,
         "last_fire_time": None, "last_run": None, "outcome": None},
        {"job": "monthly_report", "cron": "0 9 28 * *", "period": "month",
         "next_run": "2019-06-28 09:00", "due_now": False, "last_period": "2019-05",
         "last_fire_time": "2019-05-28 09:00", "last_run": "2019-05-28 09:05",
         "outcome": "the 2019-05 bulletin queued for 1 recipient (outbox #1)"},
        {"job": "annual_report", "cron": "0 9 31 12 *", "period": "year",
         "next_run": "2019-12-31 09:00", "due_now": False, "last_period": None,
         "last_fire_time": None, "last_run": None, "outcome": None}]
    assert jobs_table(rows).splitlines() == [
        'digest  cron "0 17 * * *" (once a day)  next run 2019-05-28 17:00',
        "  never run",
        'reminder  cron "0 9 20 * *" (once a month)  next run 2019-06-20 09:00 (due now: runs '
        "on the daemon's next pass)",
        "  never run",
        'request_reminder  cron "0 9 * * *" (once a day)  next run 2019-05-29 09:00 (due now: '
        "runs on the daemon's next pass)",
        "  never run",
        'monthly_report  cron "0 9 28 * *" (once a month)  next run 2019-06-28 09:00',
        "  last: period 2019-05 (due 2019-05-28 09:00), run 2019-05-28 09:05: the 2019-05 "
        "bulletin queued for 1 recipient (outbox #1)",
        'annual_report  cron "0 9 31 12 *" (once a year)  next run 2019-12-31 09:00',
        "  never run"]
