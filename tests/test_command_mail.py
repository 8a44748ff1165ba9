"""Office commands by mail through the pipeline, on a real database (SPEC "Office commands
by mail"): run at once when the trusted server vouches for the sender, else held under a
one-time code until the same address confirms; forged, replayed, expired and misdirected
codes change nothing; one reply per command mail."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from mailroom.app import App
from mailroom.clock import FixedClock
from mailroom.daemon import poll_once
from mailroom.mailbox.maildir import MaildirSource
from mailroom.pipeline import PassReport
from mailroom.rules.confirmation import find_codes
from mailroom.sample.clients import CLIENTS, Draft
from mailroom.store.models import (
    Adoption,
    CommandConfirmation,
    Decision,
    Instruction,
    Message,
    OutgoingMail,
    Submission,
)
from support.dovecot import ImapAccount
from support.mail import deliver, make_mail
from support.smtp import SmtpServer

CST = timezone(timedelta(hours=8))
DAY = datetime(2019, 5, 20, 9, 0, tzinfo=CST)
OFFICE = "office@example.cn"
LEADER = "leader@example.cn"  # the office in the end-to-end test (the SMTP fixture is office@)
TRUSTED = "mx.example.cn"
CHANNELS = [{"name": "县政府网站", "score": 1}, {"name": "银川市级", "score": 2},
            {"name": "自治区级", "score": 3}, {"name": "媒体", "score": 1}]
PASS = f"{TRUSTED}; dkim=pass header.d=example.cn; dmarc=pass header.from=example.cn"
FAIL = f"{TRUSTED}; dkim=fail header.d=example.cn; dmarc=fail header.from=example.cn"


def build(make_app: Callable[..., App], trusted: str = "", **sections: Any) -> App:
    """An app on SQLite and a Maildir; `trusted`: an [imap] section naming the trusted
    authserv-id (the pass below reads the Maildir all the same)."""
    if trusted:
        sections["imap"] = {"host": "imap.example.cn", "username": "ynlyj452@126.com",
                            "password": "x", "trusted_authserv_id": trusted}
    clock = sections.pop("clock_at", DAY + timedelta(hours=1))
    return make_app(clock_at=clock, adoption_channels=CHANNELS,
                    office={"addresses": [OFFICE, "office2@example.cn"]}, **sections)


def run(app: App) -> PassReport:
    assert app.settings.maildir is not None
    pipeline = app.pipeline()
    try:
        source = MaildirSource(Path(app.settings.maildir.path), "mailroom/processed",
                               "mailroom/failed")
        return pipeline.run_pass(source)
    finally:
        pipeline.close()


def send(app: App, raw: bytes, at: datetime) -> None:
    assert app.settings.maildir is not None
    deliver(Path(app.settings.maildir.path), raw, at)


def submissions(app: App, count: int = 4) -> None:
    """201905-0001…0003 counted items of three units, 201905-0004 unassigned."""
    items = [("执法大队+开展违法用地专项整治行动", "zfdd@example.cn"),
             ("国土空间规划股+完成村庄规划编制", "ghg@example.cn"),
             ("望洪林业站+开展春季植树造林", "whlyz@example.cn"),
             ("一条没有单位的信息", "stranger@qq.com")]
    for index, (subject, sender) in enumerate(items[:count]):
        send(app, make_mail(subject, sender=sender, body=f"第{index}条，内容各不相同：{subject}"),
             DAY - timedelta(days=10, minutes=-index))
    assert run(app).kinds == {"submission": count}


def command(subject: str, body: str = "", sender: str = OFFICE, auth: str | None = None,
            headers: dict[str, str] | None = None) -> bytes:
    extra = dict(headers or {})
    if auth is not None:
        extra["Authentication-Results"] = auth
    return make_mail(subject, sender=sender, body=body or "\n", headers=extra)


def outbox(app: App, purpose: str | None = None) -> list[EmailMessage]:
    with app.sessions() as session:
        query = select(OutgoingMail).order_by(OutgoingMail.id)
        if purpose is not None:
            query = query.where(OutgoingMail.purpose == purpose)
        return [email.message_from_bytes(row.raw, policy=email.policy.default)  # type: ignore[misc]
                for row in session.scalars(query)]


def text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def count(app: App, model: type) -> int:
    with app.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def adoptions(app: App) -> list[tuple[str, str]]:
    with app.sessions() as session:
        rows = session.execute(select(Submission.number, Adoption.channel).join(
            Submission, Submission.id == Adoption.submission_id))
        return sorted((number, channel) for number, channel in rows)


def subject_of(message: EmailMessage) -> str:
    return str(message["Subject"]).strip()  # compat32 folds it onto a continuation line


def code_of(request: EmailMessage) -> str:
    subject = subject_of(request)
    assert subject.startswith("确认码 ")
    [code] = find_codes(subject)
    return code


BODY = """各位好：

采用 201905-0001 201905-0002 县政府网站
采用 2019050003、201905-0099 银川市级
批示 201905-0001 伍庭利：请各股室学习借鉴
分配 201905-0004 耕地保护股
采用 201905-12 媒体
谢谢

在 2019-05-20 08:00:00，"信息报送系统" <ynlyj452@126.com> 写道：
> 采用 201905-0003 自治区级
"""


# -- run at once -------------------------------------------------------------------------------


def test_authenticated_commands_run_at_once_and_one_reply_says_what_changed(
        make_app: Callable[..., App]) -> None:
    app = build(make_app, trusted=TRUSTED)
    submissions(app)
    send(app, command("Re: 采用", BODY, auth=PASS), DAY)
    assert run(app).kinds == {"command": 1}
    assert adoptions(app) == [("201905-0001", "县政府网站"), ("201905-0002", "县政府网站"),
                              ("201905-0003", "银川市级")]
    with app.sessions() as session:
        message = session.scalars(select(Message).where(Message.kind == "command")).one()
        decisions = session.scalars(select(Decision).order_by(Decision.id)).all()
        assert [(d.action, d.source, d.by, d.message_pk) for d in decisions] == [
            (action, "mail", OFFICE, message.id)
            for action in ("adopt", "adopt", "adopt", "instruct", "assign")]
        assert decisions[0].at == DAY
        instruction = session.scalars(select(Instruction)).one()
        assert (instruction.leader, instruction.text) == ("伍庭利", "请各股室学习借鉴")
        assigned = session.scalars(select(Submission).where(
            Submission.number == "201905-0004")).one()
        assert (assigned.unit, assigned.status) == ("耕地保护股", "counted")
        assert message.detail["authentication"].startswith("dmarc=pass for example.cn")
    assert count(app, CommandConfirmation) == 0
    [reply] = outbox(app, "command")
    assert reply["To"] == OFFICE and reply["X-Mailroom"] == "command"
    assert reply["In-Reply-To"] and reply["Auto-Submitted"] == "auto-replied"
    assert subject_of(reply) == "命令处理结果：已执行 5 项，未执行 1 项"
    body = text(reply)
    assert "发件人身份已经邮件服务器验证，命令已直接执行" in body
    assert ("201905-0001《开展违法用地专项整治行动》（自然资源综合执法大队）"
            "已记为“县政府网站”采用") in body
    assert "已记录伍庭利对 201905-0001" in body and "已分配给耕地保护股" in body
    assert "采用 201905-0099：编号不存在。" in body
    assert "“采用 201905-12 媒体”：编号“201905-12”格式不对" in body
    assert "“各位好：”：不是命令" in body and "“谢谢”：不是命令" in body
    assert "自治区级" not in body.split("命令格式")[0]  # the quoted line was not read


def test_the_same_mail_twice_changes_nothing(make_app: Callable[..., App]) -> None:
    app = build(make_app, trusted=TRUSTED)
    submissions(app, 1)
    raw = command("采用 201905-0001 县政府网站", auth=PASS)
    send(app, raw, DAY)
    run(app)
    send(app, raw, DAY + timedelta(minutes=5))  # delivered again, byte for byte
    report = run(app)
    assert [o.already_recorded for o in report.outcomes] == [True]
    assert count(app, Decision) == 1 and count(app, OutgoingMail) == 2  # receipt + reply


def test_a_command_already_done_is_refused_with_why(make_app: Callable[..., App]) -> None:
    app = build(make_app, trusted=TRUSTED)
    submissions(app, 2)
    send(app, command("采用 201905-0001 县政府网站", auth=PASS), DAY)
    send(app, command("采用 201905-0001 县网站", "撤销采用 201905-0002 县政府网站\n"
                      "采用 201905-0002 省级", auth=PASS), DAY + timedelta(minutes=1))
    run(app)
    assert adoptions(app) == [("201905-0001", "县政府网站")]
    second = text(outbox(app, "command")[1])
    assert f"此前已记为“县政府网站”采用（{OFFICE} 记录）" in second
    assert "撤销采用 201905-0002：没有“县政府网站”的采用记录" in second
    assert "没有名为“省级”的采用渠道（可用渠道：县政府网站、银川市级、自治区级、媒体）" in second


# -- held for confirmation ---------------------------------------------------------------------


@pytest.mark.parametrize("auth", [
    FAIL,  # the trusted server says the From is forged
    None,  # no Authentication-Results at all
    "mx.evil.example; dmarc=pass header.from=example.cn",  # written by someone else
    f"{TRUSTED}; spf=pass smtp.mailfrom=forger@evil.example",  # not aligned
])
def test_a_forged_or_unproven_from_runs_nothing_and_asks_the_address(
        make_app: Callable[..., App], auth: str | None) -> None:
    app = build(make_app, trusted=TRUSTED)
    submissions(app, 2)
    send(app, command("采用 201905-0001 201905-0002 县政府网站", "谢谢", auth=auth), DAY)
    assert run(app).kinds == {"command": 1}
    assert adoptions(app) == [] and count(app, Decision) == 0
    [request] = outbox(app, "confirm-request")
    assert request["To"] == OFFICE  # the real owner of the address, never the forger
    assert outbox(app, "command") == []  # the request is the mail's one reply
    code = code_of(request)
    body = text(request)
    assert f"确认码 {code}" in body and "只能使用一次" in body
    assert "1. 采用 201905-0001 201905-0002 县政府网站" in body
    assert "201905-0001《开展违法用地专项整治行动》（自然资源综合执法大队），已计数" in body
    assert "“谢谢”：不是命令" in body
    assert ("未通过发件人身份验证" in body) == (auth == FAIL)
    with app.sessions() as session:
        held = session.scalars(select(CommandConfirmation)).one()
        assert (held.code, held.address, held.used_at) == (code, OFFICE, None)
        assert held.commands == ["采用 201905-0001 201905-0002 县政府网站"]
        assert held.expires_at - held.created_at == timedelta(hours=72)
        assert held.request_message_id == request["Message-ID"].strip().strip("<>")


def confirm(app: App, request: EmailMessage, at: datetime, sender: str = OFFICE,
            subject: str | None = None, body: str = "确认", in_reply_to: bool = True) -> None:
    headers = {"In-Reply-To": request["Message-ID"]} if in_reply_to else {}
    send(app, make_mail(subject if subject is not None else f"Re: {subject_of(request)}",
                        sender=sender, body=body, headers=headers), at)
    assert run(app).kinds == {"command": 1}


def held_request(make_app: Callable[..., App], **sections: Any) -> tuple[App, EmailMessage]:
    """No trusted server configured: every command mail is held."""
    app = build(make_app, **sections)
    submissions(app)
    send(app, command("采用 201905-0001 县政府网站", "确认重复 201905-0003 201905-0002\n"
                      "批示 201905-0002 伍庭利：好\n采用 201905-0098 媒体"), DAY)
    run(app)
    [request] = outbox(app, "confirm-request")
    return app, request


def test_the_round_trip_runs_the_held_commands_once(make_app: Callable[..., App]) -> None:
    app, request = held_request(make_app)
    assert "201905-0098：编号不存在，确认后也不会执行" in text(request)
    confirm(app, request, DAY + timedelta(hours=2))
    assert adoptions(app) == [("201905-0001", "县政府网站")]
    with app.sessions() as session:
        command_mail, reply = session.scalars(select(Message).where(
            Message.kind == "command").order_by(Message.id)).all()
        decisions = session.scalars(select(Decision).order_by(Decision.id)).all()
        assert [(d.action, d.by, d.source, d.message_pk, d.at) for d in decisions] == [
            (action, OFFICE, "mail", command_mail.id, DAY + timedelta(hours=2))
            for action in ("adopt", "duplicate", "instruct")]
        held = session.scalars(select(CommandConfirmation)).one()
        assert held.used_by_pk == reply.id and held.used_at is not None
        third = session.scalars(select(Submission).where(
            Submission.number == "201905-0003")).one()
        assert third.status == "duplicate"
    [result] = outbox(app, "command")
    assert result["In-Reply-To"].strip("<>") and result["To"] == OFFICE
    body = text(result)
    assert "已按您的确认（代码" in body and "“采用 201905-0001 县政府网站”" in body
    assert "已执行（3 项）" in body
    assert "201905-0003《开展春季植树造林》（望洪林业站）已确认为重复" in body
    assert "采用 201905-0098：编号不存在。" in body
    assert "确认码" not in body  # a reply to this reply is no confirmation


def test_a_reply_to_the_request_confirms_without_the_code(
        make_app: Callable[..., App]) -> None:
    app, request = held_request(make_app)
    confirm(app, request, DAY + timedelta(hours=1), subject="好的", body="同意")
    assert adoptions(app) == [("201905-0001", "县政府网站")]


def test_the_code_alone_confirms_in_a_new_mail(make_app: Callable[..., App]) -> None:
    app, request = held_request(make_app)
    confirm(app, request, DAY + timedelta(hours=1), subject="确认",
            body=f"确认码：{code_of(request).lower()}", in_reply_to=False)
    assert adoptions(app) == [("201905-0001", "县政府网站")]


def test_a_replayed_code_runs_nothing_again(make_app: Callable[..., App]) -> None:
    app, request = held_request(make_app)
    confirm(app, request, DAY + timedelta(hours=1))
    decisions = count(app, Decision)
    with app.sessions() as session:  # undone meanwhile: a replay would adopt it again
        session.execute(Adoption.__table__.delete())
        session.commit()
    confirm(app, request, DAY + timedelta(hours=3), body="再次确认")
    assert count(app, Decision) == decisions and adoptions(app) == []
    replayed = text(outbox(app, "command")[-1])
    assert "使用过，每个代码只能使用一次" in replayed and "已执行" not in replayed


def test_an_expired_code_runs_nothing(make_app: Callable[..., App]) -> None:
    app, request = held_request(make_app)
    assert isinstance(app.clock, FixedClock)
    app.clock.advance(timedelta(hours=73))  # created at DAY + 1 h: valid until DAY + 73 h
    confirm(app, request, DAY + timedelta(hours=73, minutes=1))
    assert count(app, Decision) == 0 and adoptions(app) == []
    with app.sessions() as session:
        assert session.scalars(select(CommandConfirmation)).one().used_at is None
    expired = outbox(app, "command")[-1]
    assert subject_of(expired) == "命令处理结果：未执行（确认未成功）"
    assert "已于 2019-05-23 10:00 过期" in text(expired)


def test_a_code_from_another_address_is_refused_and_stays_for_its_owner(
        make_app: Callable[..., App]) -> None:
    app, request = held_request(make_app)
    confirm(app, request, DAY + timedelta(hours=1), sender="office2@example.cn")
    assert count(app, Decision) == 0
    refused = outbox(app, "command")[-1]
    assert refused["To"] == "office2@example.cn"
    assert "不是发给您的邮箱的" in text(refused)
    assert "采用 201905-0001" not in text(refused)  # nothing of the held mail is told
    confirm(app, request, DAY + timedelta(hours=2))
    assert adoptions(app) == [("201905-0001", "县政府网站")]


def test_an_unknown_code_and_commands_written_in_a_confirmation(
        make_app: Callable[..., App]) -> None:
    app = build(make_app)
    submissions(app, 1)
    send(app, make_mail("确认码 ABCD2345", sender=OFFICE,
                        body="采用 201905-0001 县政府网站\n"), DAY)
    assert run(app).kinds == {"command": 1}
    assert count(app, Decision) == 0
    body = text(outbox(app, "command")[-1])
    assert "代码 ABCD2345 无效" in body and "确认邮件中写的命令不执行" in body


def test_a_reply_to_a_request_that_is_not_there(make_app: Callable[..., App]) -> None:
    app = build(make_app)
    send(app, make_mail("Re: 请确认", sender=OFFICE, body="确认", headers={
        "In-Reply-To": "<mailroom.confirm-request.0000@126.com>"}), DAY)
    assert run(app).kinds == {"command": 1}
    assert "没有找到您所回复的确认请求，未执行任何命令" in text(outbox(app, "command")[0])


def test_commands_from_other_senders_never_run(make_app: Callable[..., App]) -> None:
    app, request = held_request(make_app)
    code = code_of(request)
    send(app, make_mail(f"Re: 确认码 {code}", sender="zfdd@example.cn",
                        headers={"In-Reply-To": request["Message-ID"]}), DAY + timedelta(hours=1))
    send(app, command("采用 201905-0002 县政府网站", sender="zfdd@example.cn", auth=PASS),
         DAY + timedelta(hours=2))
    assert run(app).kinds == {"submission": 2}  # kind submission: no office address
    assert count(app, Decision) == 0
    with app.sessions() as session:
        assert session.scalars(select(CommandConfirmation)).one().used_at is None


def test_nothing_to_run_is_answered_at_once(make_app: Callable[..., App]) -> None:
    app = build(make_app)
    send(app, command("分配 201905-0004", "单位：执法大队、望洪林业站\n采用 县政府网站"), DAY)
    run(app)
    assert count(app, CommandConfirmation) == 0
    [reply] = outbox(app)
    assert subject_of(reply) == "命令处理结果：未执行任何命令"
    body = text(reply)
    assert "“分配 201905-0004”：缺少单位" in body and "“采用 县政府网站”：缺少编号" in body
    assert "这一行须紧跟在“约稿 标题”一行之后" in body
    assert "命令格式" in body


def test_no_confirmation_is_held_when_no_request_may_be_sent(
        make_app: Callable[..., App]) -> None:
    app = build(make_app, receipts={"max_per_sender_per_hour": 0})
    send(app, command("采用 201905-0001 县政府网站"), DAY)
    run(app)
    assert count(app, CommandConfirmation) == 0 and outbox(app) == []
    with app.sessions() as session:
        message = session.scalars(select(Message)).one()
        assert message.detail["held"].startswith("no: none: rate cap")


def test_the_round_trip_on_postgresql(make_app: Callable[..., App], postgres_url: str) -> None:
    app, request = held_request(make_app, database={"url": postgres_url})
    confirm(app, request, DAY + timedelta(hours=1))
    confirm(app, request, DAY + timedelta(hours=2))
    assert adoptions(app) == [("201905-0001", "县政府网站")]
    assert count(app, Decision) == 3


# -- end to end: Dovecot in, the SMTP server out ------------------------------------------------


def test_through_dovecot_and_smtp_with_a_mail_program_confirming(
        make_app: Callable[..., App], imap_account: ImapAccount, smtp_server: SmtpServer) -> None:
    settings = imap_account.settings()
    app = make_app(
        clock_at=DAY + timedelta(hours=1), adoption_channels=CHANNELS,
        imap={"host": settings.host, "port": settings.port, "security": "plain",
              "username": imap_account.username, "password": imap_account.password,
              "trusted_authserv_id": TRUSTED},
        smtp=smtp_server.section(), office={"addresses": [LEADER]})
    titles = ("执法大队+开展违法用地专项整治行动", "执法大队+完成卫片执法检查")
    for index, subject in enumerate(titles):
        imap_account.append(make_mail(subject, body=f"第{index}条：{subject}"),
                            DAY - timedelta(days=3, minutes=-index))
    imap_account.append(command("采用 201905-0001 县政府网站", sender=LEADER, auth=PASS), DAY)
    imap_account.append(command("采用 201905-0002 银川市级", "谢谢", sender=LEADER, auth=FAIL),
                        DAY + timedelta(minutes=1))
    report = poll_once(app)
    assert report.kinds == {"submission": 2, "command": 2}
    assert adoptions(app) == [("201905-0001", "县政府网站")]
    by_purpose = {m["X-Mailroom"]: m for m in smtp_server.messages()}
    assert sorted(by_purpose) == ["command", "confirm-request", "receipt"]
    assert "已记为“县政府网站”采用" in text(by_purpose["command"])
    request = by_purpose["confirm-request"]
    assert [r.rcpt_tos for r in smtp_server.received
            if r.message["X-Mailroom"] == "confirm-request"] == [(LEADER,)]
    assert "未通过发件人身份验证" in text(request)

    # the clerk answers from 126.com webmail, quoting the request below the answer
    quoted = "\n".join(f">{line}" for line in text(request).splitlines())
    draft = Draft(key="confirm-e2e", sender=LEADER, sender_name="办公室刘婧",
                  subject=f"Re: {subject_of(request)}",
                  text=f"确认，是我发的。\n\n在 2019-05-20 10:00:00，\"信息报送系统\" "
                       f"写道：\n{quoted}",
                  sent_at=DAY + timedelta(hours=2), in_reply_to=request["Message-ID"].strip())
    imap_account.append(CLIENTS["coremail126"](draft).raw, DAY + timedelta(hours=2))
    assert poll_once(app).kinds == {"command": 1}
    assert adoptions(app) == [("201905-0001", "县政府网站"), ("201905-0002", "银川市级")]
    result = smtp_server.messages()[-1]
    assert result["X-Mailroom"] == "command" and result["In-Reply-To"] == draft_id(app)
    assert "已按您的确认" in text(result) and "已记为“银川市级”采用" in text(result)
    assert imap_account.count("INBOX") == 0
    sent = len(smtp_server.received)
    assert poll_once(app).fetched == 0 and len(smtp_server.received) == sent


def draft_id(app: App) -> str:
    """The Message-ID of the last command mail recorded, as a reply names it."""
    with app.sessions() as session:
        last = session.scalars(select(Message).order_by(Message.id.desc())).first()
        assert last is not None
        return f"<{last.message_id}>"
