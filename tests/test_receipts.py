"""What a receipt says for every SPEC status, the roster confirmation, and the urgent alert
with its group-robot webhook."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from mailroom.app import App
from mailroom.daemon import poll_once
from mailroom.mailbox.base import FetchedMail, MailKey
from mailroom.outbox import compose
from mailroom.outbox.facts import ItemRef, ReceiptFacts
from mailroom.outbox.outgoing import Outgoing
from mailroom.outbox.webhook import dingtalk_signature, kind_of, signed_url
from mailroom.store.models import Message, Officer, OutgoingMail, Submission
from support.mail import deliver, make_mail
from support.smtp import SmtpServer
from support.webhook import Robot

CST = timezone(timedelta(hours=8))
AT = datetime(2019, 5, 8, 9, 30, tzinfo=CST)

FACTS = ReceiptFacts(
    number="201905-0007", unit="自然资源综合执法大队", title="开展执法检查", status="counted",
    priority="general", followup=None, received_at="2019-05-08 09:30",
    attachments=("a.docx",), warnings=(), rejected_by=(), missing_elements=(),
    duplicate_of=None, score=None, followup_of=None, month="2019-05", counted_this_month=1,
    quota=2, registered=True, unit_example="办公室")
FIRST = ItemRef("201905-0003", "国土空间规划股", "2019-05-06 10:00")


def text_of(facts: ReceiptFacts) -> str:
    return compose.render("receipt", facts=facts)[0]


def test_duplicate_names_the_first_report_its_unit_and_time() -> None:
    text = text_of(replace(FACTS, status="duplicate", duplicate_of=FIRST, score=96.4))
    assert "重复，不计数" in text
    assert "201905-0003（国土空间规划股，2019-05-06 10:00）" in text and "相似度 96" in text


def test_suspected_counts_provisionally() -> None:
    text = text_of(replace(FACTS, status="suspected", duplicate_of=FIRST, score=80))
    assert "疑似重复" in text and "201905-0003" in text and "暂予计数，待办公室确认" in text


def test_rejected_says_why_and_unassigned_says_how_to_fix() -> None:
    rejected = replace(FACTS, status="rejected", warnings=("signed_scan", "attachment_name"),
                       rejected_by=("signed_scan",))
    text = text_of(rejected)
    assert "未计数。原因：未附分管领导签字的扫描件" in text
    assert "提示：\n- 未见以“单位+信息标题”命名的附件" in text  # the warning-only one
    text = text_of(replace(FACTS, status="unassigned", unit=None, quota=None))
    assert "请以“单位+信息标题”为邮件主题重新报送，例如“办公室+开展执法检查”" in text
    assert "本月" not in text


def test_followup_names_its_first_report_and_urgent_lists_missing_elements() -> None:
    facts = replace(FACTS, priority="urgent", followup="续报", followup_of=FIRST,
                    missing_elements=("伤亡情况", "财产损失"))
    text = text_of(facts)
    assert "已计数（续报，已关联初报 201905-0003" in text
    assert "紧急信息要素不全，请尽快续报补充：伤亡情况、财产损失" in text


def test_html_is_escaped_and_subjects_differ_by_number() -> None:
    facts = replace(FACTS, title="<script>x</script>")
    html = compose.render("receipt", facts=facts)[1]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert compose.subject("receipt", facts=facts) != \
        compose.subject("receipt", facts=replace(facts, number="201905-0008"))


# -- statuses set on the row, as the dedupe step will set them --------------------------


def inbox(app: App) -> Path:
    assert app.settings.maildir is not None
    return Path(app.settings.maildir.path)


def test_receipt_is_built_from_the_row_after_the_decision(make_app: Callable[..., App]) -> None:
    app = make_app()
    deliver(inbox(app), make_mail("国土空间规划股+规划信息", sender="ghg@example.cn"), AT)
    deliver(inbox(app), make_mail("执法大队+规划信息"), AT + timedelta(hours=1))
    app.pipeline().run_pass(app.open_source())
    outgoing = Outgoing(app.settings, app.clock)
    with app.sessions.begin() as session:
        first, second = session.scalars(select(Submission).order_by(Submission.id))
        session.execute(update(Submission).where(Submission.id == second.id).values(
            status="duplicate", duplicate_of_id=first.id, score=93.0))
        session.expire_all()
        facts = outgoing.receipt_facts(session, session.get_one(Submission, second.id), [])
    assert facts.duplicate_of == ItemRef("201905-0001", "国土空间规划股", "2019-05-08 09:30")
    assert facts.counted_this_month == 0 and facts.quota == 2
    assert "与 201905-0001（国土空间规划股，2019-05-08 09:30）内容基本相同" in text_of(facts)


# -- roster ---------------------------------------------------------------------------------


def test_roster_mail_registers_and_confirms_and_later_items_count_for_the_unit(
    make_app: Callable[..., App], smtp_server: SmtpServer
) -> None:
    app = make_app(clock_at=AT.astimezone(UTC), smtp=smtp_server.section())
    deliver(inbox(app), make_mail("望远林业站+信息员李四", sender="ly@163.com"), AT)
    deliver(inbox(app), make_mail("开展春季造林", sender="ly@163.com"), AT + timedelta(hours=1))
    deliver(inbox(app), make_mail("信息员名单", sender="who@163.com"), AT + timedelta(hours=2))
    poll_once(app)
    confirmation, receipt, refusal = smtp_server.messages()
    text = confirmation.get_body(("plain",)).get_content()
    assert "ly@163.com 已登记为“望远林业站”的信息员（李四）" in text
    assert confirmation["X-Mailroom"] == "roster" and confirmation["In-Reply-To"]
    assert "单位：望远林业站" in receipt.get_body(("plain",)).get_content()
    assert "尚未登记" not in receipt.get_body(("plain",)).get_content()
    assert "未能登记您的邮箱 who@163.com：未能从主题中识别出单位" in \
        refusal.get_body(("plain",)).get_content()
    with app.sessions() as session:
        assert session.scalars(select(Officer.unit).where(Officer.address == "ly@163.com")
                               ).one() == "望远林业站"


# -- urgent ---------------------------------------------------------------------------------


def urgent_app(make_app: Callable[..., App], server: SmtpServer, **urgent: Any) -> App:
    return make_app(clock_at=AT.astimezone(UTC), smtp=server.section(),
                    office={"addresses": ["office-a@example.cn", "office-b@example.cn"]},
                    urgent=urgent)


def test_urgent_item_alerts_the_office_and_the_receipt_says_so(
    make_app: Callable[..., App], smtp_server: SmtpServer
) -> None:
    app = urgent_app(make_app, smtp_server)
    raw = make_mail("【紧急】执法大队+某村发生山体滑坡", body="今日8时许发生山体滑坡。")
    deliver(inbox(app), raw, AT)
    deliver(inbox(app), make_mail("执法大队+学习重要讲话精神"), AT + timedelta(minutes=1))
    poll_once(app)
    receipt, alert, ordinary = smtp_server.received
    assert alert.rcpt_tos == ("office-a@example.cn", "office-b@example.cn")
    message = alert.message
    assert message["Auto-Submitted"] == "auto-generated" and message["X-Mailroom"] == "alert"
    assert "201905-0001" in message["Subject"] and "紧急" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert "今日8时许发生山体滑坡。" in text and "zfdd@example.cn" in text
    assert "紧急信息须在事发30分钟内电话报告" in receipt.message.get_body(("plain",)).get_content()
    assert ordinary.rcpt_tos == ("zfdd@example.cn",)  # 重要 inside a title is not urgent


def test_dingtalk_webhook_is_signed_and_secret_never_logged(
    make_app: Callable[..., App], smtp_server: SmtpServer, robot: Robot,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("TEST_ROBOT_SECRET", "SEC-robot-secret-91")
    app = urgent_app(make_app, smtp_server, webhook_url=robot.url(access_token="tok-123"),
                     webhook_kind="dingtalk", webhook_secret_env="TEST_ROBOT_SECRET")
    deliver(inbox(app), make_mail("【特急】执法大队+某地发生火情"), AT)
    report = poll_once(app)
    assert report.outbox is not None and report.outbox.sent == 3
    [call] = robot.calls
    assert call.query["access_token"] == "tok-123"
    timestamp = call.query["timestamp"]
    assert int(timestamp) == int(app.clock.now().timestamp() * 1000)
    expected = base64.b64encode(hmac.new(b"SEC-robot-secret-91",
                                         f"{timestamp}\nSEC-robot-secret-91".encode(),
                                         hashlib.sha256).digest()).decode()
    assert call.query["sign"] == expected
    assert call.body["msgtype"] == "markdown"
    assert "201905-0001" in call.body["markdown"]["text"]
    assert "某地发生火情" in call.body["markdown"]["title"]
    assert "SEC-robot-secret-91" not in caplog.text and "tok-123" not in caplog.text


def test_wecom_webhook_and_its_retry(
    make_app: Callable[..., App], smtp_server: SmtpServer, robot: Robot
) -> None:
    app = urgent_app(make_app, smtp_server, webhook_url=robot.url("/cgi-bin/webhook/send",
                                                                  key="k-1"),
                     webhook_kind="wecom")
    robot.answer_next(200, {"errcode": 45009, "errmsg": "api freq out of limit"})
    deliver(inbox(app), make_mail("紧急：执法大队+某地发生险情"), AT)
    poll_once(app)
    with app.sessions() as session:
        hook = session.scalars(select(OutgoingMail).where(OutgoingMail.channel == "webhook")
                               ).one()
    assert hook.status == "pending" and "45009" in hook.last_error
    assert app.clock.now is not None
    app.clock.advance(timedelta(minutes=2))  # type: ignore[attr-defined]
    assert app.outbox().drain().sent == 1
    second = robot.calls[1]
    assert second.query == {"key": "k-1"} and "sign" not in second.query
    assert "某地发生险情" in second.body["markdown"]["content"]


def test_webhook_kind_and_signature_helpers() -> None:
    assert kind_of("https://oapi.dingtalk.com/robot/send?access_token=x", "auto") == "dingtalk"
    assert kind_of("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x", "auto") == "wecom"
    assert signed_url("https://h/x?key=1", "wecom", "s", 1) == "https://h/x?key=1"
    url = signed_url("https://h/robot/send?access_token=t", "dingtalk", "sec", 1700000000000)
    assert url.startswith("https://h/robot/send?access_token=t&timestamp=1700000000000&sign=")
    assert dingtalk_signature("sec", 1) == base64.b64encode(
        hmac.new(b"sec", b"1\nsec", hashlib.sha256).digest()).decode()


def test_urgent_receipt_and_alert_name_the_missing_elements(
    make_app: Callable[..., App], smtp_server: SmtpServer
) -> None:
    app = urgent_app(make_app, smtp_server)
    body = ("据某村村委会报告，今日8时许，某村后山发生山体滑坡，无人员伤亡，"
            "县局局长已赶赴现场指挥，已采取疏散群众、设置警戒等措施。")
    deliver(inbox(app), make_mail("【紧急】执法大队+某村发生山体滑坡", body=body), AT)
    poll_once(app)
    receipt, alert = smtp_server.messages()
    receipt_text = receipt.get_body(("plain",)).get_content()
    alert_text = alert.get_body(("plain",)).get_content()
    for missing in ("财产损失", "下一步工作措施", "信息员姓名", "联系电话"):
        assert missing in receipt_text.split("请尽快续报补充：")[1]
        assert missing in alert_text.split("缺少的要素：")[1]
    for present in ("信息来源", "事发时间", "伤亡人数", "相关领导是否到位"):
        assert present not in receipt_text.split("请尽快续报补充：")[1]
    with app.sessions() as session:
        detail = session.scalars(select(Message.detail)).one()
    assert "联系电话" in detail["missing_elements"]


# -- spoofing -------------------------------------------------------------------------------

TRUSTED = "mx.bureau.example"


def spoof_app(make_app: Callable[..., App], server: SmtpServer) -> App:
    imap = {"host": "127.0.0.1", "username": "office", "password": "x",
            "trusted_authserv_id": TRUSTED}
    return make_app(clock_at=AT.astimezone(UTC), smtp=server.section(), imap=imap)


def process(app: App, raw: bytes, uid: str) -> None:
    app.pipeline().process(FetchedMail(MailKey("INBOX", 1, uid), raw, AT))
    app.outbox().drain()


def test_failed_authentication_gets_no_credit_no_receipt_and_a_flag(
    make_app: Callable[..., App], smtp_server: SmtpServer
) -> None:
    app = spoof_app(make_app, smtp_server)
    forged = f"Authentication-Results: {TRUSTED}; dmarc=fail header.from=example.cn\n"
    process(app, forged.encode() + make_mail("【紧急】执法大队+伪造的信息"), "1")
    assert smtp_server.received == []  # neither receipt nor alert
    with app.sessions() as session:
        submission = session.scalars(select(Submission)).one()
        detail = session.scalars(select(Message.detail)).one()
    assert submission.status == "rejected"
    assert "sender_authentication_failed" in submission.warnings
    assert detail["flag"].startswith("sender_authentication_failed: dmarc=fail")
    assert detail["receipt"] == "none: sender authentication failed"


def test_authentication_results_of_other_servers_are_ignored(
    make_app: Callable[..., App], smtp_server: SmtpServer
) -> None:
    app = spoof_app(make_app, smtp_server)
    planted = "Authentication-Results: mx.elsewhere.example; dmarc=fail header.from=example.cn\n"
    process(app, planted.encode() + make_mail("执法大队+正常的信息"), "2")
    passed = f"Authentication-Results: {TRUSTED}; dkim=pass header.d=example.cn; spf=pass\n"
    process(app, passed.encode() + make_mail("执法大队+另一条信息"), "3")
    with app.sessions() as session:
        assert list(session.scalars(select(Submission.status))) == ["counted", "counted"]
    assert len(smtp_server.received) == 2


# -- verdicts of the real dedupe engine, as receipts state them -------------------------------

ARTICLE = ("5月7日，县自然资源局综合执法大队联合望洪镇人民政府对辖区内新增违法占用耕地问题开展"
           "专项整治行动，共排查图斑23处，拆除违法建筑4处，恢复耕地12.6亩。执法大队要求各村"
           "加强日常巡查，发现一起制止一起，坚决遏制新增违法用地。")


def test_receipts_state_the_dedupe_verdict_and_the_followup_link(
    make_app: Callable[..., App], smtp_server: SmtpServer
) -> None:
    app = make_app(clock_at=(AT + timedelta(days=1)).astimezone(UTC), smtp=smtp_server.section())
    deliver(inbox(app), make_mail(f"执法大队+{TITLE_DUP}", body=ARTICLE), AT)
    deliver(inbox(app), make_mail(f"转发：执法大队+{TITLE_DUP}", sender="ghg@example.cn",
                                  body="各位领导：\n" + ARTICLE + "\n\n规划股 信息员 王芳"),
            AT + timedelta(hours=2))
    deliver(inbox(app), make_mail("【紧急】执法大队+金沙村发生山体滑坡",
                                  body="今日8时许，金沙村发生山体滑坡，正在核实。"),
            AT + timedelta(hours=3))
    deliver(inbox(app), make_mail("【紧急】执法大队+金沙村发生山体滑坡（续报）",
                                  body="经核实，滑坡未造成人员伤亡，已疏散群众12人。"),
            AT + timedelta(hours=4))
    poll_once(app)
    by_number = {re.search(r"\d{6}-\d{4}", m["Subject"]).group():  # type: ignore[union-attr]
                 m.get_body(("plain",)).get_content()
                 for m in smtp_server.messages() if m["X-Mailroom"] == "receipt"}
    assert sorted(by_number) == ["201905-0001", "201905-0002", "201905-0003", "201905-0004"]
    assert "201905-0001" in by_number and "已计数" in by_number["201905-0001"]
    assert "与 201905-0001（自然资源综合执法大队，2019-05-08 09:30）内容基本相同" in \
        by_number["201905-0002"]
    assert "已关联初报 201905-0003" in by_number["201905-0004"]
    with app.sessions() as session:
        statuses = dict(session.execute(select(Submission.number, Submission.status)).all())
    assert statuses == {"201905-0001": "counted", "201905-0002": "duplicate",
                        "201905-0003": "counted", "201905-0004": "counted"}


TITLE_DUP = "开展违法占用耕地专项整治行动"
