"""`mailroom remind` (R12 催报) on a real database, SQLite and PostgreSQL: exactly the units
below quota (as the bulletin counts) get one mail, to their officers — the config's and the
roster's — and heads, each address once; none to a unit at quota; a unit with nobody to
mail is named; a second `--send` is refused naming when, `--force` sends again; the
scheduled job queues without committing and reminds a unit once a month; and once end to
end through the SMTP test server."""

from __future__ import annotations

import email
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import Message as MimeMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select

from mailroom.app import App
from mailroom.clock import FixedClock
from mailroom.config import load_settings
from mailroom.reminders import sending
from mailroom.store.database import make_engine
from mailroom.store.models import Message as MessageRow
from mailroom.store.models import Officer, OutgoingMail, Submission
from mailroom.vocabulary import month_of
from support.cli import restore_logging, run  # noqa: F401  (restore_logging: autouse)
from support.smtp import SmtpServer

ZONE = ZoneInfo("Asia/Shanghai")
CONFIG = """\
[database]
url = "{url}"
[storage]
path = "store"
[outbox]
path = "sent"
[maildir]
path = "inbox"
[office]
addresses = ["office@example.cn"]
name = "永宁县自然资源局"
[checks]
signed_scan = "reject"
{extra}
[[units]]
name = "办公室"
officers = ["bgs@example.cn"]
heads = ["head.bgs@example.cn"]
[[units]]
name = "自然资源综合执法大队"
aliases = ["执法大队"]
officers = ["zfdd@example.cn"]
heads = ["head.zfdd@example.cn", "ZFDD@example.cn"]
quota = 3
[[units]]
name = "国土空间规划股"
officers = ["ghg@example.cn"]
quota = 1
[[units]]
name = "耕地保护股"
[[units]]
name = "黄河生态林场"
heads = ["head.lc@example.cn"]
[[units]]
name = "望洪林业站"
quota = 0
"""

# (local receipt time, unit, status, sender, warnings, duplicate of (index) or None)
ITEMS = [
    ("2019-04-30 23:59", "自然资源综合执法大队", "counted", "zfdd@example.cn", [], None),  # April
    ("2019-05-01 00:00", "办公室", "counted", "bgs@example.cn", [], None),
    ("2019-05-06 10:00", "办公室", "suspected", "bgs@example.cn", [], 1),  # counts
    ("2019-05-08 10:00", "自然资源综合执法大队", "counted", "zfdd@example.cn", [], None),
    ("2019-05-09 10:00", "自然资源综合执法大队", "counted", "wang@example.cn", [], None),
    ("2019-05-10 10:00", "自然资源综合执法大队", "rejected", "zfdd@example.cn",
     ["signed_scan"], None),
    ("2019-05-11 10:00", "自然资源综合执法大队", "duplicate", "zfdd@example.cn", [], 1),
    ("2019-05-12 10:00", "国土空间规划股", "counted", "ghg@example.cn", [], None),
    ("2019-05-13 10:00", None, "unassigned", "who@example.cn", [], None),
    ("2019-06-01 00:00", "黄河生态林场", "counted", "lc@example.cn", [], None),  # June
]
# the roster beside the config: registered by the CLI and by a roster mail
ROSTER = [("wang@example.cn", "自然资源综合执法大队", "cli"),
          ("lc@example.cn", "黄河生态林场", "roster")]
DUE = ["自然资源综合执法大队", "耕地保护股", "黄河生态林场"]
RECIPIENTS = {
    "自然资源综合执法大队": ["zfdd@example.cn", "wang@example.cn", "head.zfdd@example.cn"],
    "黄河生态林场": ["lc@example.cn", "head.lc@example.cn"],
}
NOW = datetime(2019, 5, 20, 9, 0, tzinfo=ZONE)  # the default [schedule] reminder time


def local(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZONE).astimezone(UTC)


def populate(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for pk, (when, unit, status, sender, warnings, first) in enumerate(ITEMS, 1):
                at = local(when)
                month = month_of(at, ZONE)
                connection.execute(insert(MessageRow), [{
                    "id": pk, "mailbox": "INBOX", "uidvalidity": 1, "uid": str(pk),
                    "raw_sha256": f"{pk:064x}", "raw_size": 1, "raw_path": f"raw/{pk}",
                    "message_id": f"{pk}@example.cn", "sender": sender, "subject": "",
                    "date_header": at, "received_at": at, "kind": "submission",
                    "reason": None, "detail": {}, "processed_at": at}])
                connection.execute(insert(Submission), [{
                    "id": pk, "message_pk": pk, "number": f"{month.replace('-', '')}-{pk:04d}",
                    "month": month, "unit": unit, "unit_source": "subject",
                    "title": f"第{pk}篇信息", "sender": sender, "received_at": at,
                    "status": status, "priority": "general", "warnings": warnings,
                    "duplicate_of_id": first + 1 if first is not None else None}])
            connection.execute(insert(Officer), [{
                "address": address, "unit": unit, "name": "", "source": source,
                "registered_at": local("2019-01-01 00:00")} for address, unit, source in ROSTER])
    finally:
        engine.dispose()


def make_store(tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str,
               extra: str = "") -> Path:
    config = tmp_path / "mailroom.toml"
    config.write_text(CONFIG.format(url=url, extra=extra), encoding="utf-8")
    (tmp_path / "inbox").mkdir()
    assert run(capsys, "--config", str(config), "db", "upgrade")[0] == 0
    populate(url)
    return config


@pytest.fixture
def at_now(monkeypatch: pytest.MonkeyPatch) -> Iterator[FixedClock]:
    """The command line's clock, fixed at NOW (App.build's default clock)."""
    clock = FixedClock(NOW.astimezone(UTC))
    monkeypatch.setattr("mailroom.app.SystemClock", lambda: clock)
    yield clock


@pytest.fixture
def sqlite_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    return make_store(tmp_path, capsys, f"sqlite:///{tmp_path / 'mailroom.db'}")


def sent(config: Path) -> list[MimeMessage]:
    return [email.message_from_bytes(path.read_bytes())
            for path in sorted((config.parent / "sent").glob("*.eml"))]


def subject_of(mail: MimeMessage) -> str:
    return str(make_header(decode_header(mail["Subject"])))


def body(mail: MimeMessage, kind: str = "plain") -> str:
    part = next(p for p in mail.walk() if p.get_content_type() == f"text/{kind}")
    return str(part.get_payload(decode=True).decode("utf-8"))


def by_unit(mails: list[MimeMessage]) -> dict[str, MimeMessage]:
    """Each reminder by the unit its subject names."""
    return {subject_of(mail).removeprefix("催报：").split("2019年")[0]: mail for mail in mails}


def check_reminders(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Preview, then --send: exactly the units the bulletin has below quota, their
    officers and heads; the unit with nobody to mail named."""
    code, out, err = run(capsys, "--config", str(config), "report", "monthly", "--month",
                         "2019-05", "--format", "json")
    assert code == 0, err
    assert sorted(json.loads(out)["below_quota"]) == sorted(DUE)
    code, out, err = run(capsys, "--config", str(config), "remind", "--month", "2019-05")
    assert code == 0, err
    assert out.startswith("reminders for 2019-05 as of 2019-05-20 09:00 (Asia/Shanghai): "
                          "11 days left to 2019-05-31; bulletin 2019-05-28 09:00")
    assert "  自然资源综合执法大队: counted 2 of 3; 4 submitted, 1 short" in out
    assert "    to: zfdd@example.cn, wang@example.cn, head.zfdd@example.cn" in out
    assert "201905-0006  2019-05-10 10:00  rejected  第6篇信息" in out
    assert "201905-0007  2019-05-11 10:00  duplicate (of 201905-0002)  第7篇信息" in out
    assert "  耕地保护股: counted 0 of 2; nothing submitted, 2 short\n    to: nobody" in out
    assert ("at quota (no reminder): 办公室 2/2, 国土空间规划股 1/1, 望洪林业站 0/0"
            in out)
    assert not sent(config)  # a preview sends nothing
    code, out, err = run(capsys, "--config", str(config), "remind", "--month", "2019-05",
                         "--send")
    assert code == 0, err
    assert "not sent to 耕地保护股 (counted 0 of 2; nothing submitted): no officer or head " \
        "registered; chase it by phone" in out
    assert "2 sent" in out
    mails = by_unit(sent(config))
    assert sorted(mails) == sorted(RECIPIENTS)
    for unit, mail in mails.items():
        assert [a.strip() for a in mail["To"].split(",")] == RECIPIENTS[unit]
        assert mail["Auto-Submitted"] == "auto-generated"
        assert mail["Message-ID"].startswith("<mailroom.reminder.")
    text = body(mails["自然资源综合执法大队"])
    assert "你单位已报送信息4篇，计数2篇，月度定额3篇，尚差1篇。" in text
    assert "距月底（5月31日）还有11天" in text and "办公室将于5月28日" in text
    assert "未计数：未附分管领导签字的扫描件（pdf、jpg 或 png），请补正后重新报送" in text
    assert "重复（首报 201905-0002），不计数" in text
    assert "第9篇信息" not in text and "第1篇信息" not in text  # unassigned; April
    assert "尚未收到你单位报送的信息" in body(mails["黄河生态林场"])  # June's is not May's


def test_reminders_on_sqlite(sqlite_config: Path, capsys: pytest.CaptureFixture[str],
                             at_now: FixedClock) -> None:
    check_reminders(sqlite_config, capsys)
    args = ("--config", str(sqlite_config), "remind", "--month", "2019-05", "--send")
    at_now.advance(datetime(2019, 5, 21, 8, 0, tzinfo=UTC) - at_now.now())
    code, out, err = run(capsys, *args)  # again: refused, naming when
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "自然资源综合执法大队 reminded at 2019-05-20 09:00 by remind --send (sent)" in err
    assert "--force" in err
    code, out, err = run(capsys, *args, "--force")
    assert code == 0, err
    assert len(sent(sqlite_config)) == 4
    assert len({mail["Message-ID"] for mail in sent(sqlite_config)}) == 4
    texts = sorted(body(mail) for mail in sent(sqlite_config)
                   if "自然资源综合执法大队" in subject_of(mail))
    assert len(texts) == 2 and "距月底（5月31日）还有10天" in texts[1]  # the 21st


def test_reminders_on_postgresql(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 postgres_url: str, at_now: FixedClock) -> None:
    check_reminders(make_store(tmp_path, capsys, postgres_url), capsys)


def test_usage_and_the_default_month(sqlite_config: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["--month", "2019-13"], ["--force"], ["--month", "2999-01"]):
        code, _out, err = run(capsys, "--config", str(sqlite_config), "remind", *args)
        assert code == 2 and len(err.strip().splitlines()) == 1, args
    before = month_of(datetime.now(UTC), ZONE)
    code, out, err = run(capsys, "--config", str(sqlite_config), "remind")  # the real clock
    assert code == 0, err
    assert out.split()[2] in {before, month_of(datetime.now(UTC), ZONE)}
    code, out, err = run(capsys, "--config", str(sqlite_config), "remind", "--month", "2019-05")
    assert code == 0 and "2019-05 is over" in out  # a past month: shown, as of its end


def _app(config: Path, at: datetime) -> App:
    return App.build(load_settings(config), FixedClock(at.astimezone(UTC)))


def _reminders(app: App) -> list[tuple[str, list[str]]]:
    with app.sessions() as session:
        return [(row.message_id, row.recipients) for row in session.execute(
            select(OutgoingMail.message_id, OutgoingMail.recipients)
            .where(OutgoingMail.purpose == "reminder").order_by(OutgoingMail.id))]


def test_the_scheduled_job(sqlite_config: Path) -> None:
    app = _app(sqlite_config, NOW)
    try:
        fire = NOW.astimezone(UTC)
        with app.sessions() as session:  # queued in the session, not committed
            line = sending.scheduled_reminders(session, app.settings, app.clock, fire)
            assert session.scalar(select(func.count()).select_from(OutgoingMail)) == 2
            session.rollback()
        assert line.startswith("reminder 2019-05: 2 of 3 units below quota reminded "
                               "(5 addresses)")
        assert "1 with no address to mail (耕地保护股): chase by phone" in line
        assert _reminders(app) == []
        with app.sessions.begin() as session:
            sending.scheduled_reminders(session, app.settings, app.clock, fire)
        first = _reminders(app)
        assert [sorted(recipients) for _id, recipients in first] == [
            sorted(RECIPIENTS["自然资源综合执法大队"]), sorted(RECIPIENTS["黄河生态林场"])]
        with app.sessions.begin() as session:  # the same month again: once per unit
            line = sending.scheduled_reminders(session, app.settings, app.clock, fire)
        assert "0 of 3 units below quota reminded" in line and "2 already reminded" in line
        assert _reminders(app) == first
    finally:
        app.close()
    cli = _app(sqlite_config, datetime(2019, 5, 25, 9, 0, tzinfo=ZONE))
    try:  # by hand, later: refused for the units the schedule reminded, naming when
        with cli.sessions.begin() as session:
            reminders = sending.records.load(session, cli.settings, "2019-05", cli.clock.now())
            outcome = sending.queue_reminders(session, cli.settings, cli.clock, reminders,
                                              origin=sending.CLI)
        assert [unit.unit for unit, _before in outcome.already] == [
            "自然资源综合执法大队", "黄河生态林场"]
        assert outcome.already[0][1][0].origin == sending.SCHEDULE
    finally:
        cli.close()
    june = _app(sqlite_config, datetime(2019, 6, 1, 0, 5, tzinfo=ZONE))
    try:  # a May run made up in June: the month is over, nothing queued
        with june.sessions.begin() as session:
            line = sending.scheduled_reminders(session, june.settings, june.clock, fire)
        assert line == "reminder: 2019-05 is over; no reminders"
        assert _reminders(june) == first
    finally:
        june.close()


def test_a_manual_reminder_does_not_stop_the_scheduled_one(sqlite_config: Path) -> None:
    app = _app(sqlite_config, datetime(2019, 5, 10, 9, 0, tzinfo=ZONE))
    try:
        with app.sessions.begin() as session:
            reminders = sending.records.load(session, app.settings, "2019-05", app.clock.now())
            sending.queue_reminders(session, app.settings, app.clock, reminders,
                                    origin=sending.CLI)
        assert isinstance(app.clock, FixedClock)
        app.clock.advance(NOW - datetime(2019, 5, 10, 9, 0, tzinfo=ZONE))
        with app.sessions.begin() as session:
            line = sending.scheduled_reminders(session, app.settings, app.clock, NOW)
        assert "2 of 3 units below quota reminded" in line
        assert len(_reminders(app)) == 4
    finally:
        app.close()


def test_end_to_end_through_smtp(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 smtp_server: SmtpServer, at_now: FixedClock,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", smtp_server.password)
    smtp = (f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_server.port}\n'
            f'security = "{smtp_server.security}"\nusername = "{smtp_server.username}"\n'
            f'password_env = "TEST_SMTP_PASSWORD"\nca_file = "{smtp_server.ca_file}"\n'
            f'sender = "{smtp_server.username}"\nmax_per_minute = 100\n')
    config = make_store(tmp_path, capsys, f"sqlite:///{tmp_path / 'mailroom.db'}", smtp)
    code, out, err = run(capsys, "--config", str(config), "remind", "--send")  # this month
    assert code == 0, err
    assert "2 sent" in out
    received = {tuple(sorted(r.rcpt_tos)): r.message for r in smtp_server.received}
    assert sorted(received) == sorted(tuple(sorted(a)) for a in RECIPIENTS.values())
    for message in received.values():
        assert message["From"].addresses[0].addr_spec == smtp_server.username
        text = message.get_body(("plain",)).get_content()
        assert f"发送至信息报送邮箱{smtp_server.username}" in text
        assert text.rstrip().endswith("不要直接回复本邮件。")
        assert "永宁县自然资源局办公室\n2019年5月20日" in text
