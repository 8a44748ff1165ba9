"""`mailroom run` as a real process: IDLE wake-up against Dovecot, clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

from support.dovecot import ImapAccount
from support.mail import deliver, maildir_files, make_mail

CST = timezone(timedelta(hours=8))


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@contextmanager
def daemon(config: Path, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mailroom", "--config", str(config), "run"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def processed(account: ImapAccount) -> int:
    """Mails in the processed folder; 0 until the daemon has created it."""
    return account.count("mailroom/processed") if "mailroom/processed" in account.folders() \
        else 0


def migrate(config: Path) -> None:
    subprocess.run([sys.executable, "-m", "mailroom", "--config", str(config), "db", "upgrade"],
                   check=True, capture_output=True)


def test_run_wakes_on_idle_and_stops_cleanly_on_sigterm(
    tmp_path: Path, imap_account: ImapAccount
) -> None:
    config = tmp_path / "mailroom.toml"
    config.write_text(
        f'[imap]\nhost = "127.0.0.1"\nport = {imap_account.settings().port}\n'
        f'security = "plain"\nusername = "{imap_account.username}"\n'
        'password_env = "TEST_IMAP_PASSWORD"\npoll_interval = 3600\n'
        '[[units]]\nname = "自然资源综合执法大队"\naliases = ["执法大队"]\n', encoding="utf-8")
    migrate(config)
    imap_account.append(make_mail("执法大队+启动前已到的信息"), datetime(2019, 5, 6, tzinfo=CST))
    with daemon(config, {"TEST_IMAP_PASSWORD": imap_account.password}) as process:
        assert wait_until(lambda: processed(imap_account) == 1)
        # poll_interval is an hour: only IDLE can make the next mail show up quickly
        imap_account.append(make_mail("执法大队+启动后到的信息"), datetime(2019, 5, 7, tzinfo=CST))
        assert wait_until(lambda: processed(imap_account) == 2, timeout=10)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        _out, err = process.communicate()
    assert "signal SIGTERM: stopping" in err
    assert imap_account.password not in err
    assert imap_account.count("INBOX") == 0


def test_run_polls_a_maildir_and_stops_on_sigterm(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    for sub in ("cur", "new", "tmp"):
        (inbox / sub).mkdir(parents=True)
    config = tmp_path / "mailroom.toml"
    config.write_text('[maildir]\npath = "inbox"\n[[units]]\nname = "国土空间规划股"\n',
                      encoding="utf-8")
    migrate(config)
    with daemon(config) as process:
        deliver(inbox, make_mail("国土空间规划股+规划编制进展"), datetime(2019, 5, 9, tzinfo=CST))
        assert wait_until(lambda: len(maildir_files(inbox, ".mailroom.processed")) == 1)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0


def test_run_refuses_a_database_of_another_revision(tmp_path: Path) -> None:
    (tmp_path / "inbox" / "new").mkdir(parents=True)
    (tmp_path / "inbox" / "cur").mkdir()
    (tmp_path / "inbox" / "tmp").mkdir()
    config = tmp_path / "mailroom.toml"
    config.write_text('[maildir]\npath = "inbox"\n', encoding="utf-8")
    migrate(config)
    with closing(sqlite3.connect(tmp_path / "var" / "mailroom.db")) as connection, connection:
        connection.execute("UPDATE alembic_version SET version_num = '0000'")
    with daemon(config) as process:
        assert process.wait(timeout=30) == 1
        _out, err = process.communicate()
    assert "mailroom db upgrade" in err
