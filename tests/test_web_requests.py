"""The console's 约稿 page: the list, a request added (recorded by the web user, its
约稿通知 queued to each unit asked) and closed, refusals said in Chinese, a viewer and a
missing CSRF token refused with nothing changed, a hostile title inert."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from mailroom.daemon import poll_once
from mailroom.store.models import OutgoingMail, Request, RequestUnit
from support.mail import deliver, make_mail
from support.web import Client, Site

FORM = {"title": "春季森林防火工作开展情况", "units": ["自然资源综合执法大队", "望洪林业站"],
        "due": "2019-06-10", "note": "800字以内，附照片", "next": "/requests"}


def flashes(client: Client, path: str = "/requests") -> list[tuple[str, str]]:
    page = client.get(path).get_data(as_text=True)
    return [(kind, html.unescape(text)) for kind, text in
            re.findall(r'<p class="flash (\w+)"[^>]*>(.*?)</p>', page, re.S)]


def counts(site: Site) -> tuple[int, int]:
    with site.app.sessions() as session:
        return (int(session.scalar(select(func.count()).select_from(Request)) or 0),
                int(session.scalar(select(func.count()).select_from(OutgoingMail).where(
                    OutgoingMail.purpose == "request")) or 0))


def test_no_request_yet_and_the_form(office: Client, viewer: Client) -> None:
    page = office.get("/requests").get_data(as_text=True)
    assert "还没有约稿。" in page
    assert '<form method="post" action="/requests"' in page
    assert '<input type="checkbox" name="units" value="黄河生态林场">' in page
    assert 'type="date" id="request-due" name="due" required min="2019-05-31"' in page
    assert '<form method="post" action="/requests"' not in viewer.get("/requests").get_data(
        as_text=True)


def test_add_and_close_a_request(site: Site, office: Client) -> None:
    response = office.post("/requests", FORM)
    assert response.status_code == 303 and response.headers["Location"] == "/requests"
    [(kind, text)] = flashes(office)
    assert kind == "ok"
    assert text.startswith("已登记约稿201905-01《春季森林防火工作开展情况》，截止 2019-06-10")
    assert ("约稿通知已交发信队列，发往自然资源综合执法大队（3 个邮箱）、"
            "望洪林业站（2 个邮箱）") in text
    with site.app.sessions() as session:
        request = session.scalars(select(Request)).one()
        assert (request.code, request.created_by, request.source, request.note) == (
            "约稿201905-01", "刘婧", "web", "800字以内，附照片")
        assert session.scalars(select(RequestUnit.unit).order_by(RequestUnit.position)).all() \
            == ["自然资源综合执法大队", "望洪林业站"]
        mails = session.execute(select(OutgoingMail.recipients, OutgoingMail.status).where(
            OutgoingMail.purpose == "request").order_by(OutgoingMail.id)).all()
    assert [(sorted(to), status) for to, status in mails] == [
        (["zfdd2019@163.com", "zfdd_dz@example.cn", "zfdd_lm@163.com"], "pending"),
        (["wanghong_lyz@126.com", "wanghong_zz@example.cn"], "pending")]
    page = office.get("/requests").get_data(as_text=True)
    assert "约稿201905-01" in page and "进行中" in page and "要求：800字以内，附照片" in page
    assert "自然资源综合执法大队、望洪林业站" in page  # not answered yet

    response = office.post("/requests/约稿201905-01/close", {"next": "/requests"})
    assert response.status_code == 303
    assert flashes(office) == [("ok", "约稿201905-01《春季森林防火工作开展情况》已结束："
                                      "不再关联新报送的信息，也不再提醒未报送的单位。")]
    with site.app.sessions() as session:
        request = session.scalars(select(Request)).one()
        assert (request.status, request.closed_by) == ("closed", "刘婧")
    assert "已结束" in office.get("/requests").get_data(as_text=True)
    office.post("/requests/约稿201905-01/close", {"next": "/requests"})
    assert flashes(office) == [("error", "约稿201905-01 此前已结束，无需再次结束。")]


def test_refusals_change_nothing(site: Site, office: Client) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"due": "2019-05-01"},
         "未登记：截止日期 2019-05-01 已过（今天是 2019-05-31），请改填截止日期。"),
        ({"units": []}, "未登记：请至少选择一个约稿单位。"),
        ({"title": "  "}, "未登记：请填写约稿题目。"),
        ({"due": ""}, "未登记：请填写截止日期。"),
        ({"units": ["没有这个股"]}, "没有名为“没有这个股”的单位。"),
    ]
    for change, said in cases:
        response = office.post("/requests", FORM | change)
        assert response.status_code == 303
        assert flashes(office) == [("error", said)]
    assert office.post("/requests", FORM | {"due": "31/05/2019"}).status_code == 400
    office.post("/requests/约稿201905-09/close")
    assert flashes(office) == [("error", "没有编号为 约稿201905-09 的约稿。")]
    assert counts(site) == (0, 0)


def test_a_viewer_and_a_missing_token_are_refused(site: Site, office: Client,
                                                  viewer: Client) -> None:
    assert viewer.post("/requests", FORM).status_code == 403
    assert office.post("/requests", FORM, csrf=None).status_code == 400
    assert office.post("/requests", FORM, csrf="forged").status_code == 400
    assert counts(site) == (0, 0)
    office.post("/requests", FORM)
    assert viewer.post("/requests/约稿201905-01/close").status_code == 403
    assert office.post("/requests/约稿201905-01/close", csrf=None).status_code == 400
    with site.app.sessions() as session:
        assert session.scalars(select(Request.status)).all() == ["open"]


def test_a_hostile_title_stays_text(office: Client) -> None:
    office.post("/requests", FORM | {"title": "<script>alert(1)</script>耕地保护",
                                     "note": "<img src=x onerror=alert(2)>"})
    page = office.get("/requests").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;耕地保护" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page


def test_who_answered_links_to_the_items(site: Site, office: Client) -> None:
    office.post("/requests", FORM)
    assert site.app.settings.maildir is not None
    deliver(Path(site.app.settings.maildir.path),
            make_mail("执法大队+约稿201905-01 春季森林防火工作开展情况", sender="zfdd2019@163.com",
                      body="我队开展春季森林防火宣传和巡查。"),
            datetime(2019, 5, 31, 11, tzinfo=timezone(timedelta(hours=8))))
    poll_once(site.app)
    page = office.get("/requests").get_data(as_text=True)
    answered = re.search(r'data-label="已报送">(.*?)</td>', page, re.S)
    missing = re.search(r'data-label="未报送">(.*?)</td>', page, re.S)
    assert answered and missing
    assert answered.group(1) == ('<div>自然资源综合执法大队：<a class="number" '
                                 'href="/items/201905-0024">201905-0024</a></div>')
    assert missing.group(1) == "望洪林业站"
