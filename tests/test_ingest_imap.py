"""End to end: mail APPENDed to a real Dovecot, ingested by the pipeline, checked in the DB."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from mailroom.app import App
from mailroom.daemon import poll_once
from mailroom.listing import message_rows, submission_rows
from mailroom.mailbox.imap import ImapSource
from mailroom.store.models import Message
from support.dovecot import ImapAccount
from support.mail import make_mail

CST = timezone(timedelta(hours=8))
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
NOT_MAIL = {"README.md", "LICENSE", "LICENSE.txt", "NOTICE.txt", "MIT-LICENSE", ".gitattributes"}
PROCESSED, FAILED = "mailroom/processed", "mailroom/failed"


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared mail corpus is missing: {CORPUS}")
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name not in NOT_MAIL)


def imap_section(account: ImapAccount) -> dict[str, Any]:
    settings = account.settings()
    return {"host": settings.host, "port": settings.port, "security": "plain",
            "username": account.username, "password": account.password}


def imap_app(make_app: Callable[..., App], account: ImapAccount, **sections: Any) -> App:
    return make_app(imap=imap_section(account), **sections)


def folder_total(account: ImapAccount) -> int:
    names = account.folders()
    return sum(account.count(name) for name in names)


def test_every_corpus_mail_ends_recorded_or_failed_with_reason(
    make_app: Callable[..., App], imap_account: ImapAccount
) -> None:
    files = corpus_files()
    assert len(files) == 183
    start = datetime(2019, 5, 1, 8, tzinfo=CST)
    with imap_account.client() as client:
        for index, path in enumerate(files):
            client.append("INBOX", path.read_bytes(), msg_time=start + timedelta(minutes=index))
    app = imap_app(make_app, imap_account)
    before = folder_total(imap_account)
    reports = [poll_once(app) for _ in range(3)]  # failures are retried twice, then filed
    assert reports[0].fetched == len(files)
    assert imap_account.count("INBOX") == 0
    assert folder_total(imap_account) == before == len(files)
    processed = imap_account.count(PROCESSED)
    failed = imap_account.count(FAILED)
    assert processed + failed == len(files)
    # what the server holds (it hands out CRLF line ends) is what must be kept, byte for byte
    held = imap_account.messages(PROCESSED) + imap_account.messages(FAILED)
    held_by_hash = {hashlib.sha256(raw).hexdigest(): raw for raw in held}
    with app.sessions() as session:
        recorded = session.scalars(select(Message)).all()
        assert {m.raw_sha256 for m in recorded} == set(held_by_hash)
        for message in recorded:
            assert app.files.read(message.raw_path) == held_by_hash[message.raw_sha256]
            if message.kind == "failed":
                assert message.reason
    kinds = {m.kind for m in recorded}
    assert kinds <= {"submission", "bounce", "auto-reply", "list", "failed"}
    assert {"submission", "bounce"} <= kinds
    assert failed == sum(1 for m in recorded if m.kind == "failed")
    kind_by_content = {_lines(held_by_hash[m.raw_sha256]): m.kind for m in recorded}
    for path in files:  # the delivery reports of the corpus are never submissions
        if "multipart_report_emails" in str(path) or path.name == "example_bounce.eml":
            assert kind_by_content[_lines(path.read_bytes())] == "bounce", path


def _lines(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").rstrip(b"\n")


def test_second_poll_changes_nothing(
    make_app: Callable[..., App], imap_account: ImapAccount
) -> None:
    app = imap_app(make_app, imap_account)
    at = datetime(2019, 5, 20, 9, tzinfo=CST)
    for index in range(3):
        imap_account.append(make_mail(f"执法大队+第{index}次巡查"), at + timedelta(hours=index))
    assert poll_once(app).kinds == {"submission": 3}
    with app.sessions() as session:
        before = submission_rows(session, None, app.settings.zone)
    second = poll_once(app)
    assert second.fetched == 0
    with app.sessions() as session:
        assert submission_rows(session, None, app.settings.zone) == before
    assert imap_account.count(PROCESSED) == 3 and imap_account.count("INBOX") == 0


def test_internaldate_decides_the_month_not_the_date_header(
    make_app: Callable[..., App], imap_account: ImapAccount
) -> None:
    app = imap_app(make_app, imap_account)
    raw = make_mail("执法大队+五月最后一天的巡查", date=datetime(2019, 5, 31, 23, 58, tzinfo=CST))
    imap_account.append(raw, datetime(2019, 6, 1, 0, 5, tzinfo=CST))
    imap_account.append(make_mail("执法大队+五月的信息"), datetime(2019, 5, 31, 23, 0, tzinfo=CST))
    poll_once(app)
    with app.sessions() as session:
        rows = submission_rows(session, None, app.settings.zone)
    assert [(r["number"], r["received_at"]) for r in rows] == [
        ("201905-0001", "2019-05-31T23:00:00+08:00"),
        ("201906-0001", "2019-06-01T00:05:00+08:00"),
    ]


class DiesBeforeMove(ImapSource):
    def mark_processed(self, keys: object) -> None:
        raise KeyboardInterrupt("killed after the commit, before the MOVE")


def test_killed_between_commit_and_move_records_once(
    make_app: Callable[..., App], imap_account: ImapAccount
) -> None:
    app = imap_app(make_app, imap_account)
    imap_account.append(make_mail("执法大队+开展执法检查"), datetime(2019, 5, 6, 9, tzinfo=CST))
    assert app.settings.imap is not None
    dying = DiesBeforeMove(app.settings.imap)
    try:
        with pytest.raises(KeyboardInterrupt):
            app.pipeline().run_pass(dying)
    finally:
        dying.close()
    assert imap_account.count("INBOX") == 1
    report = poll_once(app)
    assert report.outcomes[0].already_recorded
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 1
    assert imap_account.count("INBOX") == 0 and imap_account.count(PROCESSED) == 1


def test_cli_end_to_end_against_dovecot(tmp_path: Path, imap_account: ImapAccount) -> None:
    config = tmp_path / "mailroom.toml"
    config.write_text(
        "[imap]\n"
        f'host = "127.0.0.1"\nport = {imap_account.settings().port}\nsecurity = "plain"\n'
        f'username = "{imap_account.username}"\npassword_env = "TEST_IMAP_PASSWORD"\n'
        '[[units]]\nname = "自然资源综合执法大队"\naliases = ["执法大队"]\n'
        '[[units]]\nname = "国土空间规划股"\n',
        encoding="utf-8",
    )
    imap_account.append(make_mail("执法大队+开展违法用地专项整治", attachments=[
        ("执法大队+开展违法用地专项整治.docx", b"PK"), ("签字稿.pdf", b"%PDF")]),
        datetime(2019, 5, 8, 9, 30, tzinfo=CST))
    imap_account.append(make_mail("自动回复：收到", headers={"Auto-Submitted": "auto-replied"}),
                        datetime(2019, 5, 8, 9, 31, tzinfo=CST))
    env = {**os.environ, "TEST_IMAP_PASSWORD": imap_account.password}

    def mailroom(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "mailroom", "--config", str(config), *args],
                              capture_output=True, text=True, env=env, timeout=120)

    polled = mailroom("poll", "--once")  # no `db upgrade` first: an empty database is set up
    assert polled.returncode == 0, polled.stderr
    assert imap_account.password not in polled.stderr + polled.stdout
    listed = mailroom("submissions", "list", "--month", "2019-05", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert row["number"] == "201905-0001" and row["unit"] == "自然资源综合执法大队"
    assert row["title"] == "开展违法用地专项整治"
    assert row["attachments"] == ["执法大队+开展违法用地专项整治.docx", "签字稿.pdf"]
    messages = json.loads(mailroom("messages", "list", "--format", "json").stdout)
    assert [m["kind"] for m in messages] == ["submission", "auto-reply"]
    assert set(messages[0]) == {"received_at", "sender", "subject", "kind", "number", "reason",
                                "message_id"}
    checked = mailroom("check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "ok   imap" in checked.stdout
    assert imap_account.password not in checked.stdout + checked.stderr
    env["TEST_IMAP_PASSWORD"] = "wrong-password-123"
    failed = mailroom("check")
    assert failed.returncode == 1 and "FAIL imap" in failed.stdout
    assert "wrong-password-123" not in failed.stdout + failed.stderr


def test_messages_list_reports_kinds_of_one_month(
    make_app: Callable[..., App], imap_account: ImapAccount
) -> None:
    app = imap_app(make_app, imap_account)
    imap_account.append(make_mail("望洪林业站+信息员张三", sender="new@126.com"),
                        datetime(2019, 5, 3, 9, tzinfo=CST))
    imap_account.append(make_mail("开展春季造林", sender="new@126.com"),
                        datetime(2019, 5, 3, 10, tzinfo=CST))
    imap_account.append(make_mail("开展春季造林（四月）", sender="new@126.com"),
                        datetime(2019, 4, 30, 10, tzinfo=CST))
    poll_once(app)
    with app.sessions() as session:
        may = message_rows(session, "2019-05", app.settings.zone)
        april = submission_rows(session, "2019-04", app.settings.zone)
    assert [(m["kind"], m["number"]) for m in may] == [("roster", None),
                                                       ("submission", "201905-0001")]
    # April's mail came before the roster mail: nobody's unit yet
    assert april[0]["status"] == "unassigned"
