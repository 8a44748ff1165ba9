"""Drain the outbox: send each due row, mark it sent only once the other side took it.

4xx answers and network errors: the row waits (exponential backoff, `next_attempt_at`) and
is given up after GIVE_UP; 5xx: failed at once, the answer recorded. A failed connection
defers every due row of that channel, so a dead server costs one attempt per drain, not
one per row. SMTP sends are throttled to `[smtp] max_per_minute`. No database transaction
is held open while talking to a server; each row's outcome is its own commit.

One drain at a time: a drain holds an exclusive lock on `.outbox.lock` in the file store
(which every process working on one database shares), so `poll --once` run beside the
daemon cannot send a row the daemon is sending; it leaves the outbox to the daemon.
"""

from __future__ import annotations

import fcntl
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from mailroom.clock import Clock
from mailroom.config import Settings
from mailroom.outbox.transports import (
    EmlTransport,
    SendError,
    SmtpTransport,
    Transport,
    WebhookTransport,
)
from mailroom.store.models import OutgoingMail

log = logging.getLogger(__name__)

FIRST_RETRY = 60.0  # seconds; doubles per attempt
MAX_RETRY = 3600.0
GIVE_UP = timedelta(hours=48)  # temporary failures for this long: failed for good


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_RETRY))


@dataclass
class DrainReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    busy: bool = False  # another process was draining: nothing was tried

    def summary(self) -> str:
        if self.busy:
            return "outbox: another mailroom process is sending; left to it"
        return f"outbox: {self.sent} sent, {self.deferred} to retry, {self.failed} failed"


@contextmanager
def drain_lock(path: Path) -> Iterator[bool]:
    """Hold an exclusive, non-blocking lock on `path`; yields False when another holds it.
    The kernel drops the lock when its holder dies, so a killed process never blocks one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Throttle:
    """At most `per_minute` sends in any 60 seconds (NetEase throttles bursts)."""

    def __init__(self, per_minute: int, sleep: Callable[[float], None],
                 monotonic: Callable[[], float]) -> None:
        self.per_minute = per_minute
        self.sleep = sleep
        self.monotonic = monotonic
        self.sent: deque[float] = deque()

    def wait(self) -> None:
        now = self.monotonic()
        while self.sent and now - self.sent[0] >= 60:
            self.sent.popleft()
        if len(self.sent) >= self.per_minute:
            pause = 60 - (now - self.sent[0])
            log.info("outbox: %d sent within a minute ([smtp] max_per_minute); waiting %.0f s",
                     self.per_minute, pause)
            self.sleep(pause)
            self.sent.popleft()
        self.sent.append(self.monotonic())


class OutboxSender:
    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        clock: Clock,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.clock = clock
        per_minute = settings.smtp.max_per_minute if settings.smtp else 1_000_000
        self.throttle = Throttle(per_minute, sleep, monotonic)

    def _transports(self) -> dict[str, Transport]:
        mail: Transport = (SmtpTransport(self.settings.smtp) if self.settings.smtp
                           else EmlTransport(Path(self.settings.outbox.path)))
        return {"mail": mail, "webhook": WebhookTransport(self.settings.urgent, self.clock)}

    def drain(self) -> DrainReport:
        """Send every due row once (in order of writing); returns what happened."""
        with drain_lock(Path(self.settings.storage.path) / ".outbox.lock") as mine:
            if not mine:
                log.info("outbox: another mailroom process is draining it; skipped")
                return DrainReport(busy=True)
            return self._drain()

    def _drain(self) -> DrainReport:
        report = DrainReport()
        transports = self._transports()
        broken: set[str] = set()
        try:
            for row_id, channel in self._due():
                if channel in broken:
                    continue
                if self._send_one(row_id, transports[channel], report):
                    continue
                broken.add(channel)  # the connection failed: the rest of the channel waits
                deferred, failed = self._defer_channel(channel, report.errors[-1])
                report.deferred += deferred
                report.failed += failed
        finally:
            for transport in transports.values():
                transport.close()
        if report.sent or report.deferred or report.failed:
            log.info(report.summary())
        return report

    def _due(self) -> list[tuple[int, str]]:
        with self.sessions() as session:
            statement = (select(OutgoingMail.id, OutgoingMail.channel)
                         .where(OutgoingMail.status == "pending",
                                OutgoingMail.next_attempt_at <= self.clock.now())
                         .order_by(OutgoingMail.id))
            return [(row.id, row.channel) for row in session.execute(statement)]

    def _send_one(self, row_id: int, transport: Transport, report: DrainReport) -> bool:
        """Send one row and record the outcome; False when the connection itself failed."""
        with self.sessions() as session:
            row = session.get(OutgoingMail, row_id)
            if row is None or row.status != "pending":
                return True
            session.expunge(row)
        if row.channel == "mail" and self.settings.smtp is not None:
            self.throttle.wait()
        try:
            note = transport.send(row)
        except SendError as exc:
            report.errors.append(str(exc))
            if exc.connection:
                log.warning("outbox: cannot send (%s); %s waits", exc, row.purpose)
                return False
            self._record_failure(row, str(exc), exc.temporary, report)
            return True
        self._mark_sent(row, note)
        report.sent += 1
        log.info("outbox: sent %s %s to %s (%s)", row.purpose, row.message_id,
                 ", ".join(row.recipients), note)
        return True

    def _mark_sent(self, row: OutgoingMail, note: str) -> None:
        with self.sessions.begin() as session:
            session.execute(update(OutgoingMail).where(OutgoingMail.id == row.id).values(
                status="sent", sent_at=self.clock.now(), attempts=row.attempts + 1,
                delivered_to=note[:1000]))

    def _record_failure(self, row: OutgoingMail, error: str, temporary: bool,
                        report: DrainReport) -> None:
        now = self.clock.now()
        attempts = row.attempts + 1
        give_up = not temporary or now - row.created_at >= GIVE_UP
        values = {"attempts": attempts, "last_error": error[:2000],
                  "status": "failed" if give_up else "pending",
                  "next_attempt_at": now + retry_delay(attempts)}
        with self.sessions.begin() as session:
            session.execute(update(OutgoingMail).where(OutgoingMail.id == row.id).values(**values))
        if give_up:
            report.failed += 1
            log.error("outbox: %s %s to %s failed for good: %s", row.purpose, row.message_id,
                      ", ".join(row.recipients), error)
        else:
            report.deferred += 1
            log.warning("outbox: %s %s deferred (attempt %d): %s", row.purpose,
                        row.message_id, attempts, error)

    def _defer_channel(self, channel: str, error: str) -> tuple[int, int]:
        """Every due row of `channel` waits (backoff by its own attempts), or fails once it
        has waited GIVE_UP; returns how many of each."""
        now = self.clock.now()
        deferred = failed = 0
        with self.sessions.begin() as session:
            rows = session.scalars(select(OutgoingMail).where(
                OutgoingMail.status == "pending", OutgoingMail.channel == channel,
                OutgoingMail.next_attempt_at <= now)).all()
            for row in rows:
                row.attempts += 1
                row.last_error = error[:2000]
                row.next_attempt_at = now + retry_delay(row.attempts)
                if now - row.created_at >= GIVE_UP:
                    row.status = "failed"
                    failed += 1
                else:
                    deferred += 1
        return deferred, failed

    def seconds_until_due(self) -> float | None:
        """Seconds until the next pending row is due (0 if one is due now); None if none."""
        with self.sessions() as session:
            due: datetime | None = session.scalar(
                select(func.min(OutgoingMail.next_attempt_at))
                .where(OutgoingMail.status == "pending"))
        if due is None:
            return None
        return max((due - self.clock.now()).total_seconds(), 0.0)

    def status_counts(self) -> dict[str, int]:
        with self.sessions() as session:
            statement = select(OutgoingMail.status, func.count()).group_by(OutgoingMail.status)
            return {status: int(count) for status, count in session.execute(statement)}
