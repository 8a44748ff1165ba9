"""The pipeline on a real SQLite database and a Maildir inbox."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from mailroom.app import App
from mailroom.daemon import poll_once
from mailroom.errors import StoreError
from mailroom.listing import message_rows, submission_rows
from mailroom.mailbox.base import FetchedMail, MailKey
from mailroom.mailbox.maildir import MaildirSource
from mailroom.pipeline import Pipeline
from mailroom.store.models import Message, Officer, ProcessingFailure, Submission
from support.mail import deliver, maildir_files, make_mail

CST = timezone(timedelta(hours=8))
DOCX = b"PK\x03\x04 fake docx"


def inbox(app: App) -> Path:
    assert app.settings.maildir is not None
    return Path(app.settings.maildir.path)


def rows(app: App, month: str | None = None) -> list[dict[str, object]]:
    with app.sessions() as session:
        return submission_rows(session, month, app.settings.zone)


def test_submission_recorded_numbered_and_filed(make_app: Callable[..., App]) -> None:
    app = make_app()
    title = "开展违法用地专项整治行动"
    raw = make_mail(f"自然资源综合执法大队+{title}", attachments=[
        (f"自然资源综合执法大队+{title}.docx", DOCX), ("签字稿.pdf", b"%PDF-1.4")])
    deliver(inbox(app), raw, datetime(2019, 5, 8, 9, 30, tzinfo=CST))
    report = poll_once(app)
    assert report.kinds == {"submission": 1}
    [row] = rows(app)
    assert row == {
        "number": "201905-0001", "unit": "自然资源综合执法大队", "title": title,
        "sender": "zfdd@example.cn", "received_at": "2019-05-08T09:30:00+08:00",
        "status": "counted", "duplicate_of": None, "score": None, "priority": "general",
        "attachments": [f"自然资源综合执法大队+{title}.docx", "签字稿.pdf"], "warnings": [],
    }
    assert maildir_files(inbox(app)) == []
    assert len(maildir_files(inbox(app), ".mailroom.processed")) == 1
    with app.sessions() as session:
        message = session.scalars(select(Message)).one()
        assert app.files.read(message.raw_path) == raw
        assert [app.files.read(a.stored_path) for a in message.attachments] == [
            DOCX, b"%PDF-1.4"]


def test_month_is_received_time_in_zone_not_date_header(make_app: Callable[..., App]) -> None:
    app = make_app()
    raw = make_mail("执法大队+月末最后一条信息", date=datetime(2019, 5, 31, 23, 58, tzinfo=CST))
    deliver(inbox(app), raw, datetime(2019, 6, 1, 0, 5, tzinfo=CST))
    poll_once(app)
    [row] = rows(app)
    assert row["number"] == "201906-0001"
    assert rows(app, "2019-06") == [row] and rows(app, "2019-05") == []


def test_numbers_follow_received_time_within_a_pass(make_app: Callable[..., App]) -> None:
    app = make_app()
    times = [datetime(2019, 5, day, 10, tzinfo=CST) for day in (20, 3, 11)]
    for index, at in enumerate(times):
        deliver(inbox(app), make_mail(f"国土空间规划股+第{index}条信息", sender="ghg@example.cn"),
                at, name=f"{int(at.timestamp())}.M{9 - index}P1.test")
    poll_once(app)
    assert [(r["number"], r["title"]) for r in rows(app)] == [
        ("201905-0001", "第1条信息"), ("201905-0002", "第2条信息"), ("201905-0003", "第0条信息")]


def test_unit_from_sender_then_unassigned(make_app: Callable[..., App]) -> None:
    app = make_app()
    at = datetime(2019, 5, 9, 10, tzinfo=CST)
    deliver(inbox(app), make_mail("关于春季植树造林工作的报道", sender="whlyz@example.cn"), at)
    deliver(inbox(app), make_mail("一条没有单位的信息", sender="stranger@qq.com"),
            at + timedelta(minutes=1))
    poll_once(app)
    registered, stranger = rows(app)
    assert registered["unit"] == "望洪林业站" and registered["status"] == "counted"
    assert "unit_from_sender" in registered["warnings"]
    assert stranger["unit"] is None and stranger["status"] == "unassigned"
    assert {"no_unit", "unknown_sender"} <= set(stranger["warnings"])  # type: ignore[arg-type]


def test_roster_mail_registers_the_sender(make_app: Callable[..., App]) -> None:
    app = make_app()
    at = datetime(2019, 5, 10, 8, tzinfo=CST)
    deliver(inbox(app), make_mail("望远林业站+信息员李四", sender="wylyz@163.com"), at)
    deliver(inbox(app), make_mail("开展林草防火宣传", sender="wylyz@163.com"),
            at + timedelta(hours=1))
    report = poll_once(app)
    assert report.kinds == {"roster": 1, "submission": 1}
    [row] = rows(app)
    assert row["unit"] == "望远林业站"
    with app.sessions() as session:
        officer = session.scalars(select(Officer).where(Officer.address == "wylyz@163.com")).one()
        assert (officer.unit, officer.name, officer.source) == ("望远林业站", "李四", "roster")
        kinds = [r["kind"] for r in message_rows(session, "2019-05", app.settings.zone)]
    assert kinds == ["roster", "submission"]


def test_non_submissions_are_recorded_not_numbered(make_app: Callable[..., App]) -> None:
    app = make_app()
    at = datetime(2019, 5, 12, 8, tzinfo=CST)
    mails = [
        make_mail("自动回复：您好", headers={"Auto-Submitted": "auto-replied"}),
        make_mail("Undeliverable: x", sender="MAILER-DAEMON@126.com"),
        make_mail("周报", headers={"List-Id": "<weekly.example.cn>"}),
        make_mail("采用 201905-0001 县政府网站", sender="office@example.cn"),
    ]
    for offset, raw in enumerate(mails):
        deliver(inbox(app), raw, at + timedelta(minutes=offset))
    report = poll_once(app)
    assert report.kinds == {"auto-reply": 1, "bounce": 1, "list": 1, "command": 1}
    assert rows(app) == []
    with app.sessions() as session:
        listed = message_rows(session, None, app.settings.zone)
    assert [r["number"] for r in listed] == [None] * 4


def test_second_pass_and_same_bytes_change_nothing(make_app: Callable[..., App]) -> None:
    app = make_app()
    raw = make_mail("执法大队+开展执法检查")
    at = datetime(2019, 5, 13, 9, tzinfo=CST)
    deliver(inbox(app), raw, at)
    poll_once(app)
    deliver(inbox(app), raw, at + timedelta(hours=1))  # the very same bytes again
    second = poll_once(app)
    assert second.fetched == 1 and second.outcomes[0].already_recorded
    assert poll_once(app).fetched == 0
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 1
        assert session.scalar(select(func.count()).select_from(Submission)) == 1
    assert len(maildir_files(inbox(app), ".mailroom.processed")) == 2


class CrashAfterCommit(MaildirSource):
    """A source whose process 'dies' between the database commit and the move."""

    def mark_processed(self, keys: object) -> None:
        raise KeyboardInterrupt("killed between commit and move")


def test_crash_between_commit_and_move_does_not_record_twice(
    make_app: Callable[..., App],
) -> None:
    app = make_app()
    deliver(inbox(app), make_mail("执法大队+开展执法检查"), datetime(2019, 5, 13, 9, tzinfo=CST))
    crashing = CrashAfterCommit(inbox(app), "mailroom/processed", "mailroom/failed")
    with pytest.raises(KeyboardInterrupt):
        app.pipeline().run_pass(crashing)
    assert len(maildir_files(inbox(app))) == 1  # committed, but still in the inbox
    report = poll_once(app)  # "restarted"
    assert report.outcomes[0].already_recorded
    assert [r["number"] for r in rows(app)] == ["201905-0001"]
    assert maildir_files(inbox(app)) == []


def test_poison_mail_retried_then_moved_to_failed(
    make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    at = datetime(2019, 5, 14, 9, tzinfo=CST)
    poison = make_mail("执法大队+这封会让解析出错", body="POISON-PILL")
    deliver(inbox(app), poison, at)
    deliver(inbox(app), make_mail("执法大队+这封正常"), at + timedelta(minutes=1))
    import mailroom.preparing as preparing_module

    real_parse = preparing_module.parse_letter

    def flaky_parse(raw: bytes, received_at: datetime, *limits: object) -> object:
        if b"POISON-PILL" in raw:
            raise RuntimeError("simulated parser bug")
        return real_parse(raw, received_at, *limits)  # type: ignore[arg-type]

    monkeypatch.setattr(preparing_module, "parse_letter", flaky_parse)
    first = poll_once(app)
    assert (first.count("processed"), first.count("retry")) == (1, 1)
    assert poll_once(app).count("retry") == 1
    third = poll_once(app)
    assert third.count("failed") == 1
    assert maildir_files(inbox(app)) == []
    [failed_file] = maildir_files(inbox(app), ".mailroom.failed")
    assert failed_file.read_bytes() == poison
    with app.sessions() as session:
        failed = session.scalars(select(Message).where(Message.kind == "failed")).one()
        assert "simulated parser bug" in (failed.reason or "")
        assert "after 3 attempts" in (failed.reason or "")
        assert app.files.read(failed.raw_path) == poison
        assert session.scalars(select(ProcessingFailure)).one().attempts == 3
        listed = message_rows(session, "2019-05", app.settings.zone)
    assert [r["kind"] for r in listed] == ["failed", "submission"]
    assert listed[0]["reason"] and "simulated parser bug" in str(listed[0]["reason"])
    assert poll_once(app).fetched == 0


def test_one_commit_a_mail_and_a_stop_takes_back_the_attempt_counted_ahead(
    make_app: Callable[..., App],
) -> None:
    """The next mail's attempt rides on this mail's commit (issue 14 still: committed before
    its work); a pass stopped before that mail takes it back."""
    app = make_app()
    at = datetime(2019, 5, 15, 9, tzinfo=CST)
    for index in range(3):
        deliver(inbox(app), make_mail(f"执法大队+第{index}次检查"), at + timedelta(minutes=index))
    commits: list[object] = []
    event.listen(app.engine, "commit", commits.append)

    def after_the_first() -> bool:  # as SIGTERM would, once the first mail is recorded
        with app.sessions() as session:
            return session.scalar(select(func.count(Submission.id))) == 1

    source = MaildirSource(inbox(app), "mailroom/processed", "mailroom/failed")
    pipeline = app.pipeline()
    try:
        stopped = pipeline.run_pass(source, stop=after_the_first)
        assert [o.disposition for o in stopped.outcomes] == ["processed"]
        with app.sessions() as session:
            assert session.scalars(select(ProcessingFailure)).all() == []
        assert len(maildir_files(inbox(app))) == 2
        commits.clear()
        rest = pipeline.run_pass(source)
    finally:
        pipeline.close()
    assert [o.disposition for o in rest.outcomes] == ["processed", "processed"]
    # the officers' sync, the first mail's attempt, then one commit a mail
    assert len(commits) == 1 + 1 + 2
    with app.sessions() as session:
        assert session.scalars(select(ProcessingFailure)).all() == []
    assert [r["number"] for r in rows(app)] == ["201905-0001", "201905-0002", "201905-0003"]


def test_only_failed_checks_configured_to_reject_reject(make_app: Callable[..., App]) -> None:
    app = make_app(checks={"signed_scan": "reject"})
    at = datetime(2019, 5, 15, 9, tzinfo=CST)
    deliver(inbox(app), make_mail("执法大队+没有签字稿", attachments=[
        ("执法大队+没有签字稿.docx", DOCX)]), at)
    poll_once(app)
    [row] = rows(app)
    assert row["status"] == "rejected" and row["warnings"] == ["signed_scan"]


def test_pipeline_process_is_idempotent_directly(make_app: Callable[..., App]) -> None:
    app = make_app()
    pipeline: Pipeline = app.pipeline()
    mail = FetchedMail(MailKey("test", 1, "1"), make_mail("执法大队+直接处理"),
                       datetime(2019, 5, 2, 1, tzinfo=UTC), 1)
    first, second = pipeline.process(mail), pipeline.process(mail)
    assert first.number == "201905-0001" and not first.already_recorded
    assert second.already_recorded and second.disposition == "processed"


def test_the_last_resort_failed_row_takes_nothing_from_the_mail() -> None:
    from mailroom.pipeline import _bare_failed_row

    at = datetime(2019, 5, 8, 9, 30, tzinfo=CST)
    mail = FetchedMail(MailKey("INBOX", 1, "9"), b"From: \x00evil\r\nSubject: \xff\r\n\r\n", at)
    row = _bare_failed_row(mail, "a" * 64, "raw/aa/a.eml", "ValueError: 坏\x00", at)
    assert (row["sender"], row["subject"], row["message_id"]) == ("", "", "")
    assert row["reason"] == "ValueError: \\u574f" and row["reason"].isascii()
    assert row["kind"] == "failed" and row["raw_size"] == len(mail.raw)


def test_an_unusable_store_stops_the_pass_and_blames_no_mail(
    make_app: Callable[..., App], tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    app = make_app(storage={"path": str(tmp_path / "a-file" / "store")})
    mail = FetchedMail(MailKey("test", 1, "1"), make_mail("执法大队+存储故障"),
                       datetime(2019, 5, 2, 1, tzinfo=UTC), 1)
    with pytest.raises(StoreError, match=r"storage .*a-file/store is not writable"):
        app.pipeline().process(mail)
    with app.sessions() as session:
        assert session.scalars(select(ProcessingFailure)).all() == []
        assert session.scalars(select(Message)).all() == []


def test_something_that_is_not_a_mail_is_failed_at_once_without_a_number(
    make_app: Callable[..., App]
) -> None:
    app = make_app()
    at = datetime(2019, 5, 15, 9, tzinfo=CST)
    deliver(inbox(app), b"", at)
    deliver(inbox(app), bytes(range(256)) * 4, at + timedelta(minutes=1))
    deliver(inbox(app), make_mail("执法大队+正常信息"), at + timedelta(minutes=2))
    report = poll_once(app)
    assert [o.disposition for o in report.outcomes] == ["failed", "failed", "processed"]
    with app.sessions() as session:
        listed = message_rows(session, "2019-05", app.settings.zone)
        numbers = [s.number for s in session.scalars(select(Submission))]
    assert [r["kind"] for r in listed] == ["failed", "failed", "submission"]
    assert all(r["reason"].startswith("not a mail message: ") for r in listed[:2])
    assert numbers == ["201905-0001"]
    assert len(maildir_files(inbox(app), ".mailroom.failed")) == 2
