"""deploy/: the systemd units (hardening figure, verify), `mailroom run` in the unit's
environment (credentials directory, notify socket, watchdog), `poll --once` and the console
(`mailroom web`, a login) under MemoryDenyWriteExecute, and the backup / restore that
deploy/README.md describes."""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tarfile
import tomllib
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

import mailroom
from mailroom.config.sections import WebSettings
from support.browser import set_listen
from support.cli import restore_logging, run  # noqa: F401  (restore_logging: autouse)
from support.dovecot import HOST, ImapAccount
from support.mail import make_mail
from support.postgres import free_port
from support.process import Mailroom
from support.web import OFFICE, PASSWORD, Site

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "deploy" / "mailroom.service"
SAMPLE = Path(mailroom.__file__).parent / "sample"
INSTALLED = "/opt/mailroom/venv/bin/mailroom"  # where deploy/README.md installs it


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("systemd-analyze")
    assert binary, "systemd-analyze is missing: apt-get install systemd (scripts/setup)"
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=60)


# each unit and how many lines name the installed `mailroom` (ExecStartPre=, ExecStart=)
UNITS = {"mailroom.service": 2, "mailroom-web.service": 1}


@pytest.mark.parametrize("name", UNITS)
def test_the_unit_is_hardened_to_an_exposure_of_at_most_2(name: str) -> None:
    done = analyze("security", "--offline=yes", str(UNIT.parent / name))
    found = re.search(rf"Overall exposure level for {re.escape(name)}: (\d+\.\d+)", done.stdout)
    assert found, done.stdout + done.stderr
    assert float(found.group(1)) <= 2.0, done.stdout


@pytest.mark.parametrize("name", UNITS)
def test_the_unit_verifies_clean(tmp_path: Path, name: str) -> None:
    """verify checks that ExecStart= exists: the unit names the venv deploy/README.md
    installs into (/opt/mailroom/venv), which this machine lacks, so the copy verified
    names this checkout's `mailroom` there instead; every other line is the unit's own."""
    here = shutil.which("mailroom", path=str(Path(sys.executable).parent))
    assert here
    text = (UNIT.parent / name).read_text(encoding="utf-8")
    assert text.count(INSTALLED) == UNITS[name]
    copy = tmp_path / name
    copy.write_text(text.replace(INSTALLED, here), encoding="utf-8")
    done = analyze("verify", str(copy))
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr


def test_the_console_runs_as_the_daemon_does() -> None:
    """The console's unit: the daemon's user, state folder, config and environment, so
    both see the same database, store and [web] secret_file."""
    daemon, web = unit_settings(UNIT), unit_settings(UNIT.parent / "mailroom-web.service")
    for key in ("Type", "NotifyAccess", "User", "Group", "StateDirectory", "WorkingDirectory",
                "Environment", "UMask", "ProtectSystem", "MemoryDenyWriteExecute",
                "SystemCallFilter"):
        assert web[key] == daemon[key], key
    assert web["ExecStart"] == [f"{INSTALLED} web"]


def unit_settings(path: Path) -> dict[str, list[str]]:
    """Each key of a unit file with its values in order (comments and sections left out)."""
    found: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def test_the_readmes_console_settings_fit_the_unit_and_nginx() -> None:
    """deploy/README.md's [web] block: valid, the secret in the unit's state folder (the only
    place it may write), the address nginx proxies to, cookies Secure behind TLS, and as
    many trusted proxies as nginx sets X-Forwarded-* headers."""
    readme = (ROOT / "deploy" / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(\[web\]\n.*?)```", readme, re.S)
    nginx = re.search(r"```nginx\n(.*?)```", readme, re.S)
    assert block and nginx
    web = WebSettings.model_validate(tomllib.loads(block.group(1))["web"])
    state = Path("/var/lib") / unit_settings(UNIT.parent / "mailroom-web.service")[
        "StateDirectory"][0]
    assert Path(web.secret_file).parent == state
    assert f"proxy_pass http://{web.listen};" in nginx.group(1)
    assert web.secure_cookies and web.trusted_proxies == 1
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"):
        assert f"proxy_set_header {header}" in nginx.group(1)
    assert "return 301 https://" in nginx.group(1) and "Strict-Transport-Security" in readme


def unit_environment() -> dict[str, str]:
    """Environment= lines of the unit."""
    return dict(line.removeprefix("Environment=").split("=", 1)
                for line in UNIT.read_text(encoding="utf-8").splitlines()
                if line.startswith("Environment="))


def test_run_in_the_units_environment_notifies_systemd_and_logs_no_secret(
    tmp_path: Path, imap_account: ImapAccount
) -> None:
    credentials = tmp_path / "credentials"  # what LoadCredential=imap:… makes
    credentials.mkdir(mode=0o700)
    (credentials / "imap").write_text(imap_account.password + "\n", encoding="utf-8")
    config = tmp_path / "mailroom.toml"
    config.write_text(
        '[database]\nurl = "sqlite:///var/mailroom.db"\n[storage]\npath = "var/store"\n'
        f'[imap]\nhost = "{HOST}"\nport = {imap_account.server.port}\nsecurity = "plain"\n'
        f'username = "{imap_account.username}"\n'
        'password_file = "${CREDENTIALS_DIRECTORY}/imap"\n'
        '[office]\naddresses = ["office@example.cn"]\n'
        '[[units]]\nname = "自然资源综合执法大队"\naliases = ["执法大队"]\n', encoding="utf-8")
    imap_account.append(make_mail("执法大队+单位环境下的信息"), datetime(2019, 5, 6, tzinfo=UTC))
    notify = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(str(notify))
        listener.settimeout(60)
        env = {**unit_environment(), "CREDENTIALS_DIRECTORY": str(credentials),
               "NOTIFY_SOCKET": str(notify), "WATCHDOG_USEC": "2000000",
               "JOURNAL_STREAM": "8:12345", "MAILROOM_CONFIG": str(config)}
        daemon = Mailroom(config, "--verbose", "run", env=env)
        try:
            assert listener.recv(100) == b"READY=1"
            assert listener.recv(100) == b"WATCHDOG=1"  # pinged within half the period
            assert daemon.wait_for_log("recorded uid 1 as submission 201905-0001"), daemon.err
            daemon.signal(signal.SIGTERM)
            states = []
            while (state := listener.recv(100)) != b"STOPPING=1":
                states.append(state)
            assert set(states) <= {b"WATCHDOG=1"}
            assert daemon.wait(timeout=30) == 0, daemon.err
        finally:
            daemon.kill()
    assert imap_account.password not in daemon.err + daemon.out
    assert "DEBUG" in daemon.err  # --verbose: the detail is there, the secret is not
    lines = daemon.err.splitlines()
    odd = [line for line in lines if not re.match(r"<[0-7]>", line)]  # journald priorities
    assert lines and not odd, odd


def set_memory_deny_write_execute() -> None:
    """What MemoryDenyWriteExecute=yes does (systemd ≥ 253 uses this very prctl)."""
    PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_MDWE)")


def test_the_console_in_its_units_environment_under_memory_deny_write_execute(
    site: Site,
) -> None:
    """`mailroom web` as mailroom-web.service starts it (its environment, the notify socket,
    W^X memory refused: Argon2 and waitress must not need it): READY=1, a login through
    the form with its CSRF token, then SIGTERM: STOPPING=1, exit 0, journald lines only."""
    port = free_port()
    set_listen(site.config, f"127.0.0.1:{port}")
    code = ("import sys, test_deploy; test_deploy.set_memory_deny_write_execute(); "
            "from mailroom.cli import main; sys.exit(main(sys.argv[1:]))")
    notify = site.folder / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(str(notify))
        listener.settimeout(60)
        env = {**os.environ, **unit_environment(), "MAILROOM_CONFIG": str(site.config),
               "NOTIFY_SOCKET": str(notify), "JOURNAL_STREAM": "8:12345",
               "PYTHONPATH": str(Path(__file__).parent)}
        console = subprocess.Popen([sys.executable, "-c", code, "web"], env=env, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert listener.recv(100) == b"READY=1"
            page = log_in_over_http(f"http://127.0.0.1:{port}", OFFICE, PASSWORD)
            assert f"{OFFICE}（办公室）" in page
            console.send_signal(signal.SIGTERM)
            assert listener.recv(100) == b"STOPPING=1"
            out, err = console.communicate(timeout=30)
        finally:
            console.kill()
    assert console.returncode == 0, err
    assert PASSWORD not in out + err and "Traceback" not in err
    lines = err.splitlines()
    assert any("logged in" in line for line in lines), err
    assert lines and all(re.match(r"<[0-7]>", line) for line in lines), err


def log_in_over_http(base: str, name: str, password: str) -> str:
    """The login form posted as a browser does (its cookie and CSRF token); the page after."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    with opener.open(base + "/login", timeout=30) as response:
        form = response.read().decode("utf-8")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token, form
    data = urllib.parse.urlencode({"csrf_token": token.group(1), "name": name,
                                   "password": password, "next": "/"}).encode()
    with opener.open(base + "/login", data=data, timeout=30) as response:
        # "/" may go on to the latest month with items (`?month=`): the month page's choice
        assert response.status == 200 and response.url.split("?")[0] == base + "/"
        page: str = response.read().decode("utf-8")
    return page


def test_backup_and_restore_under_memory_deny_write_execute(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sample month (PDF and .docx attachments: pypdf, numpy) processed with W^X memory
    refused; then backed up as deploy/README.md says and restored into a new folder."""
    site = tmp_path / "site"
    site.mkdir()
    shutil.copytree(SAMPLE / "maildir", site / "maildir")
    shutil.copy(SAMPLE / "mailroom.toml", site / "mailroom.toml")
    code = ("import sys, test_deploy; test_deploy.set_memory_deny_write_execute(); "
            "from mailroom.cli import main; sys.exit(main(sys.argv[1:]))")
    polled = subprocess.run(
        [sys.executable, "-c", code, "--config", str(site / "mailroom.toml"), "poll", "--once"],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent)})
    assert polled.returncode == 0, polled.stderr
    assert polled.stdout.startswith("28 mails: auto-reply 1, bounce 1, roster 2, submission 24;")
    assert "failed" not in polled.stdout.split(";")[0]
    # a summary, not a line per mail (--verbose brings them back: the `run` test above)
    assert "recorded uid" not in polled.stderr and "outbox: sent" not in polled.stderr

    backup = tmp_path / "backup"  # deploy/README.md, "Back up"
    backup.mkdir()
    subprocess.run(["sqlite3", str(site / "var" / "mailroom.db"),
                    f".backup '{backup / 'mailroom.db'}'"], check=True, timeout=60)
    with tarfile.open(backup / "store.tar.gz", "w:gz") as archive:
        archive.add(site / "var" / "store", arcname="store")

    restored = tmp_path / "restored"  # deploy/README.md, "Restore"
    (restored / "var").mkdir(parents=True)
    shutil.copy(backup / "mailroom.db", restored / "var" / "mailroom.db")
    with tarfile.open(backup / "store.tar.gz") as archive:
        archive.extractall(restored / "var", filter="data")
    shutil.copy(site / "mailroom.toml", restored / "mailroom.toml")

    def listed(folder: Path) -> list[dict[str, object]]:
        code, out, err = run(capsys, "--config", str(folder / "mailroom.toml"), "submissions",
                             "list", "--format", "json")
        assert code == 0, err
        rows: list[dict[str, object]] = json.loads(out)
        return rows

    before = listed(site)
    assert len(before) == 24 and listed(restored) == before
    with sqlite3.connect(restored / "var" / "mailroom.db") as connection:
        raws = list(connection.execute("SELECT raw_path, raw_sha256 FROM messages"))
    assert len(raws) == 28
    store = restored / "var" / "store"
    for path, digest in raws:
        assert hashlib.sha256((store / path).read_bytes()).hexdigest() == digest
