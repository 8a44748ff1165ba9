"""Drain the outbox: send each due row, mark it sent only once the other side took it.

4xx answers and network errors: the row waits (exponential backoff, `next_attempt_at`) and
is given up after GIVE_UP; 5xx: failed at once, the answer recorded. A failed connection
defers every due row of that channel, so a dead server costs one attempt per drain, not
one per row. No database transaction is held open while talking to a server; each row's
outcome is its own commit.

SMTP sends are throttled to `[smtp] max_per_minute`, counted from the outbox table's
`sent_at`, so the limit holds across runs (a second `poll --once` right after a first one
does not send another minute's worth at once). A drain may be told how long it may wait
for the throttle in all (`poll --once`: 60 s): what is still due then stays queued. The
wait is a `sleep` that a stop request cuts short, and a drain asks `stop` before each row.

One drain at a time per store: a drain holds an exclusive lock on `.outbox.lock` in the
file store, so `poll --once` run beside the daemon leaves the outbox to the daemon. Several
processes on one PostgreSQL database (two daemons for two mailboxes, each with its own
store) never send one row twice: a row is read `FOR UPDATE SKIP LOCKED` in a transaction
that holds only that row's lock while it is sent, and records the outcome; another drain
skips it. Nothing else waits on that lock, and a process that dies lets go of it at once:
the row is still pending and the next drain sends it, the same bytes (rendered from what
was fixed at decision time, outbox/deferred.py) with the same Message-ID. (SQLite has no
row locks: processes sharing one SQLite database share its store, and so its outbox lock.)
"""

from __future__ import annotations

import logging
import random
import time
from collections import deque
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from mailroom import outages
from mailroom.backoff import Outage, describe_length
from mailroom.clock import Clock
from mailroom.config import Settings
from mailroom.outbox import deferred
from mailroom.outbox.transports import (
    EmlTransport,
    SendError,
    SmtpTransport,
    Transport,
    WebhookTransport,
)
from mailroom.store.locks import OUTBOX_LOCK, try_lock
from mailroom.store.models import OutgoingMail

log = logging.getLogger(__name__)

FIRST_RETRY = 60.0  # seconds; doubles per attempt
MAX_RETRY = 3600.0
GIVE_UP = timedelta(hours=48)  # temporary failures for this long: failed for good
WINDOW = timedelta(seconds=60)  # the throttle's minute
# a row claimed to send (built once: the drain runs it for every mail)
_CLAIM = (select(OutgoingMail).where(OutgoingMail.id == bindparam("id"),
                                     OutgoingMail.status == "pending")
          .with_for_update(skip_locked=True))

Sleep = Callable[[float], bool]  # wait this long; True when a stop request cut it short
Turn = Literal["send", "later", "stopped"]


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_RETRY))


def plain_sleep(seconds: float) -> bool:
    time.sleep(seconds)
    return False


@dataclass
class DrainReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    busy: bool = False  # another process was draining: nothing was tried
    queued: int = 0  # due mail left for later: the throttle's wait was used up, or a stop
    per_minute: int | None = None  # the SMTP throttle that left them, when it did
    stopped: bool = False  # a stop request ended the drain

    def summary(self) -> str:
        if self.busy:
            return "outbox: another mailroom process is sending; left to it"
        parts = [f"{self.sent} sent"]
        if self.queued:
            why = (f" (SMTP throttle: max_per_minute = {self.per_minute})"
                   if self.per_minute is not None else " (stopped)")
            parts.append(f"{self.queued} still queued{why}")
        parts += [f"{self.deferred} to retry", f"{self.failed} failed"]
        later = "; the daemon or the next poll sends them" if self.queued else ""
        return "outbox: " + ", ".join(parts) + later


def drain_lock(path: Path) -> AbstractContextManager[bool]:
    """The outbox's lock (see store/locks.try_lock); yields False when another holds it."""
    return try_lock(path)


class Throttle:
    """At most `per_minute` sends in any 60 seconds (NetEase throttles bursts).

    `recent`: when the sends of the last minute were made (from the outbox table); each
    send of this drain is added by `sent`. Only this process sends while it holds the
    outbox lock, so the two together are every send of the minute. It waits with `sleep`
    at most `max_wait` seconds in all (None: as long as it takes)."""

    def __init__(self, per_minute: int, recent: Iterable[datetime], now: Callable[[], datetime],
                 sleep: Sleep, max_wait: float | None = None) -> None:
        self.per_minute = per_minute
        self.now = now
        self.sleep = sleep
        self.left = float("inf") if max_wait is None else max_wait
        self.times: deque[datetime] = deque(sorted(recent))

    def pause(self) -> float:
        """Seconds to wait before the next send (0: send now)."""
        now = self.now()
        # out of the minute, or "sent" after now (the clock was set back): not counted
        self.times = deque(t for t in self.times if now - WINDOW < t <= now)
        if len(self.times) < self.per_minute:
            return 0.0
        return max((self.times[-self.per_minute] + WINDOW - now).total_seconds(), 0.0)

    def wait(self) -> Turn:
        """Wait for the next send's turn: "send", "later" (the wait allowed is used up;
        nothing was waited) or "stopped" (a stop request cut the wait short)."""
        pause = self.pause()
        if pause > self.left:
            return "later"
        if pause:
            log.info("outbox: %d sent within a minute ([smtp] max_per_minute); waiting %.0f s",
                     self.per_minute, pause)
            self.left -= pause
            if self.sleep(pause):
                return "stopped"
        return "send"

    def sent(self, at: datetime) -> None:
        self.times.append(at)


class OutboxSender:
    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        clock: Clock,
        sleep: Sleep = plain_sleep,
        stop: Callable[[], bool] = lambda: False,
    ) -> None:
        """`sleep` waits for the throttle (the daemon's is cut short by a signal); `stop`
        is asked before each row: True ends the drain, the rest stays queued."""
        self.settings = settings
        self.sessions = sessions
        self.clock = clock
        self.sleep = sleep
        self.stop = stop
        self.per_minute = settings.smtp.max_per_minute if settings.smtp else None
        self.outages: dict[str, Outage] = {}  # per channel, while this sender lives
        self._login_known_good = False
        self.uniform = random.uniform  # the jitter of a dead server's retries

    def _transports(self) -> dict[str, Transport]:
        mail: Transport = (SmtpTransport(self.settings.smtp) if self.settings.smtp
                           else EmlTransport(Path(self.settings.outbox.path)))
        return {"mail": mail, "webhook": WebhookTransport(self.settings.urgent, self.clock)}

    def drain(self, max_wait: float | None = None) -> DrainReport:
        """Send every due row once (in order of writing); returns what happened.
        `max_wait`: how long the throttle may make this drain wait in all (None: as long
        as it takes); the mail still due after that stays queued."""
        with try_lock(Path(self.settings.storage.path) / OUTBOX_LOCK) as mine:
            if not mine:
                log.info("outbox: another mailroom process is draining it; skipped")
                return DrainReport(busy=True)
            return self._drain(max_wait)

    def _drain(self, max_wait: float | None) -> DrainReport:
        report = DrainReport()
        transports = self._transports()
        try:
            self._send_due(report, transports, self._throttle(max_wait))
        except KeyboardInterrupt:
            raise  # stopping now: no QUIT to a server that may be what holds the stop up
        except BaseException:
            _close(transports)
            raise
        _close(transports)
        report.queued = self._due_count() if report.stopped or report.per_minute else 0
        if report.sent or report.deferred or report.failed or report.queued:
            log.info(report.summary())
        return report

    def _send_due(self, report: DrainReport, transports: dict[str, Transport],
                  throttle: Throttle | None) -> None:
        waiting: set[str] = set()  # channels left for later: connection failed, or throttled
        for row_id, channel in self._due():
            if channel in waiting:
                continue
            turn: Turn = "send"
            if self.stop():
                turn = "stopped"
            elif channel == "mail" and throttle is not None:
                turn = throttle.wait()
            if turn == "stopped":
                report.stopped = True
                return
            if turn == "later":
                waiting.add(channel)
                report.per_minute = self.per_minute
            elif not self._send_one(row_id, transports[channel], report, throttle):
                waiting.add(channel)
                deferred, failed = self._defer_channel(channel, report.errors[-1])
                report.deferred += deferred
                report.failed += failed

    def _throttle(self, max_wait: float | None) -> Throttle | None:
        """The SMTP throttle, knowing what was sent in the last minute (by any run)."""
        if self.per_minute is None:
            return None
        now = self.clock.now()
        with self.sessions() as session:
            recent = session.scalars(
                select(OutgoingMail.sent_at).where(
                    OutgoingMail.channel == "mail", OutgoingMail.status == "sent",
                    OutgoingMail.sent_at > now - WINDOW)
                .order_by(OutgoingMail.sent_at.desc()).limit(self.per_minute)).all()
        return Throttle(self.per_minute, [t for t in recent if t is not None],
                        self.clock.now, self.sleep, max_wait)

    def _due(self) -> list[tuple[int, str]]:
        with self.sessions() as session:
            statement = (select(OutgoingMail.id, OutgoingMail.channel)
                         .where(OutgoingMail.status == "pending",
                                OutgoingMail.next_attempt_at <= self.clock.now())
                         .order_by(OutgoingMail.id))
            return [(row.id, row.channel) for row in session.execute(statement)]

    def _due_count(self) -> int:
        with self.sessions() as session:
            return int(session.scalar(
                select(func.count()).select_from(OutgoingMail)
                .where(OutgoingMail.status == "pending",
                       OutgoingMail.next_attempt_at <= self.clock.now())) or 0)

    def _send_one(self, row_id: int, transport: Transport, report: DrainReport,
                  throttle: Throttle | None) -> bool:
        """Claim one row, send it and record the outcome in the claim's transaction;
        False when the connection itself failed. A row another process holds (SKIP
        LOCKED), or that is no longer pending, is left alone."""
        with self.sessions.begin() as session:
            row = session.scalars(_CLAIM, {"id": row_id}).first()
            if row is None:
                return True
            outcome, note = self._attempt(row, transport, report)
            if outcome == "connection":
                session.rollback()  # let go of the row: its channel is deferred next
                return False
            if outcome == "sent":
                sent_at = self.clock.now()
                row.status, row.sent_at, row.next_attempt_at = "sent", sent_at, sent_at
                row.attempts += 1
                row.delivered_to = note[:1000]
        if outcome == "sent":
            self._connection_worked(row.channel)
            if row.channel == "mail" and throttle is not None:
                throttle.sent(sent_at)
            report.sent += 1
            log.info("outbox: sent %s %s to %s (%s)", row.purpose, row.message_id,
                     ", ".join(row.recipients), row.delivered_to)
        return True

    def _attempt(self, row: OutgoingMail, transport: Transport,
                 report: DrainReport) -> tuple[Literal["sent", "failed", "connection"], str]:
        """Render (when deferred) and send `row`; a failure is recorded on the row. With
        "sent", what the other side said."""
        try:
            if not row.raw and row.render is not None:
                row.raw = deferred.render(row.render)
            note = transport.send(row)
        except SendError as exc:
            report.errors.append(str(exc))
            if exc.connection:
                self._connection_failed(row.channel, exc)
                return "connection", ""
            self._record_failure(row, str(exc), exc.temporary, report)
            return "failed", ""
        except (OperationalError, KeyboardInterrupt):
            raise
        except Exception as exc:  # a row that cannot be rendered: failed, never a crash loop
            log.exception("outbox: %s %s cannot be rendered", row.purpose, row.message_id)
            report.errors.append(f"{type(exc).__name__}: {exc}")
            self._record_failure(row, report.errors[-1], False, report)
            return "failed", ""
        return "sent", note

    def _connection_failed(self, channel: str, exc: SendError) -> None:
        """Logged once when the outage starts (then each retry only at debug level); a
        refused SMTP login is recorded for `check` (an expired authorisation code)."""
        outage = self.outages.setdefault(channel, Outage(channel))
        if outage.failed(str(exc), time.monotonic()):
            log.warning("outbox: cannot send %s (%s); the queue waits and is retried with "
                        "backoff", "mail" if channel == "mail" else "to the " + channel, exc)
        else:
            log.debug("outbox: %s still unavailable (try %d): %s", channel, outage.tries, exc)
        if exc.login:
            self._login_known_good = False
            outages.login_failed(self.sessions, self.settings, self.clock, "smtp", str(exc))

    def _connection_worked(self, channel: str) -> None:
        outage = self.outages.get(channel)
        length = outage.recovered(time.monotonic()) if outage is not None else None
        if length is not None:
            log.info("outbox: %s works again after %s", channel, describe_length(length))
        if channel == "mail" and self.settings.smtp is not None \
                and not self._login_known_good:
            self._login_known_good = True
            if outages.login_worked(self.sessions, self.clock, "smtp"):
                log.info("outbox: the SMTP login works again")

    def _record_failure(self, row: OutgoingMail, error: str, temporary: bool,
                        report: DrainReport) -> None:
        now = self.clock.now()
        attempts = row.attempts + 1
        give_up = not temporary or now - row.created_at >= GIVE_UP
        row.attempts, row.last_error = attempts, error[:2000]
        row.status = "failed" if give_up else "pending"
        row.next_attempt_at = now + retry_delay(attempts)
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
                OutgoingMail.next_attempt_at <= now).with_for_update(skip_locked=True)).all()
            for row in rows:
                row.attempts += 1
                row.last_error = error[:2000]
                row.next_attempt_at = now + retry_delay(row.attempts) * self.uniform(0.5, 1.0)
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


def _close(transports: dict[str, Transport]) -> None:
    for transport in transports.values():
        transport.close()
