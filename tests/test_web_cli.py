"""`mailroom web user add|remove|list` and the console's secret file."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest

from mailroom.errors import ConfigError
from mailroom.web import users
from mailroom.web.serve import load_secret
from support.cli import run
from support.web import Site


def test_user_add_list_remove(site: Site, capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    config = str(site.config)
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-enough\n"))
    code, out, err = run(capsys, "--config", config, "web", "user", "add", "王芳", "--role",
                         "viewer")
    assert (code, err) == (0, "")
    assert out.strip() == "added console user 王芳 (viewer)"
    assert "s3cret" not in out
    code, out, _ = run(capsys, "--config", config, "web", "user", "list", "--format", "json")
    listed = {row["name"]: row["role"] for row in json.loads(out)}
    assert listed == {"刘婧": "office", "伍庭利": "viewer", "王芳": "viewer"}
    with site.app.sessions() as session:
        assert users.authenticate(session, "王芳", "s3cret-enough") is not None
        stored = [row.password_hash for row in users.list_users(session) if row.name == "王芳"]
    assert stored[0].startswith("$argon2id$")
    monkeypatch.setattr("sys.stdin", io.StringIO("another-password\n"))
    code, out, _ = run(capsys, "--config", config, "web", "user", "add", "王芳", "--role",
                       "office")
    assert out.strip() == "updated console user 王芳 (office); their sessions ended"
    code, out, _ = run(capsys, "--config", config, "web", "user", "remove", "王芳")
    assert (code, out.strip()) == (0, "removed console user 王芳 (office); their sessions ended")
    code, _, err = run(capsys, "--config", config, "web", "user", "remove", "王芳")
    assert (code, err.strip()) == (2, "mailroom: no console user named '王芳'")


def test_user_add_refuses_a_short_or_missing_password(
        site: Site, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for given, said in (("short\n", "at least 8 characters"), ("", "no password on standard")):
        monkeypatch.setattr("sys.stdin", io.StringIO(given))
        code, out, err = run(capsys, "--config", str(site.config), "web", "user", "add", "王芳",
                             "--role", "office")
        assert code == 2 and said in err and len(err.splitlines()) == 1
    code, _, err = run(capsys, "--config", str(site.config), "web", "user", "add", "王芳",
                       "--role", "boss")
    assert code == 2 and "invalid choice" in err
    code, _, err = run(capsys, "--config", str(site.config), "web", "user", "add", "王芳",
                       "--role", "office", "--password", "x")
    assert code == 2 and "unrecognized arguments" in err


def test_secret_file_is_made_owner_only_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "web.secret"
    first = load_secret(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(first) == 64
    assert load_secret(path) == first  # sessions survive a restart
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        load_secret(path)


def test_listen_must_be_host_and_port(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      site: Site) -> None:
    text = site.config.read_text(encoding="utf-8") + '\n[web]\nlisten = "8025"\n'
    site.config.write_text(text, encoding="utf-8")
    code, _, err = run(capsys, "--config", str(site.config), "web")
    assert code == 2 and "listen must be host:port" in err
