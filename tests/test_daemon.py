"""`mailroom run` as a real process: IDLE wake-up against Dovecot, clean stop on SIGTERM;
`poll --once` and `run` refusing an unwritable store before they fetch anything."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, nullcontext
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from support.cli import restore_logging, run  # noqa: F401  (restore_logging: autouse)
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


def _immutable_supported() -> bool:
    """Whether `chattr +i` works where the tests' folders are (root ignores mode bits)."""
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / "probe"
        probe.mkdir()
        done = subprocess.run(["chattr", "+i", str(probe)], capture_output=True) \
            if shutil.which("chattr") else None
        if done is None or done.returncode != 0:
            return False
        subprocess.run(["chattr", "-i", str(probe)], check=True)
        return True


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True)
    if os.getuid() == 0:
        subprocess.run(["chattr", "+i", str(folder)], check=True)
    else:
        folder.chmod(0o555)
    try:
        yield
    finally:
        if os.getuid() == 0:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        else:
            folder.chmod(0o755)


UNWRITABLE = ["below a file", "a file"] + (
    ["read-only"] if os.getuid() != 0 or _immutable_supported() else [])


@pytest.mark.parametrize("command", [["poll", "--once"], ["run"]])
@pytest.mark.parametrize("case", UNWRITABLE)
def test_an_unwritable_store_is_one_line_exit_1_and_every_mail_stays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, command: list[str]
) -> None:
    inbox = tmp_path / "inbox"
    deliver(inbox, make_mail("国土空间规划股+规划编制进展"), datetime(2019, 5, 9, tzinfo=CST))
    (tmp_path / "afile").write_text("not a folder")
    store = {"below a file": tmp_path / "afile" / "store", "a file": tmp_path / "afile",
             "read-only": tmp_path / "locked"}[case]
    config = tmp_path / "mailroom.toml"
    config.write_text(f'[storage]\npath = "{store}"\n[maildir]\npath = "inbox"\n'
                      '[[units]]\nname = "国土空间规划股"\n', encoding="utf-8")
    guard = read_only(store) if case == "read-only" else nullcontext()
    with guard:
        code, out, err = run(capsys, "--config", str(config), *command)
    why = {"below a file": "Not a directory", "a file": "it is not a folder",
           "read-only": "Operation not permitted" if os.getuid() == 0 else "Permission denied"}
    assert code == 1
    assert err == f"mailroom: storage {store} is not writable: {why[case]}\n"
    assert out == ""
    assert len(maildir_files(inbox)) == 1  # checked before anything was fetched
    database = tmp_path / "var" / "mailroom.db"
    if database.exists():
        with closing(sqlite3.connect(database)) as connection:
            assert connection.execute("SELECT name FROM sqlite_master").fetchall() == []
