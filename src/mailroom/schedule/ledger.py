"""The ledger (table `job_runs`): which period of which scheduled job was sent, for which
fire time, when, and the job's outcome line. One row per job and period (unique key).

`claim` writes the row first in the job's transaction, before the job queues its mail: a
second daemon on the same database blocks on the unique key until the first commits, then
fails it (`Taken`) and rolls back without having built anything. The row and the job's mail
are committed together, or neither is.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailroom.store.models import JobRun

OUTCOME_LENGTH = 2000  # an outcome is one line; a runaway one is cut


class Taken(Exception):
    """Another process recorded this job's period first (the unique key decided)."""


def is_done(session: Session, job: str, period: str) -> bool:
    return session.scalar(select(JobRun.id).where(JobRun.job == job,
                                                  JobRun.period == period)) is not None


def claim(session: Session, job: str, period: str, fire_time: datetime,
          now: datetime) -> JobRun:
    """Write the period's row (not committed); raises Taken when it is there already."""
    row = JobRun(job=job, period=period, fire_time=fire_time, ran_at=now, outcome="")
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise Taken(f"{job} {period}") from None
    return row


def record_outcome(row: JobRun, outcome: str) -> None:
    line = " ".join(outcome.split())
    row.outcome = line[:OUTCOME_LENGTH]


def last_runs(session: Session) -> dict[str, JobRun]:
    """Each job's latest recorded run (by period), keyed by job."""
    latest = (select(JobRun.job, func.max(JobRun.period).label("period"))
              .group_by(JobRun.job).subquery())
    rows = session.scalars(select(JobRun).join(
        latest, (JobRun.job == latest.c.job) & (JobRun.period == latest.c.period)))
    return {row.job: row for row in rows}
