"""The schedule in `mailroom run`: which job is due, running it once per period, and how long
the daemon may wait before the next one is due.

Design. The run loop drives the schedule; there is no scheduler thread. The daemon is one
thread whose waits (IDLE, the poll interval, the SMTP throttle) a signal cuts short, and
which holds the instance lock: an APScheduler BackgroundScheduler would add a thread that
races the loop for the database and the outbox, outlives a stop request, and knows nothing
of the ledger or of runs missed while the process was down (its misfire handling is in
memory). So APScheduler 3 is used for what it does well, computing fire times:
schedule/cron.py turns each standard cron string into a CronTrigger (Sunday = 0, the
day-of-month / day-of-week OR) on `timezone`'s wall clock, and this module asks it

* for each job, the first fire time of the job's *current period* (the day, month or year
  `now` falls in): when it is at or before now and the ledger has no row for that period,
  the job is due and runs now, with that fire time. So a run whose time passed while the
  daemon was stopped, suspended or cut off by an outage is made up once when it runs
  again within the same period; an older period is not made up (logged once, at info);
* for the next fire time after now, to which the daemon cuts its waits (`seconds_until_due`),
  so a job runs within a second or so of its time even while IDLE waits for mail.

`run_due` is called before each pass (and during mailbox outages), so a job's mail goes out
on the drain that follows, with the receipts. `poll --once` never calls it.

Once per period: a run writes its ledger row (ledger.py) first and then lets the job queue
its mail in the same transaction; both commit together or neither does. The unique key
(job, period) decides between two daemons on one database: the loser rolls back quietly.

A failed job: rolled back (no mail, no ledger row), one ERROR line with the reason (the
traceback at debug, i.e. with --verbose), and the daemon goes on fetching. Because nobody
watches the daemon, a failed period is not left to the next fire time (tomorrow's digest,
next month's bulletin): it is tried again within the same period with backoff (1 min,
doubling, at most an hour apart) until it works or the period ends; a database failure is
left to the daemon's own database backoff.

DST. Fire times are the wall clock of `timezone`. A time the spring-forward gap skips
(02:30 in America/New_York on 10 March 2019) fires at the instant APScheduler gives it,
02:30 standard time = 03:30 daylight time, once; a time the fall-back hour repeats fires at
the first of the two, and the second finds the day's period done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from mailroom.backoff import Backoff, describe_length
from mailroom.clock import Clock
from mailroom.config import Settings
from mailroom.schedule import cron, ledger
from mailroom.schedule.jobs import JOBS, Job
from mailroom.schedule.periods import period_key, period_start, previous_period_start
from mailroom.vocabulary import local_minute

log = logging.getLogger(__name__)

RETRY_FIRST = 60.0  # seconds after a failure, doubling
RETRY_CAP = 3600.0
WAKE_MARGIN = 0.2  # seconds past a fire time, so the wake-up finds it due
LONGEST_WAIT = 24 * 3600.0
LATE = timedelta(minutes=2)  # a run later than this after its fire time says how late


@dataclass
class _Retry:
    period: str
    backoff: Backoff
    not_before: datetime


@dataclass
class Scheduled:
    """One configured job: its `[schedule]` cron and its trigger."""

    name: str
    cron: cron.Cron
    trigger: Any  # an APScheduler 3 trigger
    job: Job

    def next_fire(self, after: datetime) -> datetime | None:
        """The first fire time strictly after `after` (in UTC)."""
        return _instant(self.trigger.get_next_fire_time(None, after + timedelta(microseconds=1)))

    def first_fire(self, start: datetime) -> datetime | None:
        """The first fire time at or after `start` (in UTC)."""
        return _instant(self.trigger.get_next_fire_time(None, start))


def _instant(fire: datetime | None) -> datetime | None:
    """A fire time as a UTC instant: APScheduler gives the zone's wall clock, which in a
    spring-forward gap names a time that does not exist (and compares unequal to all)."""
    return None if fire is None else fire.astimezone(UTC)


def scheduled_jobs(settings: Settings, jobs: Mapping[str, Job] | None = None) -> list[Scheduled]:
    """The jobs of the table (JOBS by default) with their `[schedule]` cron, in that order."""
    table = JOBS if jobs is None else jobs
    found = []
    for name, job in table.items():
        parsed = cron.parse(getattr(settings.schedule, name))
        found.append(Scheduled(name, parsed, cron.trigger(parsed, settings.zone), job))
    return found


@dataclass
class Schedule:
    """The jobs of `run`: `run_due` runs what is due, `seconds_until_due` says how long the
    loop may wait. `jobs`: the job table (JOBS unless a test gives its own)."""

    sessions: sessionmaker[Session]
    settings: Settings
    clock: Clock
    jobs: Mapping[str, Job] | None = None
    retry_first: float = RETRY_FIRST
    entries: list[Scheduled] = field(init=False)
    _done: set[tuple[str, str]] = field(init=False, default_factory=set)
    _looked_back: set[tuple[str, str]] = field(init=False, default_factory=set)
    _retries: dict[str, _Retry] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.entries = scheduled_jobs(self.settings, self.jobs)

    def run_due(self, stop: Callable[[], bool] = lambda: False) -> int:
        """Run every job that is due now, each in its own transaction; the number that
        committed a run. A job's failure is logged and retried later; a database failure
        (OperationalError) is raised for the daemon's backoff."""
        ran = 0
        for entry in self.entries:
            if stop():
                break
            fire = self.due(entry)
            if fire is not None and self._run(entry, fire):
                ran += 1
        return ran

    def due(self, entry: Scheduled) -> datetime | None:
        """The fire time `entry` should run for now: the first of its current period, when
        that is at or before now, the period is not in the ledger and no retry waits."""
        now, zone = self.clock.now(), self.settings.zone
        start = period_start(entry.job.period, now, zone)
        key = period_key(entry.job.period, now, zone)
        if (entry.name, key) not in self._looked_back:
            self._looked_back.add((entry.name, key))
            self._note_missed(entry, start)
        fire = entry.first_fire(start)
        if fire is None or fire > now or (entry.name, key) in self._done:
            return None
        retry = self._retries.get(entry.name)
        if retry is not None and retry.period == key and now < retry.not_before:
            return None
        with self.sessions() as session:
            if ledger.is_done(session, entry.name, key):
                self._done.add((entry.name, key))
                return None
        return fire

    def _note_missed(self, entry: Scheduled, start: datetime) -> None:
        """Log once a previous period whose run never happened: it is not made up."""
        zone = self.settings.zone
        previous = previous_period_start(entry.job.period, start, zone)
        fire = entry.first_fire(previous)
        if fire is None or fire >= start:
            return
        key = period_key(entry.job.period, fire, zone)
        with self.sessions() as session:
            if ledger.is_done(session, entry.name, key):
                return
        log.info("job %s: the run of %s (period %s) did not happen (the daemon was not "
                 "running, or it failed); a past period is not made up", entry.name,
                 local_minute(fire, zone), key)

    def _run(self, entry: Scheduled, fire: datetime) -> bool:
        now, zone = self.clock.now(), self.settings.zone
        key = period_key(entry.job.period, fire, zone)
        try:
            with self.sessions.begin() as session:
                row = ledger.claim(session, entry.name, key, fire, now)
                ledger.record_outcome(row, entry.job.function(session, self.settings,
                                                              self.clock, fire))
                outcome = row.outcome
        except ledger.Taken:
            log.info("job %s: period %s was run by another mailroom process; not again",
                     entry.name, key)
            self._done.add((entry.name, key))
            return False
        except OperationalError:
            raise  # the database is gone: the daemon's database backoff
        except Exception as exc:  # a job's failure never stops the fetch loop
            self._failed(entry, key, exc)
            return False
        late = f", {describe_length((now - fire).total_seconds())} late" \
            if now - fire > LATE else ""
        log.info("job %s, period %s (due %s%s): %s", entry.name, key,
                 local_minute(fire, zone), late, outcome)
        self._done.add((entry.name, key))
        self._retries.pop(entry.name, None)
        return True

    def _failed(self, entry: Scheduled, key: str, exc: Exception) -> None:
        now = self.clock.now()
        retry = self._retries.get(entry.name)
        if retry is None or retry.period != key:
            retry = _Retry(key, Backoff(self.retry_first, RETRY_CAP), now)
            self._retries[entry.name] = retry
        delay = retry.backoff.next_delay()
        retry.not_before = now + timedelta(seconds=delay)
        reason = " ".join(str(exc).split()) or type(exc).__name__
        log.error("job %s, period %s failed: %s; rolled back, nothing sent; trying again in "
                  "%s (within the period)", entry.name, key, reason, describe_length(delay))
        log.debug("job %s failed", entry.name, exc_info=exc)

    def seconds_until_due(self) -> float:
        """How long the loop may wait before a job is due (a next fire time or a retry)."""
        now = self.clock.now()
        times = [fire for entry in self.entries if (fire := entry.next_fire(now)) is not None]
        times += [retry.not_before for retry in self._retries.values()
                  if retry.not_before > now]
        if not times:
            return LONGEST_WAIT
        return min(LONGEST_WAIT, (min(times) - now).total_seconds() + WAKE_MARGIN)
