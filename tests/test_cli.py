"""The command line: exit codes, config lookup, list formats (in-process, on a Maildir)."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
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


# --- one line, the right exit code, never a traceback ---------------------------------


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def mailroom(config: Path, *args: str, block: str = "") -> subprocess.CompletedProcess[str]:
    """The real command in its own process (exit code and stderr as a shell sees them);
    `block` names a module to make unimportable, as if it were not installed."""
    hide = f"import sys; sys.modules[{block!r}] = None; " if block else ""
    code = f"{hide}from mailroom.cli import main; raise SystemExit(main())"
    return subprocess.run([sys.executable, "-c", code, "--config", str(config), *args],
                          capture_output=True, text=True, timeout=120)


UNITS = '[[units]]\nname = "自然资源综合执法大队"\naliases = ["执法大队"]\n'


@pytest.mark.parametrize(("units", "expected"), [
    (UNITS + '[[units]]\nname = "执法中队"\naliases = ["执法大队"]\n',
     "alias '执法大队' is given to both '自然资源综合执法大队' and '执法中队'"),
    (UNITS + '[[units]]\nname = "执法大队"\n',
     "alias '执法大队' of '自然资源综合执法大队' is the name of the unit '执法大队'"),
    (UNITS + 'officers = ["a@example.cn"]\n[[units]]\nname = "规划股"\n'
     'officers = ["A@example.cn"]\n', "officer 'A@example.cn' is listed under both"),
    (UNITS + 'heads = ["李局长"]\n', "key 'units.0.heads.0'"),
    ('[schedule]\ndigest = "61 25 * * *"\n', "key 'schedule.digest': minute 61"),
    ('[schedule]\nreminder = "every day"\n', "key 'schedule.reminder': expected 5 fields"),
    ('[dedupe]\nwindow_days = true\n',
     "key 'dedupe.window_days': expected an integer (got True)"),
    ('[quota]\nmonthly_minimum = "2"\n', "key 'quota.monthly_minimum': expected an integer"),
    ('[database]\nurl = "nonsense"\n',
     "not a database URL: use sqlite:///PATH or postgresql+psycopg://user@host/db"),
    ('[database]\nurl = "mysql://office:pw-1234@db.example.cn/mailroom"\n',
     "mysql databases are not supported"),
])
@pytest.mark.parametrize("command", [["check"], ["poll", "--once"], ["db", "upgrade"],
                                     ["submissions", "list"], ["officers", "list"]])
def test_a_bad_config_stops_every_command_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], units: str, expected: str,
    command: list[str],
) -> None:
    config = maildir_config(tmp_path, units)
    code, out, err = run(capsys, "--config", str(config), *command)
    assert code == 2 and out == ""
    assert one_line(err).startswith("mailroom: config error: ") and expected in err
    assert "pw-1234" not in err
    assert not (tmp_path / "var").exists()  # nothing was touched


def test_a_notepad_config_reads_and_utf16_or_gbk_say_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = maildir_config(tmp_path, UNITS)
    text = config.read_text(encoding="utf-8")
    config.write_bytes(text.encode("utf-8-sig"))
    code, out, _ = run(capsys, "--config", str(config), "check")
    assert code == 0 and "ok   config: valid (1 units)" in out
    for encoding, expected in (("utf-16", "UTF-16 encoded"), ("gbk", "looks GBK")):
        config.write_bytes(text.encode(encoding))
        code, _, err = run(capsys, "--config", str(config), "check")
        assert code == 2 and expected in one_line(err) and "save it as UTF-8" in err


@pytest.mark.parametrize(("url", "block", "expected"), [
    ("nonsense", "", "key 'database.url': not a database URL: use sqlite:///PATH or "
                     "postgresql+psycopg://user@host/db"),
    ("mysql://office@db.example.cn/mailroom", "", "mysql databases are not supported"),
    # SQLAlchemy 2.1 reads postgresql:// as psycopg (2.0: psycopg2, refused at load)
    ("postgresql://office:pw-1234@db.example.cn/mailroom", "psycopg", "database.url: "),
    ("postgresql+psycopg://office:pw-1234@db.example.cn/mailroom", "psycopg",
     "database.url: the driver for postgresql+psycopg is not installed (pip install "
     "'mailroom[postgres]')"),
])
def test_an_impossible_database_url_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    url: str, block: str, expected: str,
) -> None:
    config = maildir_config(tmp_path, f'[database]\nurl = "{url}"\n')
    result = mailroom(config, "poll", "--once", block=block)
    assert result.returncode == 2, result.stderr
    assert expected in one_line(result.stderr) and "pw-1234" not in result.stderr
    if block:
        monkeypatch.setitem(sys.modules, block, None)
    for command in (("db", "upgrade"), ("check",), ("submissions", "list")):
        code, _, err = run(capsys, "--config", str(config), *command)
        assert code == 2 and expected in one_line(err) and "pw-1234" not in err


def test_an_unreachable_database_is_one_line_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+psycopg://office:pw-1234@127.0.0.1:{port}/mailroom"
    config = maildir_config(tmp_path, f'[database]\nurl = "{url}"\n')
    for command in (("db", "upgrade"), ("poll", "--once"), ("submissions", "list"),
                    ("officers", "list")):
        code, _, err = run(capsys, "--config", str(config), *command)
        assert code == 1, command
        assert one_line(err).startswith(f"mailroom: cannot use postgresql+psycopg://office:***@"
                                        f"127.0.0.1:{port}/mailroom: connection failed")
        assert "pw-1234" not in err
    code, out, err = run(capsys, "--config", str(config), "check")
    assert code == 1 and "FAIL database" in out and "FAIL queue: connection failed" in out
    assert err == ""


@pytest.mark.parametrize("command", [
    ["submissions", "list"], ["messages", "list", "--month", "2019-05"],
    ["review", "201905-0001", "--distinct"], ["officers", "list"],
    ["officers", "add", "a@example.cn", "--unit", "执法大队"],
    ["officers", "remove", "a@example.cn"],
])
@pytest.mark.parametrize("database", ["missing", "empty"])
def test_commands_before_db_upgrade_say_to_run_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str], database: str
) -> None:
    config = maildir_config(tmp_path, UNITS)
    if database == "empty":
        (tmp_path / "var").mkdir()
        sqlite3.connect(tmp_path / "var" / "mailroom.db").close()
    code, out, err = run(capsys, "--config", str(config), *command)
    assert (code, out) == (1, "")
    assert one_line(err) == "mailroom: the database has no schema; run `mailroom db upgrade` first"
    code, out, _ = run(capsys, "--config", str(config), "poll", "--once")  # still sets it up
    assert code == 0 and "0 mails" in out
    assert run(capsys, "--config", str(config), "submissions", "list")[0] == 0


def test_a_database_from_an_unknown_revision_is_one_line(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "--config", str(config), "db", "upgrade")
    stale_revision(config.parent / "var" / "mailroom.db")
    code, _, err = run(capsys, "--config", str(config), "db", "upgrade")
    assert code == 1 and "Can't locate revision identified by '0000'" in one_line(err)
    code, _, err = run(capsys, "--config", str(config), "submissions", "list")
    assert code == 1 and "run `mailroom db upgrade`" in one_line(err)


def test_an_unusable_storage_folder_is_one_line_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    config = maildir_config(tmp_path, '[storage]\npath = "a-file/store"\n')
    code, _, err = run(capsys, "--config", str(config), "poll", "--once")
    assert code == 1 and one_line(err).endswith("a-file/store is not writable: Not a directory")


@pytest.fixture
def polled(config: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert run(capsys, "--config", str(config), "poll", "--once")[0] == 0
    return config


@pytest.mark.parametrize(("args", "expected"), [
    (["review", "abc", "--distinct"],
     "mailroom review: argument number: a submission number is YYYYMM-NNNN (or YYYYMMNNNN), "
     "got 'abc'"),
    (["review", "201913-0001", "--distinct"], "argument number: a submission number is"),
    (["review", "201905-0001", "--duplicate", "--of", "0001"],
     "argument --of: a submission number is"),
    (["review", "201905-9999", "--distinct"], "mailroom: no submission numbered 201905-9999"),
    (["review", "2019059999", "--distinct"], "mailroom: no submission numbered 201905-9999"),
    (["review", "201905-0001", "--duplicate", "--of", "201905-9999"],
     "no submission numbered 201905-9999"),
    (["review", "201905-0001", "--duplicate"], "matches no earlier item: say which with --of"),
    (["review", "201905-0001", "--distinct", "--of", "201906-0001"], "--of goes with --duplicate"),
    (["review", "201905-0001", "--duplicate", "--of", "201906-0001"], "received after"),
    (["submissions", "list", "--month", "2019-5"], "month must be YYYY-MM, got '2019-5'"),
    (["messages", "list", "--month", "May"], "month must be YYYY-MM, got 'May'"),
    (["officers", "add", "a@example.cn", "--unit", "执法队"], "no unit named '执法队'"),
    (["officers", "add", "王芳", "--unit", "执法大队"], "'王芳' is not a mail address"),
])
def test_a_users_mistake_is_exit_2_in_one_line(
    polled: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    code, out, err = run(capsys, "--config", str(polled), *args)
    assert (code, out) == (2, "")
    assert expected in one_line(err)


def test_a_number_may_be_written_without_the_dash(
    polled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--config", str(polled), "review", "2019050001", "--distinct",
                       "--by", "刘婧")
    assert code == 0 and out.startswith("201905-0001: counted -> counted")
