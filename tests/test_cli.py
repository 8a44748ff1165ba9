"""The command line: exit codes, config lookup, list formats (in-process, on a Maildir)."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from support.cli import maildir_config, restore_logging, run  # noqa: F401  (restore_logging: autouse)
from support.mail import deliver, make_mail

CST = timezone(timedelta(hours=8))
SUBMISSION_FIELDS = {"number", "unit", "title", "sender", "received_at", "status",
                     "duplicate_of", "score", "priority", "attachments", "warnings"}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    path = maildir_config(tmp_path,
                          '[[units]]\nname = "自然资源综合执法大队"\naliases = ["执法大队"]\n'
                          '[[units]]\nname = "国土空间规划股"\n')
    submission = make_mail("执法大队+开展违法用地专项整治", attachments=[("签字稿.pdf", b"%PDF")])
    deliver(inbox, submission, datetime(2019, 5, 8, 9, 30, tzinfo=CST))
    deliver(inbox, make_mail("国土空间规划股+规划编制", sender="ghg@example.cn"),
            datetime(2019, 6, 1, 0, 5, tzinfo=CST))
    deliver(inbox, make_mail("自动回复：收到", headers={"Auto-Submitted": "auto-replied"}),
            datetime(2019, 5, 9, tzinfo=CST))
    return path




def test_usage_errors_exit_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    for args in ([], ["frobnicate"], ["poll"], ["submissions", "list", "--month", "2019-13"],
                 ["submissions", "list", "--format", "xml"]):
        code, _out, err = run(capsys, *args)
        assert code == 2, args
        assert len(err.strip().splitlines()) == 1, err


def test_config_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "--config", str(tmp_path / "none.toml"), "check")
    assert code == 2 and "config file not found" in err
    bad = tmp_path / "bad.toml"
    bad.write_text('[maildir]\npath = "x"\n[quota]\nmonthly = 3\n', encoding="utf-8")
    code, _out, err = run(capsys, "--config", str(bad), "check")
    assert code == 2 and "unknown key 'quota.monthly'" in err and str(bad) in err


def test_config_from_env_then_working_directory(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("MAILROOM_CONFIG", str(config))
    assert run(capsys, "db", "upgrade")[0] == 0
    monkeypatch.delenv("MAILROOM_CONFIG")
    monkeypatch.chdir(tmp_path)
    code, out, _err = run(capsys, "db", "upgrade")  # ./mailroom.toml
    assert code == 0 and "revision" in out
    monkeypatch.chdir(tmp_path / "inbox")
    assert run(capsys, "db", "upgrade")[0] == 2


def test_poll_and_lists(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ("--config", str(config))
    code, out, _err = run(capsys, *base, "poll", "--once")  # an empty database is set up
    assert code == 0 and "submission 2" in out and "auto-reply 1" in out

    code, out, _err = run(capsys, *base, "submissions", "list", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and [r["number"] for r in rows] == ["201905-0001", "201906-0001"]
    assert all(set(r) == SUBMISSION_FIELDS for r in rows)
    assert rows[0]["received_at"] == "2019-05-08T09:30:00+08:00"

    may = json.loads(run(capsys, *base, "submissions", "list", "--month", "2019-05",
                         "--format", "json")[1])
    assert [r["title"] for r in may] == ["开展违法用地专项整治"]

    code, out, _err = run(capsys, *base, "submissions", "list")
    assert code == 0 and "201905-0001" in out and "自然资源综合执法大队" in out
    assert out.rstrip().endswith("2 submissions")

    code, out, _err = run(capsys, *base, "messages", "list", "--month", "2019-05")
    assert code == 0 and "auto-reply" in out and out.rstrip().endswith("2 messages")
    messages = json.loads(run(capsys, *base, "messages", "list", "--format", "json")[1])
    assert [m["kind"] for m in messages] == ["submission", "auto-reply", "submission"]


def test_check_reports_each_part(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ("--config", str(config))
    code, out, _err = run(capsys, *base, "check")
    assert code == 0 and "no schema yet" in out
    run(capsys, *base, "db", "upgrade")
    code, out, _err = run(capsys, *base, "check")
    assert code == 0, out
    assert "ok   maildir" in out and "3 mails waiting" in out and "ok   outbox" in out
    assert "ok   queue: 0 outgoing mails waiting, 0 sent" in out
    stale_revision(config.parent / "var" / "mailroom.db")
    code, out, _err = run(capsys, *base, "check")
    assert code == 1 and "FAIL database" in out and "mailroom db upgrade" in out
    code, _out, err = run(capsys, *base, "poll", "--once")
    assert code == 1 and "mailroom db upgrade" in err


def stale_revision(database: Path) -> None:
    """Make the database look like an older mailroom's."""
    with closing(sqlite3.connect(database)) as connection, connection:
        connection.execute("UPDATE alembic_version SET version_num = '0000'")


def test_check_names_an_unresolvable_imap_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mailroom.toml"
    path.write_text('[imap]\nhost = "imap.nonexistent.invalid"\nusername = "u"\n'
                    'password = "s3cret-pw"\n', encoding="utf-8")
    run(capsys, "--config", str(path), "db", "upgrade")
    code, out, err = run(capsys, "--config", str(path), "check")
    assert code == 1
    assert "FAIL imap" in out and "resolve" in out and "imap.nonexistent.invalid" in out
    assert "s3cret-pw" not in out + err
