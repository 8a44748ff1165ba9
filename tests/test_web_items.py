"""The console's items (web/pages_items.py, web/item_actions.py) on the sample month: the
list's filters, search, counts and pages; an item with its text, attachments, receipt,
decisions and its matched item side by side with the shared passages marked; every action
recorded as the web user's, from `web`; what a viewer, a missing CSRF token and hostile
mail cannot do."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast

import pytest
from flask import Flask
from sqlalchemy import func, select

from mailroom import listing
from mailroom.app import App
from mailroom.daemon import poll_once
from mailroom.store.models import (
    Adoption,
    Decision,
    Instruction,
    Request,
    RequestLink,
    RequestUnit,
    StoredAttachment,
    Submission,
)
from mailroom.web import item_list
from mailroom.web.app import create_app
from mailroom.web.item_list import ItemQuery
from support.items import CORRECTED_TEXT, CORRECTED_TITLE
from support.mail import deliver, make_mail
from support.web import OFFICE, SECRET, VIEWER, Client, logged_in, open_site


@pytest.fixture(scope="module")
def shared(sample_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One copy of the sample site for the tests that only read (or must change nothing)."""
    folder = tmp_path_factory.mktemp("items") / "site"
    shutil.copytree(sample_site, folder)
    opened = open_site(folder)
    web = create_app(opened.app, SECRET)
    web.testing = True
    yield web
    opened.app.close()


@pytest.fixture(scope="module")
def reader(shared: Flask) -> Client:
    """The office, logged in once on the shared copy: for what changes nothing."""
    return logged_in(shared, OFFICE)


@pytest.fixture(scope="module")
def looker(shared: Flask) -> Client:
    """A viewer, logged in once on the shared copy."""
    return logged_in(shared, VIEWER)


def core_of(web: Flask) -> App:
    return cast(App, web.extensions["mailroom"])


CST = timezone(timedelta(hours=8))
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
XSS = "<script>alert(1)</script>"


def fetch(client: Any, path: str) -> Any:
    """An attachment, read whole (its file closed)."""
    return client.get(path, buffered=True)


def numbers(html: str) -> list[str]:
    """The item numbers the list's rows link to, in order (each row links twice)."""
    return list(dict.fromkeys(re.findall(r'href="/items/(\d{6}-\d{4})"', html)))


def rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return list(dict.fromkeys(re.findall(r'<td class="nowrap"><a href="/items/(\d{6}-\d{4})"',
                                         body)))


def submit(site: Any, subject: str, body: str, day: int, sender: str = "whlyz@example.cn",
           attachments: tuple[tuple[str, bytes], ...] = ()) -> str:
    """A mail delivered to the site's Maildir and polled; the number it got."""
    maildir = Path(site.app.settings.maildir.path)
    deliver(maildir, make_mail(subject, sender=sender, body=body, attachments=attachments),
            datetime(2019, 5, day, 9, tzinfo=CST))
    report = poll_once(site.app)
    return str(report.outcomes[-1].number)


def state(app: App, number: str) -> dict[str, Any]:
    with app.sessions() as session:
        item = session.scalars(select(Submission).where(Submission.number == number)).one()
        return {"status": item.status, "unit": item.unit,
                "adoptions": sorted(session.scalars(select(Adoption.channel).where(
                    Adoption.submission_id == item.id))),
                "instructions": session.scalar(select(func.count()).select_from(Instruction)
                                               .where(Instruction.submission_id == item.id)),
                "decisions": [(d.action, d.by, d.source) for d in session.scalars(
                    select(Decision).where(Decision.submission_id == item.id)
                    .order_by(Decision.id))]}


# --- the list -----------------------------------------------------------------------------


def test_query_from_the_form_ignores_what_it_cannot_use() -> None:
    assert ItemQuery.parse({}, "2019-05") == ItemQuery(month="2019-05")
    assert ItemQuery.parse({"month": ""}, "2019-05").month == ""  # the form's 全部月份
    odd = ItemQuery.parse({"month": "2019-13", "status": "gone", "priority": "x",
                           "page": "-3", "sort": "drop table", "q": "  规划   编制 ",
                           "unit": " 办公室 "}, "2019-05")
    assert odd == ItemQuery(month="", q="规划 编制", unit="办公室")
    assert ItemQuery.parse({"page": "abc"}, "2019-05").page == 1
    assert ItemQuery(month="2019-05", status="counted", page=2).args(page=3) == {
        "month": "2019-05", "status": "counted", "page": 3}


def test_the_list_shows_the_month_newest_first_with_counts(shared: Flask, reader: Client
                                                          ) -> None:
    app = core_of(shared)
    with app.sessions() as session:
        may = listing.submission_rows(session, "2019-05", app.settings.zone)
    html = reader.get("/items").get_data(as_text=True)
    assert rows(html) == sorted((row["number"] for row in may), reverse=True)
    assert f"共 <strong>{len(may)}</strong> 条" in html
    duplicates = [row["number"] for row in may if row["status"] == "duplicate"]
    assert f"重复不计数 {len(duplicates)}" in html
    assert "我县开展永久基本农田保护红线专项检查" in html
    by_number = reader.get("/items?month=2019-05&sort=number").get_data(as_text=True)
    assert rows(by_number) == sorted(row["number"] for row in may)


@pytest.mark.parametrize(("args", "expected"), [
    ("status=duplicate", ["201905-0012", "201905-0010"]),
    ("priority=urgent", ["201905-0015"]),
    ("unit=耕地保护股", ["201905-0010", "201905-0009", "201905-0002"]),
    ("unit=-", ["201905-0019"]),
    ("q=规划编制", ["201905-0012", "201905-0011", "201905-0003"]),
    ("q=%25", []),  # a LIKE wildcard is a character like any other
    ("month=&q=入库", ["201906-0001"]),
    ("month=2019-06", ["201906-0001"]),
    ("month=2019-05&unit=黄河生态林场&status=counted", ["201905-0022", "201905-0016",
                                                        "201905-0015", "201905-0006"]),
])
def test_the_list_filters(reader: Client, args: str, expected: list[str]) -> None:
    html = reader.get(f"/items?{args}").get_data(as_text=True)
    assert rows(html) == expected
    assert f"共 <strong>{len(expected)}</strong> 条" in html
    if not expected:
        assert "没有符合条件的信息" in html


def test_the_search_matches_the_database(shared: Flask, reader: Client) -> None:
    with core_of(shared).sessions() as session:
        titles = {n: t for n, t in session.execute(select(Submission.number, Submission.title))}
    for word in ("我县", "工作", "林"):
        html = reader.get(f"/items?month=&q={word}").get_data(as_text=True)
        assert sorted(rows(html)) == sorted(n for n, t in titles.items() if word in t)


def test_the_list_pages(reader: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(item_list, "PAGE_SIZE", 10)
    first = reader.get("/items?month=2019-05").get_data(as_text=True)
    third = reader.get("/items?month=2019-05&page=3").get_data(as_text=True)
    beyond = reader.get("/items?month=2019-05&page=99").get_data(as_text=True)
    assert len(rows(first)) == 10 and rows(first)[0] == "201905-0023"
    assert rows(third) == ["201905-0003", "201905-0002", "201905-0001"]
    assert rows(beyond) == rows(third)  # the last page
    assert "第 1 / 3 页" in first and "page=2" in first and "上一页" not in first
    assert "上一页" in third and "下一页" not in third


# --- an item -----------------------------------------------------------------------------


def test_an_item_shows_what_submissions_show_gives(reader: Client) -> None:
    html = reader.get("/items/201905-0004").get_data(as_text=True)
    for shown in ("“大棚房”整治“回头看”查处喆丰农业违法占地问题", "自然资源综合执法大队",
                  "2019-05-08 15:03", "现场照片1.jpg", "现场照片2.jpg", "回执 201905-0004",
                  "已发送", "已计数"):
        assert shown in html, shown
    assert re.search(r'<img class="item-image" src="/items/201905-0004/attachments/\d+"', html)
    assert 'name="channel"' in html and 'name="leader"' in html  # the office's forms
    covered = reader.get("/items/201905-0011").get_data(as_text=True)  # body: a cover note
    assert "请审核后尽快上报县政府网站" in covered
    assert "附件正文" in covered and "科学划定“三区三线”" in covered  # the .docx, read
    assert reader.get("/items/2019050004").status_code == 302  # the number as written
    assert reader.get("/items/201905-0999").status_code == 404
    assert reader.get("/items/nonsense").status_code == 404


def test_follow_ups_and_requests_are_linked(site: Any, office: Any) -> None:
    followup = office.get("/items/201905-0016").get_data(as_text=True)
    assert '本条是 <a href="/items/201905-0015">201905-0015</a> 的续报' in followup
    assert 'href="/items/201905-0016"' in office.get("/items/201905-0015").get_data(
        as_text=True)
    at = site.app.clock.now()
    with site.app.sessions.begin() as session:
        item = session.scalars(select(Submission).where(
            Submission.number == "201905-0011")).one()
        request = Request(code="约稿201905-01", month="2019-05", sequence=1,
                          title="国土空间规划编制进展", due="2019-05-31", status="open",
                          created_at=at, created_by="刘婧", source="cli")
        session.add(request)
        session.flush()
        session.add(RequestUnit(request_id=request.id, position=0, unit="国土空间规划股"))
        session.add(RequestLink(request_id=request.id, submission_id=item.id, how="code",
                                linked_at=at))
    page = office.get("/items/201905-0011").get_data(as_text=True)
    assert "约稿201905-01</a>《国土空间规划编制进展》（稿件注明约稿编号）" in page


def test_the_receipt_an_item_got_opens_as_text(reader: Client) -> None:
    page = reader.get("/items/201905-0004").get_data(as_text=True)
    link = re.search(r'href="(/items/201905-0004/replies/(\d+))"', page)
    assert link, "no link to the receipt"
    receipt = reader.get(link.group(1)).get_data(as_text=True)
    assert "回执 201905-0004" in receipt and "zfdd2019@163.com" in receipt
    text = receipt.split('<div class="item-text">', 1)[1]
    assert "编号：201905-0004" in text and "状态：已计数。" in text  # what the unit was told
    assert reader.get(f"/items/201905-0005/replies/{link.group(2)}").status_code == 404
    assert reader.get("/items/201905-0004/replies/../1").status_code == 404


def test_a_duplicate_shows_its_first_report_side_by_side(reader: Client) -> None:
    html = reader.get("/items/201905-0012").get_data(as_text=True)
    pair = html.split('id="pair"', 1)[1].split("</section>", 1)[0]
    assert 'href="/items/201905-0011"' in pair and "相似度 96" in pair
    left, right = pair.split('class="pair-side"')[1:3]
    shared = "会议通报了全县国土空间总体规划编制工作进展情况"
    assert shared in re.findall(r"<mark>(.*?)</mark>", left, re.S)[1]
    assert any(shared in m for m in re.findall(r"<mark>(.*?)</mark>", right, re.S))
    repeat = reader.get("/items/201905-0010").get_data(as_text=True)
    assert '与首报 <a href="/items/201905-0009">201905-0009</a> 内容基本相同' in repeat
    left = repeat.split('id="pair"', 1)[1].split('class="pair-side"')[1]
    assert "共抽查保护地块52个" in left  # its changed figure, not marked:
    assert not any("52个" in m for m in re.findall(r"<mark>(.*?)</mark>", left, re.S))


def test_a_suspected_pair_is_confirmed_from_its_page(site: Any, office: Any) -> None:
    number = submit(site, f"望洪林业站+{CORRECTED_TITLE}", CORRECTED_TEXT, 25)
    html = office.get(f"/items/{number}").get_data(as_text=True)
    pair = html.split('id="pair"', 1)[1].split("</section>", 1)[0]
    assert "疑似重复" in pair and 'href="/items/201905-0011"' in pair
    marked = re.findall(r"<mark>(.*?)</mark>", pair.split('class="pair-side"')[1], re.S)
    assert any("科学划定“三区三线”" in m for m in marked)
    assert not any("各乡镇作了表态发言" in m for m in marked)  # the sentence it added
    answer = office.post(f"/items/{number}/review",
                         {"decision": "duplicate", "of": "201905-0011",
                          "next": f"/items/{number}"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"/items/{number}")
    after = state(site.app, number)
    assert after["status"] == "duplicate"
    assert after["decisions"] == [("duplicate", OFFICE, "web")]
    page = office.get(f"/items/{number}").get_data(as_text=True)
    assert "已确认为重复（首报 201905-0011），不计数" in page  # flashed
    assert "疑似重复 → 重复不计数" in page and "网页" in page  # the decision, from where


# --- actions ---------------------------------------------------------------------------------


def test_adopt_instruct_unadopt_are_the_web_users(site: Any, office: Any) -> None:
    item = "/items/201905-0011"
    answer = office.post(f"{item}/adopt", {"channel": "县政府网站", "note": "首页"})
    assert answer.status_code == 303
    assert "已记为“县政府网站”采用" in office.get(item).get_data(as_text=True)
    office.post(f"{item}/instruct", {"leader": "伍庭利", "text": "请各股室学习借鉴"})
    assert state(site.app, "201905-0011")["adoptions"] == ["县政府网站"]
    assert state(site.app, "201905-0011")["instructions"] == 1
    html = office.get(item).get_data(as_text=True)
    assert "伍庭利批示：请各股室学习借鉴" in html
    office.post(f"{item}/unadopt", {"channel": "县政府网站"})
    after = state(site.app, "201905-0011")
    assert after["adoptions"] == []
    assert after["decisions"] == [(a, OFFICE, "web") for a in ("adopt", "instruct",
                                                                       "unadopt")]
    assert "已撤销“县政府网站”对 201905-0011" in office.get(item).get_data(as_text=True)


def test_assign_and_a_review_of_a_duplicate(site: Any, office: Any) -> None:
    office.post("/items/201905-0019/assign", {"unit": "办公室"})
    assert state(site.app, "201905-0019")["unit"] == "办公室"
    assert state(site.app, "201905-0019")["decisions"] == [("assign", OFFICE, "web")]
    office.post("/items/201905-0010/review", {"decision": "distinct"})
    assert state(site.app, "201905-0010")["status"] == "counted"
    assert "已确认不是重复" in office.get("/items/201905-0010").get_data(as_text=True)


def test_a_refused_decision_is_flashed_and_changes_nothing(site: Any, office: Any) -> None:
    before = state(site.app, "201905-0010")
    answer = office.post("/items/201905-0010/adopt", {"channel": "县政府网站",
                                                      "next": "/items?status=duplicate"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith(
        "/items?status=duplicate")
    assert state(site.app, "201905-0010") == before
    html = office.get("/items/201905-0010").get_data(as_text=True)
    assert "是 201905-0009 的重复件，不计数" in html
    office.post("/items/201905-0011/assign", {"unit": "办公室", "next": "//evil.example/"})
    assert "只有未识别单位的信息才能分配" in office.get("/items/201905-0011").get_data(
        as_text=True)
    assert office.post("/items/201905-0011/adopt", {"note": "no channel"}).status_code == 400
    assert office.post("/items/201905-0011/review", {"decision": "maybe"}).status_code == 400


ACTIONS = [("adopt", {"channel": "县政府网站"}), ("unadopt", {"channel": "县政府网站"}),
           ("instruct", {"leader": "伍庭利"}), ("review", {"decision": "distinct"}),
           ("assign", {"unit": "办公室"})]


@pytest.mark.parametrize(("action", "form"), ACTIONS)
def test_a_viewer_and_a_missing_token_change_nothing(shared: Flask, looker: Client,
                                                     reader: Client, action: str,
                                                     form: dict[str, str]) -> None:
    number = "201905-0019" if action == "assign" else "201905-0010" \
        if action == "review" else "201905-0011"
    before = state(core_of(shared), number)
    assert looker.post(f"/items/{number}/{action}", form).status_code == 403
    assert reader.post(f"/items/{number}/{action}", form, csrf=None).status_code == 400
    assert reader.post(f"/items/{number}/{action}", form, csrf="forged").status_code == 400
    assert state(core_of(shared), number) == before


def test_a_viewer_sees_the_item_without_forms(looker: Client) -> None:
    html = looker.get("/items/201905-0012").get_data(as_text=True)
    assert "会议通报了全县国土空间总体规划编制工作进展情况" in html
    assert "<form method=\"post\"" not in html.split("<main", 1)[-1]


def test_no_session_no_items(shared: Flask) -> None:
    anonymous = Client(shared)
    for path in ("/items", "/items/201905-0004"):
        assert anonymous.get(path).status_code == 302


# --- attachments -----------------------------------------------------------------------------


def attachment_ids(app: App, number: str) -> dict[str, int]:
    with app.sessions() as session:
        return {name: pk for name, pk in session.execute(
            select(StoredAttachment.filename, StoredAttachment.id)
            .join(Submission, Submission.message_pk == StoredAttachment.message_pk)
            .where(Submission.number == number))}


def test_attachments_are_served_by_their_bytes(shared: Flask, reader: Client) -> None:
    ids = attachment_ids(core_of(shared), "201905-0004")
    image = fetch(reader, f"/items/201905-0004/attachments/{ids['现场照片1.jpg']}")
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/jpeg"
    assert image.headers["Content-Disposition"].startswith("inline; ")
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert image.get_data()[:3] == b"\xff\xd8\xff"
    download = fetch(reader, f"/items/201905-0004/attachments/{ids['现场照片1.jpg']}?download=1")
    assert download.headers["Content-Disposition"].startswith("attachment; ")
    name = "执法大队+“大棚房”整治“回头看”查处喆丰农业违法占地问题.docx"
    document = fetch(reader, f"/items/201905-0004/attachments/{ids[name]}")
    assert document.headers["Content-Type"] == "application/octet-stream"
    assert document.headers["Content-Disposition"].startswith("attachment; ")
    assert "filename*=UTF-8''%E6%89%A7%E6%B3%95" in document.headers["Content-Disposition"]
    assert document.get_data()[:2] == b"PK"


def test_only_the_items_own_attachments(shared: Flask, reader: Client, looker: Client
                                        ) -> None:
    other = attachment_ids(core_of(shared), "201905-0004")["现场照片1.jpg"]
    assert fetch(reader, f"/items/201905-0005/attachments/{other}").status_code == 404
    assert reader.get("/items/201905-0004/attachments/999999").status_code == 404
    for path in ("../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "1.0", "-1", "%2e%2e"):
        assert fetch(reader, f"/items/201905-0004/attachments/{path}").status_code == 404, path
    assert fetch(looker, f"/items/201905-0004/attachments/{other}").status_code == 200


# --- hostile mail -----------------------------------------------------------------------------


def test_script_in_a_subject_a_file_name_and_a_body_stays_text(site: Any, office: Any) -> None:
    number = submit(site, f"望洪林业站+{XSS}标题", f"正文{XSS}<img src=x onerror=alert(2)>",
                    26, attachments=((f"{XSS}.png", b"<html><script>alert(3)</script>"),
                                     ("照片.png", PNG)))
    listed = office.get("/items?q=script").get_data(as_text=True)
    assert rows(listed) == [number]
    page = office.get(f"/items/{number}").get_data(as_text=True)
    for html in (listed, page):
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    ids = attachment_ids(site.app, number)
    fake = fetch(office, f"/items/{number}/attachments/{ids[XSS + '.png']}")
    assert fake.headers["Content-Type"] == "application/octet-stream"
    assert fake.headers["Content-Disposition"].startswith("attachment; ")
    real = fetch(office, f"/items/{number}/attachments/{ids['照片.png']}")
    assert real.headers["Content-Type"] == "image/png"
    assert f'src="/items/{number}/attachments/{ids[XSS + ".png"]}"' not in page  # not an image
