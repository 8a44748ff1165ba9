"""The month page (`/`) and the reports page (`/reports`): the bulletin's own figures, the
SVG charts, the preview, the downloads and the send; and the charts' geometry (pure)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

import pytest
from flask import Flask
from sqlalchemy import func, select

from mailroom.decisions import Actor, Decisions
from mailroom.dedupe.engine import Dedupe
from mailroom.reports import sending, service
from mailroom.reports.render import RENDERERS
from mailroom.reports.render_json import monthly_object
from mailroom.store.models import OutgoingMail
from mailroom.vocabulary import DecisionSource
from mailroom.web.app import create_app
from mailroom.web.charts import (
    WIDTH,
    months_ending,
    nice_step,
    progress,
    scale_top,
    shift_month,
    trend_columns,
    unit_bars,
)
from mailroom.web.pages_month import DOWNLOADS, PREVIEW_POLICY
from support.cli import restore_logging, run  # noqa: F401  (restore_logging: autouse)
from support.web import OFFICE, SECRET, Client, Site, logged_in, open_site


@pytest.mark.parametrize(("period", "delta", "expected"), [
    ("2019-05", -1, "2019-04"), ("2019-01", -1, "2018-12"), ("2019-12", 1, "2020-01"),
    ("2019-05", -12, "2018-05"), ("2019-05", 0, "2019-05"), ("2019-05", 19, "2020-12"),
])
def test_shift_month(period: str, delta: int, expected: str) -> None:
    assert shift_month(period, delta) == expected


def test_months_ending_runs_twelve_months_oldest_first() -> None:
    months = months_ending("2019-05")
    assert months[0] == "2018-06" and months[-1] == "2019-05" and len(months) == 12
    assert list(months) == sorted(months)


@pytest.mark.parametrize(("top", "step", "end"), [
    (0, 1, 1), (1, 1, 1), (4, 1, 4), (6, 1, 6), (7, 2, 8), (11, 2, 12), (13, 5, 15),
    (30, 5, 30), (31, 10, 40), (95, 20, 100), (1234, 500, 1500),
])
def test_scale_ends_on_a_nice_step(top: int, step: int, end: int) -> None:
    assert nice_step(top) == step
    assert scale_top(top) == end


def test_progress_is_capped_and_a_zero_quota_is_met() -> None:
    assert progress(0, 2) == 0
    assert progress(1, 2) == 50
    assert progress(5, 2) == 100
    assert progress(0, 0) == 100


def test_unit_bars_scale_to_the_largest_value_or_quota() -> None:
    chart = unit_bars([("黄河生态林场", 4, 2), ("耕地保护股", 1, 2), ("望洪林业站", 0, 3)])
    first, second, third = chart.bars
    assert chart.ticks[0].value == 0 and chart.ticks[-1].value == 4
    assert chart.ticks[-1].position <= WIDTH
    assert first.length == pytest.approx(2 * chart.bars[0].target_x - 2 * chart.left)
    assert second.length == pytest.approx(first.length / 4)
    assert third.length == 0
    assert third.target_x == pytest.approx(chart.left + first.length * 3 / 4)
    assert [b.met for b in chart.bars] == [True, False, False]
    assert second.top > first.top and chart.height > third.bar_y + chart.bar_height


def test_unit_bars_with_nothing_at_all() -> None:
    chart = unit_bars([("办公室", 0, 0)])
    assert chart.bars[0].length == 0
    assert [t.value for t in chart.ticks] == [0, 1]


def test_trend_columns_mark_the_chosen_month_and_grow_upwards() -> None:
    points = [(month, n) for month, n in zip(months_ending("2019-05"), range(12), strict=True)]
    chart = trend_columns(points, "2019-05")
    assert [c.chosen for c in chart.columns] == [False] * 11 + [True]
    assert chart.columns[0].height == 0 and chart.columns[0].y == chart.base
    tallest = chart.columns[-1]
    assert tallest.value == 11 and tallest.y < chart.columns[5].y
    assert chart.ticks[-1].value == 15 and chart.ticks[-1].position < tallest.y
    lefts = [c.x for c in chart.columns]
    assert lefts == sorted(lefts) and chart.columns[-1].x + tallest.width <= chart.right
    assert (chart.columns[0].year, chart.columns[0].month) == (2018, 6)


# -- the pages, on the sample month (tests/support/web.py) --------------------------------

MAY = "2019-05"
SVG = "{http://www.w3.org/2000/svg}"


def monthly_report(site: Site, period: str = MAY) -> Any:
    with site.app.sessions() as session:
        return service.monthly(session, site.app.settings, period, site.app.clock.now())


def decide_some(site: Site) -> None:
    """Adoptions and a 批示, so scores, ranks and 采用 are not all zero."""
    decisions = Decisions(site.app.settings, Dedupe(site.app.settings.dedupe))
    actor = Actor("测试", DecisionSource.CLI, site.app.clock.now())
    with site.app.sessions.begin() as session:
        decisions.adopt(session, "201905-0001", "县政府网站", actor)
        decisions.adopt(session, "201905-0001", "自治区", actor)
        decisions.adopt(session, "201905-0004", "银川市", actor)
        decisions.instruct(session, "201905-0004", "伍庭利", "请各单位学习", actor)


def table_rows(page: str) -> list[dict[str, str]]:
    """The month page's unit table as {column key: cell text} per row (tbody)."""
    found = re.search(r'<table class="month-units">.*?</table>', page, re.S)
    assert found, "no unit table"
    table = ET.fromstring(found.group(0))  # well-formed markup, parsed as XML
    rows = []
    for tr in table.iter("tr"):
        if tr not in list(table.iter("tbody"))[0]:
            continue
        rows.append({cell.get("class", "").split()[0].removeprefix("col-"):
                     "".join(cell.itertext()).strip() for cell in tr})
    return rows


def charts(page: str) -> dict[str, ET.Element]:
    """Every chart on the page, parsed as XML (so well-formed), by its class."""
    found = re.findall(r'<svg class="chart [^"]*".*?</svg>', page, re.S)
    parsed = [ET.fromstring(svg) for svg in found]
    return {svg.get("class", "").split()[1]: svg for svg in parsed}


def texts(svg: ET.Element, css_class: str) -> list[str]:
    """The text of every <text> of the chart with that class, in order."""
    return [t.text or "" for t in svg.iter(f"{SVG}text")
            if css_class in (t.get("class") or "").split()]


def test_the_month_page_shows_the_bulletins_figures(site: Site, office: Client) -> None:
    decide_some(site)
    expected = monthly_object(monthly_report(site))
    page = office.get("/?month=2019-05").get_data(as_text=True)
    rows = table_rows(page)
    assert [row["unit"].removesuffix("零报送").strip() for row in rows] == [
        unit["unit"] for unit in expected["units"]]
    for row, unit in zip(rows, expected["units"], strict=True):
        for key in ("rank", "submitted", "counted", "suspected", "quota", "adopted", "score"):
            assert row[key] == str(unit[key]), (unit["unit"], key)
        assert row["progress"] == f"{unit['counted']}/{unit['quota']}"
        assert row["meets_quota"] == ("√" if unit["meets_quota"] else "×")
        assert row["unit"].endswith("零报送") == (unit["unit"] in expected["zero_report"])
    top = expected["units"][0]
    assert top["score"] > 0 and top["rank"] == 1  # the decisions show
    assert "2019年5月信息报送" in page and "李俊林业站" in expected["zero_report"]
    assert "零报送：李俊林业站" in page
    assert 'href="/?month=2019-04"' in page and 'href="/?month=2019-06"' in page
    assert "/items?month=2019-05&amp;unit=%E6%9D%8E%E4%BF%8A%E6%9E%97%E4%B8%9A%E7%AB%99" in page
    assert 'href="/decide"' in page and " style=" not in page and "<script" not in page


def test_the_month_pages_charts_are_well_formed_and_say_their_numbers(
        site: Site, office: Client) -> None:
    report = monthly_report(site)
    page = office.get("/").get_data(as_text=True)  # this month: May 2019 at the site's time
    found = charts(page)
    bars, trend = found["chart-bars"], found["chart-trend"]
    for svg in (bars, trend):
        assert svg.get("role") == "img" and svg.find(f"{SVG}title") is not None
    counted = {line.unit: line.tally.counted for line in report.units}
    labels = texts(bars, "bar-label")
    values = texts(bars, "bar-value")
    assert sorted(labels) == sorted(counted)
    assert values == [f"{counted[u]}篇 / 任务2" for u in labels]
    assert [counted[u] for u in labels] == sorted(counted.values(), reverse=True)
    desc = bars.find(f"{SVG}desc")
    assert desc is not None and "李俊林业站：计分0篇，任务2篇，未完成" in (desc.text or "")
    columns = texts(trend, "column-value")
    assert columns == ["0"] * 11 + [str(report.totals.counted)]
    months = texts(trend, "column-month")
    assert months == [f"{m}月" for m in (6, 7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5)]
    june = charts(office.get("/?month=2019-06").get_data(as_text=True))["chart-trend"]
    june_values = texts(june, "column-value")
    assert june_values[-2:] == [str(report.totals.counted),
                                str(monthly_report(site, "2019-06").totals.counted)]


def test_a_month_it_cannot_read_is_a_400_in_chinese(office: Client) -> None:
    for month in ("2019-13", "201905", "May", "2019-5", "0001-01", "<b>"):
        response = office.get("/", query_string={"month": month})
        assert response.status_code == 400, month
        page = response.get_data(as_text=True)
        assert "无法识别" in page and "<b>" not in page
        assert office.get("/reports", query_string={"month": month}).status_code == 400
    assert office.get("/reports?year=19").status_code == 400
    future = office.get("/reports?year=2020")  # the site's clock is in May 2019
    assert future.status_code == 400 and "2020年还没有开始" in future.get_data(as_text=True)
    ahead = office.get("/reports?month=2020-03").get_data(as_text=True)
    assert 'href="/reports/annual/2019.xlsx"' in ahead  # no link to a year not begun


def test_an_empty_month_opens_the_latest_month_with_items(site: Site, console: Flask) -> None:
    site.clock.advance(timedelta(days=70))  # 2019-08-09: nothing received in August
    office = logged_in(console, OFFICE)
    response = office.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/?month=2019-06"
    page = office.get(response.headers["Location"]).get_data(as_text=True)
    assert "本月（2019年8月）还没有收到信息，下面是最近有信息的2019年6月。" in page
    assert office.get("/?month=2019-08").status_code == 200  # asked for: shown, empty


def hostile_console(site: Site) -> Flask:
    """The site with a unit whose name is markup, and an item of it."""
    config = site.config.read_text(encoding="utf-8")
    site.config.write_text(config + '\n[[units]]\nname = "<script>alert(1)</script>股"\n',
                           encoding="utf-8")
    hostile = open_site(site.folder, site.app.clock.now())
    decisions = Decisions(hostile.app.settings, Dedupe(hostile.app.settings.dedupe))
    actor = Actor("测试", DecisionSource.CLI, hostile.app.clock.now())
    with hostile.app.sessions.begin() as session:
        decisions.assign(session, "201905-0019", "<script>alert(1)</script>股", actor)
    web = create_app(hostile.app, SECRET)
    web.testing = True
    return web


def test_a_unit_named_with_markup_stays_text(site: Site) -> None:
    client = logged_in(hostile_console(site), OFFICE)
    page = client.get("/?month=2019-05").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;股" in page
    rows = table_rows(page)
    assert "<script>alert(1)</script>股" in [row["unit"] for row in rows]
    bars = charts(page)["chart-bars"]
    labels = texts(bars, "bar-label")
    assert "<script>alert(…" in labels  # a long name is cut short in the chart …
    desc = bars.find(f"{SVG}desc")
    assert desc is not None and "<script>alert(1)</script>股：计分1篇" in (desc.text or "")
    preview = client.get("/reports/monthly/2019-05/preview").get_data(as_text=True)
    assert "<script>alert" not in preview


def test_the_reports_page_previews_in_a_sandboxed_frame(office: Client, viewer: Client) -> None:
    response = office.get("/reports?month=2019-05")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and " style=" not in page
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert '<iframe class="month-preview-frame" src="/reports/monthly/2019-05/preview" ' \
           'sandbox=""' in page
    for fmt in DOWNLOADS:
        assert f'href="/reports/monthly/2019-05.{fmt}"' in page
        assert f'href="/reports/annual/2019.{fmt}"' in page
    assert 'action="/reports/monthly/2019-05/send"' in page
    assert 'action="/reports/annual/2019/send"' in page
    annual = office.get("/reports?year=2019").get_data(as_text=True)
    assert 'src="/reports/annual/2019/preview"' in annual
    viewing = viewer.get("/reports").get_data(as_text=True)
    assert "/send" not in viewing and "只有办公室人员可以发送" in viewing
    assert 'href="/reports/monthly/2019-05.xlsx"' in viewing  # this month by default


def test_the_preview_is_the_html_renderers_document(site: Site, viewer: Client) -> None:
    response = viewer.get("/reports/monthly/2019-05/preview")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == PREVIEW_POLICY
    assert response.get_data() == RENDERERS["html"](monthly_report(site))
    with site.app.sessions() as session:
        annual = service.annual(session, site.app.settings, 2019, site.app.clock.now())
    assert viewer.get("/reports/annual/2019/preview").get_data() == RENDERERS["html"](annual)


def test_downloads_are_the_renderers_bytes_under_a_chinese_name(
        site: Site, viewer: Client) -> None:
    decide_some(site)
    report = monthly_report(site)
    with site.app.sessions() as session:
        annual = service.annual(session, site.app.settings, 2019, site.app.clock.now())
    for path, made, fallback in (("/reports/monthly/2019-05", report, "mailroom-monthly-2019-05"),
                                 ("/reports/annual/2019", annual, "mailroom-annual-2019")):
        for fmt, content_type in DOWNLOADS.items():
            response = viewer.get(f"{path}.{fmt}")
            assert response.status_code == 200, (path, fmt)
            assert response.headers["Content-Type"] == content_type
            assert response.headers["Cache-Control"] == "no-store"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.get_data() == RENDERERS[fmt](made), (path, fmt)
            disposition = response.headers["Content-Disposition"]
            assert disposition.startswith(f'attachment; filename="{fallback}.{fmt}"; ')
            encoded = disposition.split("filename*=UTF-8''", 1)[1]
            assert encoded.isascii() and unquote(encoded) == sending.file_name(made, fmt)
    assert "信息报送情况通报.xlsx" in sending.file_name(report, "xlsx")
    for missing in ("/reports/monthly/2019-05.exe", "/reports/monthly/2019-13.csv",
                    "/reports/annual/2020.csv", "/reports/annual/20x9.csv",
                    "/reports/monthly/..%2F..%2Fetc.csv"):
        assert viewer.get(missing).status_code == 404, missing


def test_the_json_download_is_the_clis_json_report(
        site: Site, viewer: Client, capsys: pytest.CaptureFixture[str]) -> None:
    decide_some(site)
    code, out, _ = run(capsys, "--config", str(site.config), "report", "monthly",
                       "--month", "2019-05", "--format", "json")
    assert code == 0
    assert viewer.get("/reports/monthly/2019-05.json").get_data(as_text=True) == out


def outbox_rows(site: Site, purpose: str = "bulletin") -> int:
    with site.app.sessions() as session:
        return session.scalar(select(func.count()).select_from(OutgoingMail)
                              .where(OutgoingMail.purpose == purpose)) or 0


def test_send_queues_one_mail_and_a_second_needs_force(site: Site, office: Client) -> None:
    response = office.post("/reports/monthly/2019-05/send", {})
    assert response.status_code == 303
    assert response.headers["Location"] == "/reports?month=2019-05"
    page = office.get(response.headers["Location"]).get_data(as_text=True)
    assert "已将《永宁县自然资源局 2019年5月信息报送情况通报》排入发件箱" in page
    assert outbox_rows(site) == 1
    assert "再次发送" in page and "待发送" in page  # the history, and the force box
    again = office.post("/reports/monthly/2019-05/send", {})
    assert again.status_code == 303 and outbox_rows(site) == 1
    refused = office.get(again.headers["Location"]).get_data(as_text=True)
    assert "已于 2019-05-31 10:00 排入发件箱，这次没有再发" in refused
    forced = office.post("/reports/monthly/2019-05/send", {"force": "1"})
    assert forced.status_code == 303 and outbox_rows(site) == 2
    assert office.post("/reports/annual/2019/send", {}).status_code == 303
    assert outbox_rows(site, "annual") == 1
    assert office.post("/reports/monthly/2019-05/send", {"force": "yes"}).status_code == 400


def test_a_viewer_or_a_missing_token_sends_nothing(site: Site, office: Client,
                                                   viewer: Client) -> None:
    assert viewer.post("/reports/monthly/2019-05/send", {}).status_code == 403
    assert viewer.post("/reports/annual/2019/send", {"force": "1"}).status_code == 403
    assert office.post("/reports/monthly/2019-05/send", {}, csrf=None).status_code == 400
    assert office.post("/reports/monthly/2019-05/send", {}, csrf="forged").status_code == 400
    assert outbox_rows(site) == 0 and outbox_rows(site, "annual") == 0
