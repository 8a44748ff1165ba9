"""Stopping `mailroom run` (and `poll --once`) with signals, as systemd and an admin do.

First SIGTERM: the mail in hand finishes its transaction, nothing more is fetched or sent,
exit 0 within 10 s. A second signal, or a stop still held up 8 s later: exit at once, the
transaction in hand rolled back, its mail still in the inbox. Either way nothing is lost
and nothing is recorded twice when the next run processes the rest.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import psycopg
import pytest

from support.process import (
    Mailroom,
    filed_count,
    fill_inbox,
    inbox_count,
    query,
    recorded,
    wait_until,
    write_config,
)
from support.smtp import SmtpServer

MAILS = 200


def numbers(folder: Path) -> list[str]:
    return [str(row[0]) for row in query(folder, "SELECT number FROM submissions ORDER BY id")]


def stop_time(process: Mailroom, signum: int = signal.SIGTERM, group: bool = False,
              timeout: float = 20.0) -> tuple[int, float]:
    """Signal the process; its exit code and how many seconds it took to exit."""
    sent = process.signal(signum, group=group)
    code = process.wait(timeout=timeout)
    return code, time.monotonic() - sent


def finish_with_a_second_run(folder: Path, config: Path) -> None:
    """A new daemon processes what the stopped one left; then every mail is recorded once."""
    again = Mailroom(config, "run")
    try:
        assert wait_until(lambda: inbox_count(folder) == 0 and recorded(folder) == MAILS, 120)
        assert stop_time(again)[0] == 0, again.err
    finally:
        again.kill()
    assert filed_count(folder) == MAILS
    assert numbers(folder) == [f"201905-{n:04d}" for n in range(1, MAILS + 1)]
    assert query(folder, "SELECT count(DISTINCT raw_sha256) FROM messages") == [(MAILS,)]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_batch_finishes_the_mail_in_hand_and_exits_within_10_s(
    tmp_path: Path, smtp_server: SmtpServer, signum: int
) -> None:
    config = write_config(tmp_path, smtp_server, max_per_minute=5)
    fill_inbox(tmp_path, MAILS)
    daemon = Mailroom(config, "run")
    try:
        assert wait_until(lambda: recorded(tmp_path) >= 20, timeout=60), daemon.err
        # to the whole group, as systemd (KillMode=control-group) and a terminal's Ctrl-C
        # do: the worker processes get it too
        code, seconds = stop_time(daemon, signum, group=True)
    finally:
        daemon.kill()
    assert code == 0, daemon.err
    assert seconds < 10
    assert f"signal {signal.Signals(signum).name}: stopping" in daemon.err
    assert "Traceback" not in daemon.err
    done = recorded(tmp_path)
    assert 20 <= done < MAILS  # the pass ended early …
    assert filed_count(tmp_path) == done  # … every recorded mail filed away,
    assert inbox_count(tmp_path) == MAILS - done  # the others untouched in the inbox
    assert query(tmp_path, "SELECT count(*) FROM processing_failures") == [(0,)]
    assert smtp_server.received == []  # it stopped before sending
    finish_with_a_second_run(tmp_path, config)


def test_a_signal_while_the_smtp_throttle_waits_stops_at_once(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    config = write_config(tmp_path, smtp_server, max_per_minute=3)
    fill_inbox(tmp_path, 8)
    daemon = Mailroom(config, "run")
    try:
        assert daemon.wait_for_log("([smtp] max_per_minute); waiting", timeout=60), daemon.err
        code, seconds = stop_time(daemon)
    finally:
        daemon.kill()
    assert code == 0, daemon.err
    assert seconds < 3  # the throttle's wait is cut short, not slept out (about 60 s)
    assert len(smtp_server.received) == 3
    assert query(tmp_path, "SELECT status, count(*) FROM outbox GROUP BY status "
                           "ORDER BY status") == [("pending", 5), ("sent", 3)]
    assert recorded(tmp_path) == filed_count(tmp_path) == 8


def test_a_second_signal_exits_at_once_and_rolls_back_the_mail_in_hand(
    tmp_path: Path, postgres_url: str
) -> None:
    config = write_config(tmp_path, database=postgres_url)
    fill_inbox(tmp_path, 5)
    assert Mailroom(config, "db", "upgrade").wait() == 0
    dsn = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as blocker:
        # the first mail's INSERT waits for this lock: a transaction in hand that cannot end
        blocker.execute("LOCK TABLE messages IN EXCLUSIVE MODE")
        daemon = Mailroom(config, "run")
        try:
            assert wait_until(lambda: _waiting_for_a_lock(dsn), timeout=60), daemon.err
            daemon.signal(signal.SIGTERM)
            assert daemon.wait_for_log("signal SIGTERM: stopping", timeout=5)
            time.sleep(0.5)
            assert daemon.process.poll() is None  # the mail in hand holds the stop up
            code, seconds = stop_time(daemon, signal.SIGTERM)
        finally:
            daemon.kill()
        blocker.rollback()
    assert code == 1, daemon.err
    assert seconds < 2
    assert "signal SIGTERM again: stopping now" in daemon.err
    assert "Traceback" not in daemon.err
    assert inbox_count(tmp_path) == 5  # nothing recorded, nothing moved
    with psycopg.connect(dsn) as connection:
        assert connection.execute("SELECT count(*) FROM messages").fetchone() == (0,)
    poll = Mailroom(config, "poll", "--once")
    assert poll.wait() == 0, poll.err
    assert inbox_count(tmp_path) == 0 and filed_count(tmp_path) == 5
    with psycopg.connect(dsn) as connection:
        assert connection.execute("SELECT count(*), count(DISTINCT number) FROM submissions"
                                  ).fetchone() == (5, 5)


def _waiting_for_a_lock(dsn: str) -> bool:
    with psycopg.connect(dsn) as connection:
        row = connection.execute("SELECT count(*) FROM pg_stat_activity "
                                 "WHERE wait_event_type = 'Lock'").fetchone()
    return row is not None and row[0] > 0


def test_a_stop_still_held_up_after_8_s_is_forced_within_10_s(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    config = write_config(tmp_path, smtp_server)
    fill_inbox(tmp_path, 3)
    smtp_server.stall()  # the server takes the connection and never answers MAIL FROM
    daemon = Mailroom(config, "run")
    try:
        assert wait_until(lambda: smtp_server.connections >= 1, timeout=60), daemon.err
        code, seconds = stop_time(daemon)
    finally:
        daemon.kill()
        smtp_server.release()
    assert code == 1, daemon.err
    assert 7 < seconds < 10
    assert "still busy 8 s after the stop signal; stopping now" in daemon.err
    assert "Traceback" not in daemon.err
    # nothing lost: the mails are recorded and filed, their receipts wait to be sent
    assert recorded(tmp_path) == filed_count(tmp_path) == 3
    assert query(tmp_path, "SELECT status, count(*) FROM outbox GROUP BY status") \
        == [("pending", 3)]
    poll = Mailroom(config, "poll", "--once")
    assert poll.wait() == 0, poll.err
    assert len(smtp_server.received) == 3
