"""Two mailroom processes for two mailboxes on one PostgreSQL database, each with its own
store: they never interfere. Numbers stay unique and gap-free per month, and every outbox
row is sent once although each drain sees the other's rows (FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import email
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import psycopg

from mailroom.app import App
from support.mail import deliver, make_mail
from support.process import AT, fill_inbox, inbox_count, polls_at_once, write_config

MAILS = 40  # per mailbox


def test_two_mailboxes_on_one_postgresql_database(tmp_path: Path, postgres_url: str) -> None:
    folders = [tmp_path / "a", tmp_path / "b"]
    configs = []
    for position, folder in enumerate(folders):
        folder.mkdir()
        configs.append(write_config(folder, database=postgres_url))
        fill_inbox(folder, MAILS, first=position * 1000)
    for poll in polls_at_once(configs, timeout=300):
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


def test_a_drain_skips_the_row_another_process_is_sending(
    make_app: Callable[..., App], postgres_url: str, tmp_path: Path
) -> None:
    app = make_app(database={"url": postgres_url})
    assert app.settings.maildir is not None
    for index in range(3):
        deliver(Path(app.settings.maildir.path), make_mail(
            f"执法大队+信息{index}", sender=f"r{index}@example.cn"), AT + timedelta(minutes=index))
    report = app.pipeline().run_pass(app.open_source())
    assert report.count("processed") == 3
    dsn = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as other:  # another process, in the middle of sending one
        [(held,)] = other.execute("SELECT id FROM outbox ORDER BY id LIMIT 1 FOR UPDATE")
        assert app.outbox().drain().sent == 2  # not waiting for it, not sending it
        [(status,)] = other.execute("SELECT status FROM outbox WHERE id = %s", (held,))
        assert status == "pending"
    assert app.outbox().drain().sent == 1  # let go: now it goes, once
    assert len(list((tmp_path / "sent").iterdir())) == 3
