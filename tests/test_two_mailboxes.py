"""Two mailroom processes for two mailboxes on one PostgreSQL database, each with its own
store: they never interfere. Numbers stay unique and gap-free per month, and every outbox
row is sent once although each drain sees the other's rows (FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import email
from pathlib import Path

import psycopg

from support.process import Mailroom, fill_inbox, inbox_count, write_config

MAILS = 40  # per mailbox


def test_two_mailboxes_on_one_postgresql_database(tmp_path: Path, postgres_url: str) -> None:
    folders = [tmp_path / "a", tmp_path / "b"]
    configs = []
    for position, folder in enumerate(folders):
        folder.mkdir()
        configs.append(write_config(folder, database=postgres_url))
        fill_inbox(folder, MAILS, first=position * 1000)
    polls = [Mailroom(config, "poll", "--once") for config in configs]
    try:
        codes = [poll.wait(timeout=300) for poll in polls]
    finally:
        for poll in polls:
            poll.kill()
    for poll, code in zip(polls, codes, strict=True):
        assert code == 0, poll.err
        assert "Traceback" not in poll.err and "ERROR" not in poll.err, poll.err
        assert f"{MAILS} mails: submission {MAILS}" in poll.out, poll.out
    assert all(inbox_count(folder) == 0 for folder in folders)
    dsn = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as connection:
        numbers = [n for (n,) in connection.execute("SELECT number FROM submissions")]
        outbox = list(connection.execute("SELECT message_id, status FROM outbox"))
    assert sorted(numbers) == [f"201905-{n:04d}" for n in range(1, 2 * MAILS + 1)]
    assert len(outbox) == 2 * MAILS and {status for _, status in outbox} == {"sent"}
    written = [path for folder in folders for path in (folder / "var" / "sent").glob("*.eml")]
    ids = [email.message_from_bytes(path.read_bytes())["Message-ID"] for path in written]
    assert len(ids) == 2 * MAILS and len(set(ids)) == 2 * MAILS  # each receipt sent once
    assert set(ids) == {f"<{message_id}>" for message_id, _ in outbox}
