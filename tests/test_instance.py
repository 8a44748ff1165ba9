"""One `run` per mailbox and database, as real processes on SQLite and PostgreSQL: a second
`run` is refused saying who holds it (exit 2), an `import` too, `poll --once` leaves the
work to it (exit 0), and after SIGKILL nothing stale is left: the next `run` starts."""

from __future__ import annotations

import mailbox
import signal
import socket
from pathlib import Path

from mailroom.app import App
from mailroom.config import load_settings
from support.process import Mailroom, fill_inbox, write_config


def one_instance(config: Path, poll_beside: bool = True, import_beside: bool = False) -> None:
    first = Mailroom(config, "run")
    try:
        assert first.wait_for_log("mailroom run: started", timeout=60), first.err
        pid = first.process.pid

        second = Mailroom(config, "run")
        assert second.wait(timeout=60) == 2, second.err
        refusal = second.err.strip()
        assert refusal.startswith("mailroom: mailroom run (pid ") and "\n" not in refusal
        assert f"pid {pid} on {socket.gethostname()}, since " in refusal, refusal
        assert "Traceback" not in second.err

        if import_beside:  # an import on the same mailbox and database: refused the same way
            export = config.parent / "old.mbox"
            mailbox.mbox(export).close()
            backlog = Mailroom(config, "import", "--mbox", str(export))
            assert backlog.wait(timeout=60) == 2, backlog.err
            assert f"pid {pid} on {socket.gethostname()}, since " in backlog.err, backlog.err
            assert "Traceback" not in backlog.err

        if poll_beside:
            poll = Mailroom(config, "poll", "--once")
            assert poll.wait(timeout=60) == 0, poll.err
            assert f"mailroom run (pid {pid} on {socket.gethostname()}" in poll.out
            assert poll.out.rstrip().endswith("is processing this mailbox; left to it")

        first.signal(signal.SIGKILL, group=True)
        assert first.wait() == -signal.SIGKILL
    finally:
        first.kill()
    app = App.build(load_settings(config))  # no stale lock: the kernel / the server dropped it
    try:
        lock = app.instance_lock("run")
        lock.acquire()
        lock.release()
    finally:
        app.close()


def test_one_run_per_mailbox_on_sqlite(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    fill_inbox(tmp_path, 1)
    one_instance(config, import_beside=True)
    assert list((tmp_path / "var").glob("mailroom.db.*.lock"))  # beside the database


def test_one_run_per_mailbox_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    config = write_config(tmp_path, database=postgres_url)
    fill_inbox(tmp_path, 1)
    one_instance(config, poll_beside=False)  # the holder is read as for the refusal
