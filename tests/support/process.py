"""`mailroom` as a real process, for the tests that signal it or run several at once.

A Maildir inbox, SQLite (or a given database URL) and the store below one folder, SMTP to
the aiosmtpd fixture when given; its stderr is read as it comes, so a test can wait for a
log line before it signals.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

from support.mail import deliver, make_mail
from support.smtp import SmtpServer

CST = timezone(timedelta(hours=8))
AT = datetime(2019, 5, 6, 8, 0, tzinfo=CST)


def write_config(folder: Path, smtp: SmtpServer | None = None, max_per_minute: int = 1000,
                 database: str | None = None, storage: str = "var/store") -> Path:
    """A config in `folder`: the Maildir `folder/inbox`, the database and the store."""
    for sub in ("cur", "new", "tmp"):
        (folder / "inbox" / sub).mkdir(parents=True, exist_ok=True)
    url = database or f"sqlite:///{folder / 'var' / 'mailroom.db'}"
    text = (f'[database]\nurl = "{url}"\n[storage]\npath = "{storage}"\n'
            '[maildir]\npath = "inbox"\n[office]\naddresses = ["office@example.cn"]\n'
            '[[units]]\nname = "自然资源综合执法大队"\naliases = ["执法大队"]\n')
    if smtp is not None:
        text += (f'[smtp]\nhost = "{smtp.host}"\nport = {smtp.port}\n'
                 f'security = "{smtp.security}"\nusername = "{smtp.username}"\n'
                 f'password = "{smtp.password}"\nca_file = "{smtp.ca_file}"\n'
                 f'sender = "{smtp.username}"\nmax_per_minute = {max_per_minute}\n')
    path = folder / "mailroom.toml"
    path.write_text(text, encoding="utf-8")
    return path


def fill_inbox(folder: Path, count: int, first: int = 0) -> None:
    """`count` submissions from as many senders (each gets a receipt: no hourly cap)."""
    for index in range(first, first + count):
        deliver(folder / "inbox", make_mail(f"执法大队+第{index}条信息",
                                            sender=f"reporter{index}@example.cn"),
                AT + timedelta(minutes=index))


def inbox_count(folder: Path) -> int:
    return sum(1 for sub in ("new", "cur") for _ in (folder / "inbox" / sub).iterdir())


def filed_count(folder: Path) -> int:
    processed = folder / "inbox" / ".mailroom.processed"
    return sum(1 for sub in ("new", "cur") if (processed / sub).is_dir()
               for _ in (processed / sub).iterdir())


def query(folder: Path, sql: str) -> list[tuple[object, ...]]:
    """Rows from the SQLite database of `folder` ([] while it has no such table); an
    UPDATE is committed."""
    database = folder / "var" / "mailroom.db"
    if not database.exists():
        return []
    with closing(sqlite3.connect(database, timeout=10)) as connection, connection:
        try:
            return list(connection.execute(sql))
        except sqlite3.OperationalError:
            return []


def recorded(folder: Path) -> int:
    rows = query(folder, "SELECT count(*) FROM messages")
    return int(rows[0][0]) if rows else 0  # type: ignore[call-overload]


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


class Mailroom:
    """One `mailroom --config CONFIG ARGS…` process; stdout and stderr collected."""

    def __init__(self, config: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mailroom", "--config", str(config), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}, start_new_session=True)
        self._out: list[str] = []
        self._err: list[str] = []
        self._readers = [threading.Thread(target=self._read, args=(stream, lines), daemon=True)
                         for stream, lines in ((self.process.stdout, self._out),
                                               (self.process.stderr, self._err))]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream: object, lines: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            lines.append(line)

    @property
    def out(self) -> str:
        return "".join(self._out)

    @property
    def err(self) -> str:
        return "".join(self._err)

    def wait_for_log(self, needle: str, timeout: float = 30.0) -> bool:
        return wait_until(lambda: needle in self.err, timeout)

    def signal(self, signum: int = signal.SIGTERM, group: bool = False) -> float:
        """Send `signum` (to the whole process group, as systemd and a terminal do, when
        `group`); returns the time it was sent (time.monotonic)."""
        if group:
            os.killpg(self.process.pid, signum)
        else:
            self.process.send_signal(signum)
        return time.monotonic()

    def wait(self, timeout: float = 30.0) -> int:
        code = self.process.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=5)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None and not any(r.is_alive() for r in self._readers):
                stream.close()
        return code

    def group_alive(self) -> bool:
        """Whether any process of its group (its worker processes) is still there."""
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def kill(self) -> None:
        """Kill what is left of it and its workers (a test's clean-up)."""
        if self.group_alive():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.wait()


def polls_at_once(configs: list[Path], timeout: float) -> list[Mailroom]:
    """`poll --once` in one process per config, all started together; each must exit 0
    with no traceback and no ERROR line. Returns them, finished, for their output."""
    polls = [Mailroom(config, "poll", "--once") for config in configs]
    try:
        codes = [poll.wait(timeout=timeout) for poll in polls]
    finally:
        for poll in polls:
            poll.kill()
    for poll, code in zip(polls, codes, strict=True):
        assert code == 0, poll.err
        assert "Traceback" not in poll.err and "ERROR" not in poll.err, poll.err
    return polls
