"""The console's roster page and its two actions: register (or move) an officer and remove
one, through officers.py as the CLI does (source `web`); refusals in Chinese; a viewer and a
missing CSRF token refused with nothing changed."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from mailroom.store.models import Officer
from support.web import OFFICE, Client, Site


def flashes(client: Client, path: str = "/roster") -> list[tuple[str, str]]:
    page = client.get(path).get_data(as_text=True)
    return [(kind, html.unescape(text)) for kind, text in
            re.findall(r'<p class="flash (\w+)"[^>]*>(.*?)</p>', page, re.S)]


def roster(site: Site) -> dict[str, tuple[str, str, str]]:
    with site.app.sessions() as session:
        return {o.address: (o.unit, o.name, o.source)
                for o in session.scalars(select(Officer))}


def registered_by(site: Site, address: str) -> str | None:
    with site.app.sessions() as session:
        return session.scalar(select(Officer.registered_by).where(Officer.address == address))


def test_units_with_their_officers_and_heads(office: Client) -> None:
    page = office.get("/roster").get_data(as_text=True)
    card = page[page.index("<h2>自然资源综合执法大队</h2>"):page.index("<h2>国土空间规划股</h2>")]
    assert "又称：执法大队、综合执法大队；每月任务 2 篇" in card
    assert "zfdd_dz@example.cn" in card  # its head
    assert re.search(r"zfdd_lm@163.com</td><td[^>]*>李明</td><td[^>]*>登记邮件</td>", card)
    assert re.search(r"zfdd2019@163.com</td><td[^>]*>—</td><td[^>]*>配置文件</td>", card)
    # an officer in the config cannot be removed here; one from a roster mail can
    assert card.count('action="/roster/officers/remove"') == 1
    assert 'value="zfdd_lm@163.com"' in card


def test_register_an_unknown_sender_and_it_leaves_decide(site: Site, office: Client) -> None:
    assert 'value="lh19900312@163.com"' in office.get("/decide").get_data(as_text=True)
    response = office.post("/roster/officers", {"address": "LH19900312@163.com ",
                                                "unit": "办公室", "name": "李华",
                                                "next": "/decide"})
    assert response.status_code == 303 and response.headers["Location"] == "/decide"
    assert flashes(office, "/decide") == [
        ("ok", "已将 lh19900312@163.com 登记为办公室的信息员（李华）。")]
    assert roster(site)["lh19900312@163.com"] == ("办公室", "李华", "web")
    assert registered_by(site, "lh19900312@163.com") == OFFICE  # the console user
    decide = office.get("/decide").get_data(as_text=True)
    assert "没有未登记的发件人。" in decide and 'value="lh19900312@163.com"' not in decide
    page = office.get("/roster").get_data(as_text=True)
    assert re.search(r"lh19900312@163.com</td><td[^>]*>李华</td><td[^>]*>网页（刘婧）</td>", page)


def test_move_and_remove_an_officer(site: Site, office: Client) -> None:
    office.post("/roster/officers", {"address": "zfdd_lm@163.com", "unit": "望洪站"})
    assert flashes(office) == [("ok", "已将 zfdd_lm@163.com 登记为望洪林业站的信息员（李明），"
                                      "原登记单位为自然资源综合执法大队。")]
    assert roster(site)["zfdd_lm@163.com"] == ("望洪林业站", "李明", "web")
    response = office.post("/roster/officers/remove", {"address": "zfdd_lm@163.com"})
    assert response.status_code == 303 and response.headers["Location"] == "/roster"
    assert flashes(office) == [("ok", "已将 zfdd_lm@163.com 从望洪林业站的信息员中移除；"
                                      "此后该邮箱报送的信息须在主题中写明单位。")]
    assert "zfdd_lm@163.com" not in roster(site)


def test_refusals_change_nothing(site: Site, office: Client) -> None:
    before = roster(site)
    cases = [
        ("/roster/officers", {"address": "a@example.cn", "unit": "没有这个股"},
         "没有名为“没有这个股”的单位。"),
        ("/roster/officers", {"address": "not an address", "unit": "办公室"},
         "未登记：“not an address”不是有效的邮箱地址。"),
        ("/roster/officers/remove", {"address": "ghg@example.cn"},
         "ghg@example.cn 是写在配置文件中的国土空间规划股信息员，网页上不能移除，"
         "请由管理员在配置文件中删除。"),
        ("/roster/officers/remove", {"address": "nobody@example.cn"},
         "nobody@example.cn 不在信息员名单中，无需移除。"),
    ]
    for path, form, said in cases:
        assert office.post(path, form).status_code == 303
        assert flashes(office) == [("error", said)]
    assert roster(site) == before


def test_a_viewer_and_a_missing_token_are_refused(site: Site, office: Client,
                                                  viewer: Client) -> None:
    before = roster(site)
    register = {"address": "new@example.cn", "unit": "办公室"}
    remove = {"address": "zfdd_lm@163.com"}
    assert viewer.post("/roster/officers", register).status_code == 403
    assert viewer.post("/roster/officers/remove", remove).status_code == 403
    assert office.post("/roster/officers", register, csrf=None).status_code == 400
    assert office.post("/roster/officers/remove", remove, csrf=None).status_code == 400
    assert roster(site) == before
    assert 'action="/roster/officers' not in viewer.get("/roster").get_data(as_text=True)


def test_a_hostile_name_stays_text(office: Client) -> None:
    office.post("/roster/officers", {"address": "x@example.cn", "unit": "办公室",
                                     "name": "<script>alert(1)</script>"})
    page = office.get("/roster").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
