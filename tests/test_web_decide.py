"""The console's /decide page on the sample month: what waits for the office, with the
forms that settle it (posting to the items' and the roster's actions), empty sections said
in words, hostile strings inert, and no form at all for a viewer."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select, update

from mailroom.daemon import poll_once
from mailroom.store.models import Message, Submission
from mailroom.vocabulary import Kind
from support.items import CORRECTED_TEXT, CORRECTED_TITLE
from support.mail import deliver, make_mail
from support.web import Client, Site

CST = timezone(timedelta(hours=8))
SCRIPT = "<script>alert(1)</script>"


def send(site: Site, raw: bytes, day: int, hour: int = 9) -> None:
    assert site.app.settings.maildir is not None
    deliver(Path(site.app.settings.maildir.path), raw, datetime(2019, 5, day, hour, tzinfo=CST))


def forms(page: str) -> list[tuple[str, str]]:
    """(action, the form's markup) of every POST form on the page."""
    return re.findall(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', page, re.S)


def field(form: str, name: str) -> str:
    found = re.search(rf'name="{name}"(?: id="[^"]*")? value="([^"]*)"', form)
    assert found, (name, form)
    return found.group(1)


def test_the_sample_month_waits_for_an_assignment_and_a_sender(office: Client) -> None:
    response = office.get("/decide")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "没有待确认的疑似重复。" in page
    assert "没有身份验证未通过的信息。" in page and "没有处理失败的邮件。" in page
    assert '<a class="number" href="/items/201905-0019">201905-0019</a>' in page
    assert "我县举行“5·12”防灾减灾日宣传活动" in page
    posted = dict(forms(page))
    assign = posted["/items/201905-0019/assign"]
    assert field(assign, "next") == "/decide" and field(assign, "csrf_token")
    assert '<option value="黄河生态林场">黄河生态林场</option>' in assign
    register = posted["/roster/officers"]
    assert field(register, "address") == "lh19900312@163.com"
    assert field(register, "name") == "李华"  # the display name of the sender's mail
    assert '<select name="unit"' in register


def test_a_suspected_pair_side_by_side_with_its_two_forms(site: Site, office: Client) -> None:
    send(site, make_mail(f"办公室+{CORRECTED_TITLE}", sender="liujing_bgs@example.cn",
                         body=CORRECTED_TEXT), 30)
    poll_once(site.app)
    with site.app.sessions() as session:
        item = session.scalars(select(Submission).where(
            Submission.number == "201905-0024")).one()
        assert item.status == "suspected" and item.duplicate_of is not None
        first, score = item.duplicate_of.number, item.score
    page = office.get("/decide").get_data(as_text=True)
    assert "没有待确认的疑似重复" not in page
    assert f'与首报 <strong><a class="number" href="/items/{first}">{first}</a></strong>' in page
    assert f"相似度 <strong>{score:.0f}</strong>" in page
    assert "<mark>" in page  # the passages found in both
    reviews = [form for action, form in forms(page) if action == "/items/201905-0024/review"]
    assert [field(form, "decision") for form in reviews] == ["duplicate", "distinct"]
    assert field(reviews[0], "of") == first
    assert all(field(form, "next") == "/decide" for form in reviews)
    assert ">确认重复</button>" in reviews[0] and ">不是重复</button>" in reviews[1]


def test_flags_failed_mails_and_hostile_strings_stay_text(site: Site, office: Client) -> None:
    send(site, make_mail(f"{SCRIPT}的报告", sender=f'"王{SCRIPT}" <stranger@qq.com>'), 30)
    send(site, b"\x89PNG\r\n\x1a\n not a mail at all", 30, 10)
    poll_once(site.app)
    with site.app.sessions.begin() as session:
        session.execute(update(Message).where(Message.kind == Kind.FAILED)
                        .values(subject=f"{SCRIPT}关于上报材料"))
        item = session.scalars(select(Submission).where(
            Submission.number == "201905-0018")).one()  # what a forged sender's item is
        item.status, item.warnings = "rejected", ["sender_authentication_failed"]
        item.message.detail = {"flag": f"sender_authentication_failed: dmarc=fail {SCRIPT}"}
    page = office.get("/decide").get_data(as_text=True)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;的报告</td>" in page  # unassigned: its title
    assert "王&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the unknown sender's name
    assert "&lt;script&gt;alert(1)&lt;/script&gt;关于上报材料" in page  # the failed mail
    assert "not a mail message: no header section (a PNG image)" in page
    assert "dmarc=fail &lt;script&gt;" in page
    assert '<a class="number" href="/items/201905-0018">201905-0018</a>' in page


def test_a_viewer_sees_what_waits_but_no_form(viewer: Client) -> None:
    page = viewer.get("/decide").get_data(as_text=True)
    assert "201905-0019" in page and "lh19900312@163.com" in page
    assert [action for action, _ in forms(page) if action != "/logout"] == []


def test_the_forms_settle_it_through_the_items_actions(site: Site, office: Client) -> None:
    send(site, make_mail(f"办公室+{CORRECTED_TITLE}", sender="liujing_bgs@example.cn",
                         body=CORRECTED_TEXT), 30)
    poll_once(site.app)
    page = office.get("/decide").get_data(as_text=True)
    posted = [(action, form) for action, form in forms(page)
              if action in ("/items/201905-0024/review", "/items/201905-0019/assign")]
    confirm, assign = posted[0], posted[-1]

    def submit(action: str, form: str, **chosen: str) -> None:
        data = {name: value for name, value in re.findall(
            r'<input type="hidden" name="(\w+)" value="([^"]*)"', form) if name != "csrf_token"}
        response = office.post(action, data | chosen)
        assert response.status_code == 303 and response.headers["Location"] == "/decide"

    submit(*confirm)
    submit(*assign, unit="办公室")
    with site.app.sessions() as session:
        items = {s.number: s for s in session.scalars(select(Submission).where(
            Submission.number.in_(("201905-0024", "201905-0019"))))}
        assert items["201905-0024"].status == "duplicate"
        assert items["201905-0024"].reviewed_by == "刘婧"
        assert (items["201905-0019"].status, items["201905-0019"].unit) == ("counted", "办公室")
    page = office.get("/decide").get_data(as_text=True)
    assert "没有待确认的疑似重复。" in page and "没有未识别单位的信息。" in page
