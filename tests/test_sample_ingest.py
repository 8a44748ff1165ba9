"""The bundled sample month, through Dovecot and through the Maildir demo path, checked
message by message against what its generator says each mail is."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from mailroom.app import App
from mailroom.config import load_settings
from mailroom.daemon import poll_once
from mailroom.listing import message_rows, submission_rows
from mailroom.sample.generate import SAMPLE_DIR, sample_mails
from mailroom.store.database import upgrade
from mailroom.store.models import Message, OutgoingMail
from support.dovecot import ImapAccount

SAMPLE_CONFIG = SAMPLE_DIR / "mailroom.toml"
SAMPLE_MAILDIR = SAMPLE_DIR / "maildir"


def expected_submissions() -> list[dict[str, Any]]:
    mails = sorted((m for m in sample_mails() if m.kind == "submission"),
                   key=lambda m: m.received_at)
    return [{"unit": m.unit, "title": m.title, "priority": m.priority,
             "attachments": list(m.attachments), "sender": m.sender,
             "received_at": m.received_at.isoformat()} for m in mails]


def check_against_generator(app: App) -> None:
    with app.sessions() as session:
        submissions = submission_rows(session, None, app.settings.zone)
        messages = message_rows(session, None, app.settings.zone)
    got = [{key: row[key] for key in ("unit", "title", "priority", "attachments", "sender",
                                      "received_at")} for row in submissions]
    assert got == expected_submissions()
    assert [m["kind"] for m in messages] == [m.kind for m in sorted(
        sample_mails(), key=lambda m: m.received_at)]
    numbers = [row["number"] for row in submissions]
    assert numbers == [f"201905-{n:04d}" for n in range(1, 24)] + ["201906-0001"]
    by_number = {row["number"]: row for row in submissions}
    expected_status = {"201905-0019": "unassigned",
                       "201905-0010": "duplicate",     # m13: re-send of m12, one number changed
                       "201905-0012": "duplicate"}     # m15: m14's meeting retold by another
                                                       # unit: the same facts (R3, retold)
    assert {n: r["status"] for n, r in by_number.items()} == {
        n: expected_status.get(n, "counted") for n in by_number}
    assert by_number["201905-0010"]["duplicate_of"] == "201905-0009"
    assert by_number["201905-0012"]["duplicate_of"] == "201905-0011"
    assert by_number["201905-0010"]["score"] >= 90


def test_sample_month_through_imap(
    make_app: Callable[..., App], imap_account: ImapAccount, tmp_path: Path
) -> None:
    sample_settings = load_settings(SAMPLE_CONFIG)
    units = [unit.model_dump() for unit in sample_settings.units]
    with imap_account.client() as client:
        for mail in sample_mails():
            client.append("INBOX", mail.raw, msg_time=mail.received_at)
    app = make_app(units=units, office=sample_settings.office.model_dump(),
                   imap={"host": "127.0.0.1", "port": imap_account.settings().port,
                         "security": "plain", "username": imap_account.username,
                         "password": imap_account.password})
    report = poll_once(app)
    assert report.fetched == len(sample_mails())
    assert imap_account.count("INBOX") == 0
    assert imap_account.count("mailroom/processed") == len(sample_mails())
    check_against_generator(app)


def test_sample_month_through_the_demo_maildir(tmp_path: Path) -> None:
    run_sample_month(tmp_path, SAMPLE_CONFIG.read_text(encoding="utf-8"))


def run_sample_month(folder: Path, config: str) -> None:
    """The bundled Maildir and this config in `folder`: one poll, then every check; a second
    poll finds nothing."""
    shutil.copytree(SAMPLE_MAILDIR, folder / "maildir")
    (folder / "mailroom.toml").write_text(config, encoding="utf-8")
    app = App.build(load_settings(folder / "mailroom.toml"))
    try:
        upgrade(app.engine)
        poll_once(app)
        check_against_generator(app)
        check_outbox(app, folder / "var" / "sent")
        assert poll_once(app).fetched == 0
    finally:
        app.close()


def check_outbox(app: App, sent: Path) -> None:
    """Every submission's receipt decision is recorded, and every queued mail was written."""
    with app.sessions() as session:
        rows = session.scalars(select(OutgoingMail)).all()
        submissions = session.scalars(select(Message).where(Message.kind == "submission")).all()
    assert {row.status for row in rows} == {"sent"}
    assert sorted(p.name for p in sent.iterdir()) == sorted(f"{r.message_id}.eml" for r in rows)
    receipts = {row.source_pk for row in rows if row.purpose == "receipt"}
    for message in submissions:
        assert message.id in receipts or message.detail["receipt"].startswith("none: ")


def test_sample_month_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    config = SAMPLE_CONFIG.read_text(encoding="utf-8")
    assert 'url = "sqlite:///var/mailroom.db"' in config
    run_sample_month(tmp_path, config.replace('url = "sqlite:///var/mailroom.db"',
                                              f'url = "{postgres_url}"'))
