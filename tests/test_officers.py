"""`mailroom officers list|add|remove` (R7): the roster from the CLI, and its effect on polls."""

from __future__ import annotations

import getpass
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from support.cli import maildir_config, restore_logging, run  # noqa: F401  (restore_logging: autouse)
from support.mail import deliver, make_mail

CST = timezone(timedelta(hours=8))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return maildir_config(tmp_path,
                          '[[units]]\nname = "自然资源综合执法大队"\naliases = ["执法大队"]\n'
                          'officers = ["ZFDD@example.cn"]\n'
                          '[[units]]\nname = "国土空间规划股"\n')


def officers(capsys: pytest.CaptureFixture[str], config: Path) -> list[dict[str, str]]:
    code, out, _ = run(capsys, "--config", str(config), "officers", "list", "--format", "json")
    assert code == 0
    return list(json.loads(out))


def test_list_shows_the_config_roster_before_any_poll(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    run(capsys, "--config", str(config), "db", "upgrade")
    rows = officers(capsys, config)
    assert [(r["address"], r["unit"], r["source"]) for r in rows] == [
        ("zfdd@example.cn", "自然资源综合执法大队", "config")]
    assert set(rows[0]) == {"address", "unit", "name", "source", "registered_at",
                            "registered_by"}
    assert rows[0]["registered_at"].endswith("+08:00") and rows[0]["registered_by"] is None


def test_add_by_alias_then_move_then_remove(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    run(capsys, "--config", str(config), "db", "upgrade")
    code, out, _ = run(capsys, "--config", str(config), "officers", "add", "Wang@Example.cn",
                       "--unit", "执法大队", "--name", "王芳")
    assert (code, out.strip()) == (0, "registered wang@example.cn for 自然资源综合执法大队")
    code, _, _ = run(capsys, "--config", str(config), "officers", "add", "wang@example.cn",
                     "--unit", "国土空间规划股")
    assert code == 0
    row = next(r for r in officers(capsys, config) if r["address"] == "wang@example.cn")
    assert (row["unit"], row["name"], row["source"]) == ("国土空间规划股", "王芳", "cli")
    assert row["registered_by"] == getpass.getuser()  # the login name, as for decisions

    code, text, _ = run(capsys, "--config", str(config), "officers", "list")
    assert "wang@example.cn" in text and text.rstrip().endswith("2 officers")

    code, out, _ = run(capsys, "--config", str(config), "officers", "remove", "wang@example.cn")
    assert code == 0 and "removed wang@example.cn" in out
    assert [r["address"] for r in officers(capsys, config)] == ["zfdd@example.cn"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "a@example.cn", "--unit", "执法队"], "no unit named '执法队'"),
        (["add", "not-an-address", "--unit", "执法大队"], "is not a mail address"),
        (["remove", "nobody@example.cn"], "is not a registered officer"),
        (["remove", "zfdd@example.cn"], "remove it there"),
    ],
)
def test_bad_requests_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], config: Path, args: list[str], message: str
) -> None:
    run(capsys, "--config", str(config), "db", "upgrade")
    code, out, err = run(capsys, "--config", str(config), "officers", *args)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_reporter_added_on_the_cli_gets_credit_for_subjectless_units(
    capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path
) -> None:
    run(capsys, "--config", str(config), "db", "upgrade")
    run(capsys, "--config", str(config), "officers", "add", "ghg@example.cn", "--unit",
        "国土空间规划股")
    deliver(tmp_path / "inbox", make_mail("关于开展国土空间规划宣传周活动的信息",
                                          sender="ghg@example.cn"),
            datetime(2019, 5, 8, 9, 30, tzinfo=CST))
    assert run(capsys, "--config", str(config), "poll", "--once")[0] == 0
    code, out, _ = run(capsys, "--config", str(config), "submissions", "list", "--format",
                       "json")
    [row] = json.loads(out)
    assert (row["unit"], row["status"]) == ("国土空间规划股", "counted")
    assert "unit_from_sender" in row["warnings"] and "unknown_sender" not in row["warnings"]


def test_officers_needs_a_schema(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, _, err = run(capsys, "--config", str(config), "officers", "list")
    assert code == 1 and "db upgrade" in err
