"""The console's outbox page: what was sent (purposes in words), newest first, by status,
a page at a time; what failed and why, its error inert."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from mailroom.store.models import OutgoingMail
from mailroom.web import lists
from support.web import Client, Site


def rows(page: str) -> list[str]:
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    return re.findall(r"<tr class=\"\w+\">(.*?)</tr>", body, re.S)


def test_the_sample_months_mail(site: Site, office: Client) -> None:
    with site.app.sessions() as session:
        sent = int(session.scalar(select(func.count()).select_from(OutgoingMail)) or 0)
    page = office.get("/outbox").get_data(as_text=True)
    assert f'全部 <span class="count">{sent}</span>' in page
    assert f'已发送 <span class="count">{sent}</span>' in page
    assert '发送失败 <span class="count">0</span>' in page
    shown = rows(page)
    assert len(shown) == min(sent, lists.PER_PAGE)
    assert "回执 201906-0001" in shown[0]  # the newest first
    assert ">回执</td>" in shown[0] and "已发送" in shown[0]
    assert any(">紧急提醒</td>" in row for row in shown)
    empty = office.get("/outbox?status=failed").get_data(as_text=True)
    assert "没有发送失败的邮件。" in empty


def test_failed_and_queued_mail_says_why(site: Site, office: Client) -> None:
    with site.app.sessions.begin() as session:
        first, second = session.scalars(select(OutgoingMail.id).order_by(
            OutgoingMail.id).limit(2)).all()
        session.execute(update(OutgoingMail).where(OutgoingMail.id == first).values(
            status="failed", attempts=1, sent_at=None,
            last_error="550 5.1.1 <script>alert(1)</script> user unknown"))
        session.execute(update(OutgoingMail).where(OutgoingMail.id == second).values(
            status="pending", attempts=2, sent_at=None, last_error="421 try again later",
            next_attempt_at=site.clock.now() + timedelta(minutes=5)))
    page = office.get("/outbox?status=failed").get_data(as_text=True)
    [row] = rows(page)
    assert "<script>" not in page
    assert "550 5.1.1 &lt;script&gt;alert(1)&lt;/script&gt; user unknown" in row
    assert "发送失败" in row and "已试 1 次" in row
    for status in ("pending", "queued"):
        [row] = rows(office.get(f"/outbox?status={status}").get_data(as_text=True))
        assert "待发送" in row and "已试 2 次" in row and "421 try again later" in row
        assert "2019-05-31 10:05 重试" in row


def test_pages(site: Site, office: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lists, "PER_PAGE", 10)
    with site.app.sessions() as session:
        total = int(session.scalar(select(func.count()).select_from(OutgoingMail)) or 0)
    pages = -(-total // 10)
    first = office.get("/outbox").get_data(as_text=True)
    assert f"第 1 / {pages} 页，共 {total} 封" in first
    assert 'href="/outbox?page=2">下一页</a>' in first and "上一页" not in first
    last = office.get(f"/outbox?page={pages}").get_data(as_text=True)
    assert len(rows(last)) == total - 10 * (pages - 1) and "下一页" not in last
    assert rows(office.get("/outbox?page=999").get_data(as_text=True)) == rows(last)
    assert rows(office.get("/outbox?page=x").get_data(as_text=True)) == rows(first)


def test_a_viewer_may_look(viewer: Client) -> None:
    assert viewer.get("/outbox").status_code == 200
