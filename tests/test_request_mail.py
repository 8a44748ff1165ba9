"""约稿 by office mail (SPEC "Office commands by mail", R14): `约稿 标题` with `单位：`/`截止：`
lines records a request exactly as `request add` does, through the same authentication or
confirmation path as the other commands; the reply names the code and who was mailed, or
why nothing was recorded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from mailroom.app import App
from mailroom.store.models import Message, Request
from support.mail import make_mail
from test_command_mail import (
    DAY,
    FAIL,
    OFFICE,
    PASS,
    TRUSTED,
    build,
    code_of,
    command,
    count,
    outbox,
    run,
    send,
    subject_of,
    text,
)

TITLE = "关于秋季森林防火的信息"
FIELDS = "单位：执法大队、耕地保护股\n截止：2019年6月10日\n"


def test_an_authenticated_request_is_recorded_mailed_and_answered(
        make_app: Callable[..., App]) -> None:
    app = build(make_app, trusted=TRUSTED)
    send(app, command(f"约稿 {TITLE}", FIELDS, auth=PASS), DAY)
    assert run(app).kinds == {"command": 1}
    with app.sessions() as session:
        request = session.scalars(select(Request)).one()
        message = session.scalars(select(Message).where(Message.kind == "command")).one()
        assert (request.code, request.title, request.due, request.source, request.created_by,
                request.message_pk, request.created_at) == (
            "约稿201905-01", TITLE, "2019-06-10", "mail", OFFICE, message.id, DAY)
        assert message.detail["commands"] == [f"约稿 {TITLE}\n单位：执法大队、耕地保护股\n"
                                              "截止：2019-06-10"]
    [mailed] = outbox(app, "request")
    assert mailed["To"] == "zfdd@example.cn" and "自然资源综合执法大队：" in text(mailed)
    [reply] = outbox(app, "command")
    assert subject_of(reply) == "命令处理结果：已执行 1 项"
    assert (f"已登记约稿 约稿201905-01《{TITLE}》，截止 2019-06-10，约稿通知已发给"
            "自然资源综合执法大队（zfdd@example.cn）；耕地保护股没有登记信息员或负责人邮箱，"
            "未能发送，请另行通知。") in text(reply)


def test_a_request_is_held_until_confirmed_like_any_command(
        make_app: Callable[..., App]) -> None:
    app = build(make_app, trusted=TRUSTED)
    send(app, command(f"约稿 {TITLE}", FIELDS + "要求：800字以内\n备注：附照片2张\n", auth=FAIL),
         DAY)
    run(app)
    assert count(app, Request) == 0 and outbox(app, "request") == []
    [confirm] = outbox(app, "confirm-request")
    assert (f"约稿 {TITLE}；单位：执法大队、耕地保护股；截止：2019-06-10；"
            "要求：800字以内；附照片2张") in text(confirm)
    send(app, make_mail(f"Re: {subject_of(confirm)}", sender=OFFICE, body="确认",
                        headers={"In-Reply-To": confirm["Message-ID"]}),
         DAY + timedelta(hours=1))
    run(app)
    with app.sessions() as session:
        request = session.scalars(select(Request)).one()
        held = session.scalars(select(Message).where(Message.kind == "command")
                               .order_by(Message.id)).first()
        assert held is not None
        assert (request.code, request.source, request.message_pk, request.note) == \
            ("约稿201905-01", "mail", held.id, "800字以内；附照片2张")
    assert len(outbox(app, "request")) == 1
    assert "已登记约稿 约稿201905-01" in text(outbox(app, "command")[-1])
    assert code_of(confirm)  # the usual 确认码 request


def test_what_cannot_be_asked_is_refused_with_why(make_app: Callable[..., App]) -> None:
    app = build(make_app, trusted=TRUSTED)
    body = (f"约稿 {TITLE}\n单位：财务股\n截止：2019-06-10\n"
            "约稿 防汛准备工作情况\n单位：执法大队\n"
            "约稿 地质灾害防治\n单位：林业站\n截止：2019-06-10\n"
            "约稿 耕地保护宣传\n单位：执法大队\n截止：2019-05-01\n"
            "约稿 森林防火宣传\n单位：执法大队\n截止：下周五\n")
    send(app, command("约稿", body, auth=PASS), DAY)
    run(app)
    assert count(app, Request) == 0
    [reply] = outbox(app, "command")
    assert subject_of(reply) == "命令处理结果：已执行 0 项，未执行 5 项"
    said = text(reply)
    for line in (f"约稿 《{TITLE}》：没有名为“财务股”的单位。",
                 "约稿 《防汛准备工作情况》：没有写截止日期",
                 "约稿 《地质灾害防治》：“林业站”可指多个单位（望洪林业站、望远林业站）",
                 "约稿 《耕地保护宣传》：截止日期 2019-05-01 已过（今天是 2019-05-20）",
                 "约稿 《森林防火宣传》：没有写截止日期"):
        assert line in said, line
    assert "“约稿 森林防火宣传”：" in said  # the date not understood is said as well
