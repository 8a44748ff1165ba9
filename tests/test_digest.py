"""The office digest on a real database (SQLite and PostgreSQL): mail through the pipeline,
then `queue_digest` / `scheduled_digest`: what it holds, marked sent in the digest's
transaction, nothing twice, a mail recorded later only in the next one, a late mail's
verdict change shown once, ids committed out of order (the gaps) not missed."""

from __future__ import annotations

import email
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from email.message import Message as MimeMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from mailroom.app import App
from mailroom.clock import FixedClock
from mailroom.daemon import poll_once
from mailroom.decisions import Actor, Decisions
from mailroom.dedupe.engine import Dedupe
from mailroom.digest import records
from mailroom.digest.sending import prepare, queue_digest, scheduled_digest
from mailroom.store.models import DigestSent, Message, OutgoingMail, VerdictChange
from mailroom.vocabulary import DecisionSource
from support.items import CORRECTED_TEXT, CORRECTED_TITLE, JOINT_FIRST, ORIGINAL, OTHER
from support.mail import deliver, make_mail

CST = timezone(timedelta(hours=8))
NOW = datetime(2019, 5, 20, 9, 0, tzinfo=UTC)  # 17:00 in Asia/Shanghai
CHANNELS = [{"name": "县政府网站", "score": 1}]


def send(app: App, subject: str, body: str, day: int, hour: int = 9, *,
         sender: str = "ghg@example.cn", raw: bytes | None = None) -> None:
    assert app.settings.maildir is not None
    deliver(Path(app.settings.maildir.path),
            raw if raw is not None else make_mail(subject, sender=sender, body=body),
            datetime(2019, 5, day, hour, tzinfo=CST))


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, make_app: Callable[..., App]) -> App:
    sections: dict[str, Any] = {"adoption_channels": CHANNELS}
    if request.param == "postgresql":
        sections["database"] = {"url": request.getfixturevalue("postgres_url")}
    return make_app(clock_at=NOW, **sections)


def first_pass(app: App) -> None:
    send(app, f"国土空间规划股+{JOINT_FIRST.title}", JOINT_FIRST.text(), 14)       # 0001
    send(app, f"办公室+{CORRECTED_TITLE}", CORRECTED_TEXT, 15,
         sender="bgs@example.cn")                                                  # 0002
    send(app, "【紧急】执法大队+某村发生山体滑坡", "今日8时许某村发生山体滑坡，无人员伤亡。",
         15, 10, sender="zfdd@example.cn")                                         # 0003
    send(app, f"查无此单位+{OTHER.title}", OTHER.text(), 16, sender="nobody@example.cn")  # 0004
    send(app, f"国土空间规划股+{ORIGINAL.title}", ORIGINAL.text(), 17)              # 0005
    send(app, "", "", 17, 10, raw=b"\x89PNG\r\n\x1a\n not a mail at all")
    send(app, "采用 201905-0005 县政府网站", "", 17, 11, sender="office@example.cn")
    poll_once(app)
    with app.sessions.begin() as session:  # a decision from the command line
        Decisions(app.settings, Dedupe(app.settings.dedupe)).adopt(
            session, "201905-0001", "县政府网站",
            Actor("刘婧", DecisionSource.CLI, NOW - timedelta(hours=1)))


def queue(app: App) -> tuple[str, MimeMessage] | None:
    with app.sessions.begin() as session:
        queued = queue_digest(session, app.settings, app.clock, app.files)
        if queued is None:
            return None
        raw = session.scalars(select(OutgoingMail.raw).where(
            OutgoingMail.id == queued.outbox_id)).one()
    message = email.message_from_bytes(raw)
    plain = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    payload = plain.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode("utf-8"), message


def test_the_digest_holds_what_is_new_and_is_sent_once(app: App) -> None:
    first_pass(app)
    shown = queue(app)
    assert shown is not None
    text, message = shown
    assert message["X-Mailroom"] == "digest" and message["Auto-Submitted"] == "auto-generated"
    assert message["To"] == "office@example.cn"
    order = ["一、紧急信息", "二、疑似重复，请确认", "三、未识别单位的信息", "四、未登记的发件人",
             "五、处理失败的邮件", "六、命令执行情况", "七、本期统计"]
    assert [text.index(h) for h in order] == sorted(text.index(h) for h in order)
    assert "201905-0003  自然资源综合执法大队《【紧急】某村发生山体滑坡》" in text
    assert "是重复，回复命令：确认重复 201905-0002 201905-0001" in text
    assert "不是重复，回复命令：不是重复 201905-0002" in text
    assert "分配 201905-0004 单位名称" in text
    assert "nobody@example.cn：201905-0004" in text
    assert "原因：not a mail message: no header section (a PNG image)" in text
    assert "201905-0001《" in text and "已记为“县政府网站”采用。（刘婧，命令行）" in text
    assert "office@example.cn《采用 201905-0005 县政府网站》：身份未经验证，已发确认码" in text
    assert "新收信息 5 件（已计数 3、疑似重复 1、未识别单位 1）" in text
    assert "首份日报" in text
    assert queue(app) is None  # nothing new: nothing queued, nothing marked
    with app.sessions() as session:
        digests = session.scalars(select(DigestSent)).all()
        assert [(d.sequence, d.recipients) for d in digests] == [(1, ["office@example.cn"])]
        assert digests[0].last_message_pk == session.scalar(
            select(Message.id).order_by(Message.id.desc()).limit(1))
        assert session.scalar(select(OutgoingMail.message_id).where(
            OutgoingMail.purpose == "digest")) == digests[0].message_id


def test_a_later_mail_and_a_changed_verdict_only_in_the_next_digest(app: App) -> None:
    first_pass(app)
    assert queue(app) is not None
    assert isinstance(app.clock, FixedClock)
    app.clock.advance(timedelta(days=1))
    # an earlier copy of 0005, found late, takes its credit (R3 re-evaluation)
    send(app, f"耕地保护股+{ORIGINAL.title}", ORIGINAL.text(), 16, 8, sender="bgs@example.cn")
    poll_once(app)
    with app.sessions() as session:
        assert session.scalar(select(VerdictChange.reported)) is False
    shown = queue(app)
    assert shown is not None
    text, _ = shown
    assert "自上次日报（2019-05-20 17:00）以来" in text
    assert "201905-0006" in text and "201905-0002" not in text and "201905-0003" not in text
    assert "重新比对后状态变化的信息" in text
    assert "201905-0005" in text
    assert "已计数 → 重复不计数（首报 201905-0006），因 201905-0006" in text
    assert "新收信息 1 件" in text
    with app.sessions() as session:
        assert session.scalars(select(VerdictChange.reported)).all() == [True]
    assert queue(app) is None


def test_the_scheduled_job_queues_without_committing(app: App) -> None:
    first_pass(app)
    fire = datetime(2019, 5, 20, 9, 0, tzinfo=UTC)
    with app.sessions() as session:
        line = scheduled_digest(session, app.settings, app.clock, fire)
        assert line == "digest: 7 items to 1 address"
        session.rollback()  # the schedule rolls back on failure: nothing was written
    with app.sessions.begin() as session:
        assert session.scalars(select(DigestSent)).all() == []
        assert scheduled_digest(session, app.settings, app.clock, fire) == line
        subject = session.scalars(select(OutgoingMail.subject).where(
            OutgoingMail.purpose == "digest")).one()
        assert subject.startswith("【紧急 1 件】信息报送日报 2019-05-20：新收 5 件")
    with app.sessions.begin() as session:
        assert scheduled_digest(session, app.settings, app.clock,
                                fire + timedelta(days=1)) == "nothing new: no digest"


def _roster_mail(session: Session, pk: int, at: datetime) -> None:
    session.execute(insert(Message), [{
        "id": pk, "mailbox": "INBOX", "uidvalidity": 1, "uid": str(pk),
        "raw_sha256": f"{pk:064x}", "raw_size": 1, "raw_path": f"raw/{pk}",
        "message_id": f"{pk}@example.cn", "sender": f"r{pk}@example.cn",
        "subject": f"望洪林业站+信息员{pk}", "date_header": at, "received_at": at,
        "kind": "roster", "reason": None, "detail": {}, "processed_at": at}])


def _mails_shown(app: App) -> list[int]:
    with app.sessions.begin() as session:
        read = records.read_new(session, app.files, app.settings.zone, app.clock.now())
        queue_digest(session, app.settings, app.clock, app.files)
    return [mail.pk for mail in read.records.mails]


def test_an_id_committed_after_a_higher_one_is_not_missed(app: App) -> None:
    """PostgreSQL hands out ids when rows are inserted, not when they commit: a digest can
    read 4 before 3 is committed. 3 is kept as a gap and shown by the next digest."""
    assert isinstance(app.clock, FixedClock)
    with app.sessions.begin() as session:
        for pk in (1, 2, 4):
            _roster_mail(session, pk, NOW)
    assert _mails_shown(app) == [1, 2, 4]
    with app.sessions() as session:
        assert [pk for pk, _ in records.last_marks(session).message_gaps] == [3]
    app.clock.advance(timedelta(minutes=5))
    with app.sessions.begin() as session:
        _roster_mail(session, 3, NOW)
        _roster_mail(session, 7, NOW)
    assert _mails_shown(app) == [3, 7]
    with app.sessions() as session:
        marks = records.last_marks(session)
        assert marks.message_pk == 7 and [pk for pk, _ in marks.message_gaps] == [5, 6]
    app.clock.advance(timedelta(hours=records.GAP_HOURS + 1))  # 5, 6: rolled back
    with app.sessions.begin() as session:
        _roster_mail(session, 8, NOW)
    assert _mails_shown(app) == [8]
    with app.sessions() as session:
        assert records.last_marks(session).message_gaps == ()


def test_printing_marks_nothing(make_app: Callable[..., App]) -> None:
    app = make_app(clock_at=NOW, adoption_channels=CHANNELS)
    first_pass(app)
    with app.sessions() as session:
        first = prepare(session, app.settings, NOW)
        again = prepare(session, app.settings, NOW)
    assert first.digest is not None and first.digest == again.digest
    assert first.digest.day == "2019-05-20"


def test_each_refused_command_and_line_not_understood_is_named_with_why(
        make_app: Callable[..., App]) -> None:
    """A held command mail and the reply confirming it: the digest names each item refused
    (an unknown number, an unknown channel) under the reply that ran them, and the line
    not understood under the mail that held it, each with the command reply's reason."""
    app = make_app(clock_at=NOW, adoption_channels=CHANNELS)
    send(app, f"国土空间规划股+{ORIGINAL.title}", ORIGINAL.text(), 17)               # 0001
    send(app, "采用", "采用 201905-0001 县政府网站\n采用 201905-0099 县政府网站\n"
         "采用 201905-0001 省报\n批示 201905-0001\n", 17, 11, sender="office@example.cn")
    poll_once(app)
    with app.sessions() as session:
        request = session.scalars(select(OutgoingMail.message_id).where(
            OutgoingMail.purpose == "confirm-request")).one()
    send(app, "", "", 17, 12, raw=make_mail("Re: 请确认", sender="office@example.cn",
                                             body="确认", headers={"In-Reply-To": f"<{request}>"}))
    poll_once(app)
    shown = queue(app)
    assert shown is not None
    text = shown[0]
    held = text.index("office@example.cn《采用》：身份未经验证，已发确认码")
    confirmed = text.index("office@example.cn《Re: 请确认》：确认码有效，已执行此前暂缓的命令")
    assert ("   未能识别的内容（1 行）：\n     ・“批示 201905-0001”：缺少批示人。\n"
            in text[held:confirmed])
    assert ("   未执行（2 项）：\n"
            "     ・采用 201905-0099：编号不存在。\n"
            "     ・采用 201905-0001：没有名为“省报”的采用渠道（可用渠道：县政府网站）。\n"
            in text[confirmed:])
    assert "已记为“县政府网站”采用。（office@example.cn，命令邮件《采用》）" in text
    with app.sessions() as session:  # as the handler recorded them (plain JSON)
        held_detail, reply_detail = session.scalars(select(Message.detail).where(
            Message.kind == "command").order_by(Message.id)).all()
    assert held_detail["results"] == {"commands": [], "not_understood": [
        {"text": "批示 201905-0001", "problems": [["missing_leader", ""]]}]}
    assert [line["refused"] for line in reply_detail["results"]["commands"]] == [
        [], [{"number": "201905-0099", "action": "adopt", "code": "unknown_number",
              "facts": {"number": "201905-0099"}}],
        [{"number": "201905-0001", "action": "adopt", "code": "unknown_channel",
          "facts": {"channel": "省报", "channels": "县政府网站"}}]]
