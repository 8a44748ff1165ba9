"""Several `poll --once` at once on one database and store (cron overlapping itself, an
admin's manual poll): one does the pass, the others leave it to that one and exit 0 saying
so; concurrent first runs on a fresh database wait for one schema. No mail is recorded
twice, none is left behind, nobody crashes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from mailroom.cli import main
from mailroom.daemon import BUSY
from mailroom.store.locks import PASS_LOCK, SCHEMA_LOCK, hold_lock, try_lock
from support.process import (
    Mailroom,
    filed_count,
    fill_inbox,
    inbox_count,
    polls_at_once,
    query,
    write_config,
)

MAILS = 120
Query = Callable[[str], list[tuple[object, ...]]]


def three_polls_at_once(folder: Path, config: Path, rows: Query) -> None:
    fill_inbox(folder, MAILS)
    polls = polls_at_once([config] * 3, timeout=180)
    for poll in polls:
        [line] = poll.out.splitlines()  # one line each: what it did, or that it left it
        assert line == BUSY or line.startswith(("120 mails: submission 120", "0 mails")), line
    assert sum(BUSY in poll.out for poll in polls) >= 1
    assert sum("120 mails" in poll.out for poll in polls) == 1
    assert inbox_count(folder) == 0 and filed_count(folder) == MAILS
    assert rows("SELECT count(*), count(DISTINCT raw_sha256) FROM messages") == [(MAILS, MAILS)]
    numbers = [str(number) for (number,) in rows("SELECT number FROM submissions ORDER BY id")]
    assert numbers == [f"201905-{n:04d}" for n in range(1, MAILS + 1)]
    assert rows("SELECT count(*), count(DISTINCT message_id) FROM outbox") == [(MAILS, MAILS)]
    assert len(list((folder / "var" / "sent").iterdir())) == MAILS  # each receipt once


def test_three_polls_at_once_on_a_fresh_sqlite_database(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    three_polls_at_once(tmp_path, config, lambda sql: query(tmp_path, sql))


def test_three_polls_at_once_on_a_fresh_postgresql_database(
    tmp_path: Path, postgres_url: str
) -> None:
    config = write_config(tmp_path, database=postgres_url)
    dsn = postgres_url.replace("postgresql+psycopg://", "postgresql://")

    def rows(sql: str) -> list[tuple[object, ...]]:
        with psycopg.connect(dsn) as connection:
            return list(connection.execute(sql).fetchall())

    three_polls_at_once(tmp_path, config, rows)


def test_a_poll_leaves_the_mailbox_to_the_process_holding_the_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    fill_inbox(tmp_path, 3)
    with try_lock(tmp_path / "var" / "store" / PASS_LOCK) as held:  # as another poll does
        assert held
        code = main(["--config", str(config), "poll", "--once"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out == BUSY + "\n"
    assert "Traceback" not in err
    assert inbox_count(tmp_path) == 3 and query(tmp_path, "SELECT count(*) FROM messages") \
        == [(0,)]


def test_first_runs_on_a_fresh_database_wait_for_one_schema(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    fill_inbox(tmp_path, 2)
    with hold_lock(tmp_path / "var" / "store" / SCHEMA_LOCK):  # another first run creating it
        poll = Mailroom(config, "poll", "--once")
        try:
            time.sleep(2)
            assert poll.process.poll() is None  # waiting, not failing on a missing schema
            assert query(tmp_path, "SELECT name FROM sqlite_master WHERE type = 'table'") == []
        except BaseException:
            poll.kill()
            raise
    assert poll.wait(timeout=60) == 0, poll.err
    assert poll.out.startswith("2 mails: submission 2")
