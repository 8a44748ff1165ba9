"""What the month page and the reports page show, read from the database into plain values
(no ORM object leaves this module): the bulletin itself comes from reports.service, so the
page's numbers are the 通报's; this module adds the few figures a bulletin does not hold.

- `trend`: counted items per month over 12 months, in one grouped query (a report build
  per month would cost 12 loads);
- `pending`: suspected pairs and unassigned items still waiting for the office, all months;
- `sends`: when a period's report was queued for mailing, and what became of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailroom.config import Settings
from mailroom.outbox import compose
from mailroom.outbox.outgoing import sender_address
from mailroom.reports.table import Value, monthly_table, text
from mailroom.reports.values import MonthlyReport, UnitLine
from mailroom.store.models import OutgoingMail, Submission
from mailroom.vocabulary import COUNTING, Status
from mailroom.web.charts import months_ending, progress

_COUNTING = sorted(str(status) for status in COUNTING)


def trend(session: Session, period: str, count: int = 12) -> list[tuple[str, int]]:
    """(month, counted items) for the `count` months ending with `period`, oldest first:
    the bulletins' 合计 计数 of those months (counted + suspected, R3)."""
    months = months_ending(period, count)
    rows = session.execute(
        select(Submission.month, func.count())
        .where(Submission.month.in_(months), Submission.status.in_(_COUNTING))
        .group_by(Submission.month)).all()
    found = {month: int(n) for month, n in rows}
    return [(month, found.get(month, 0)) for month in months]


def pending(session: Session) -> dict[str, int]:
    """Items waiting for the office in every month: {"suspected": n, "unassigned": n}."""
    waiting = (str(Status.SUSPECTED), str(Status.UNASSIGNED))
    rows = session.execute(
        select(Submission.status, func.count())
        .where(Submission.status.in_(waiting)).group_by(Submission.status)).all()
    found = {status: int(n) for status, n in rows}
    return {status: found.get(status, 0) for status in waiting}


@dataclass(frozen=True)
class Cell:
    key: str
    heading: str
    text: str


@dataclass(frozen=True)
class UnitRow:
    """A unit's line of the month page's table: the bulletin's cells, its quota progress."""

    line: UnitLine
    cells: dict[str, Cell]  # by the bulletin table's column key
    progress: int  # percent of the quota, 0..100

    @property
    def zero(self) -> bool:
        return self.line.tally.submitted == 0


SHOWN = ("rank", "unit", "submitted", "counted", "suspected", "quota", "adopted",
         "instructions", "score", "cumulative_score", "meets_quota")


def unit_rows(report: MonthlyReport) -> tuple[list[Cell], list[UnitRow], dict[str, Cell]]:
    """The month page's table from the bulletin's own table (reports/table.py): the same
    headings and cell texts for the columns of SHOWN; the headings, the rows, the 合计."""
    table = monthly_table(report)
    index = {column.key: i for i, column in enumerate(table.columns)}
    columns = [table.columns[index[key]] for key in SHOWN]
    headings = [Cell(c.key, c.heading, "") for c in columns]

    def cells(values: Sequence[Value]) -> dict[str, Cell]:
        return {c.key: Cell(c.key, c.heading, text(c, values[index[c.key]]))
                for c in columns}

    rows = [UnitRow(line, cells(values), progress(line.tally.counted, line.quota))
            for line, values in zip(report.units, table.rows, strict=True)]
    total = cells(table.total) if table.total is not None else {}
    return headings, rows, total


@dataclass(frozen=True)
class Send:
    """One queueing of a period's report for mailing (the first, or a forced resend)."""

    queued_at: datetime
    status: str  # the outbox row's: pending | sent | failed …
    sent_at: datetime | None
    recipients: int


def sends(session: Session, settings: Settings, purpose: str, key: str) -> list[Send]:
    """Every time the report of `purpose`, `key` (reports.sending.purpose_and_key: "bulletin",
    "monthly:2019-05") was queued: its Message-IDs are the period's, then `#2`, `#3` … for
    each forced resend (reports/sending.py). Oldest first."""
    sender = sender_address(settings)
    rows = {row.message_id: row for row in session.execute(
        select(OutgoingMail.message_id, OutgoingMail.created_at, OutgoingMail.status,
               OutgoingMail.sent_at, OutgoingMail.recipients)
        .where(OutgoingMail.purpose == purpose,
               OutgoingMail.message_id.like(f"mailroom.{purpose}.%"))).all()}
    found: list[Send] = []
    candidate = compose.message_id(purpose, key, sender)
    while (row := rows.get(candidate)) is not None:
        found.append(Send(row.created_at, row.status, row.sent_at, len(row.recipients)))
        candidate = compose.message_id(purpose, f"{key}#{len(found) + 1}", sender)
    return found
