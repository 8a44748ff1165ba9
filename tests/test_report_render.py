"""The HTML, XLSX and DOCX renderers of the bulletin (R9) and the annual summary (R10):
report values built by hand, rendered, read back (html.parser, openpyxl, python-docx) and
compared with the values, cell by cell."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Any

import pytest
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook

from mailroom.reports.render import RENDERERS
from mailroom.reports.render_docx import render_docx
from mailroom.reports.render_html import render_html
from mailroom.reports.render_xlsx import render_xlsx
from mailroom.reports.table import annual_unit_table
from mailroom.reports.table import reporter_table as reporter_table_of
from mailroom.reports.values import (
    AdoptedItem,
    AnnualReport,
    AnnualUnitLine,
    MonthlyReport,
    ReporterLine,
    RequestLine,
    Tally,
    UnitLine,
)
from mailroom.reports.wording import word
from mailroom.sample.reports import total

CST = timezone(timedelta(hours=8))
CHANNELS = ("县政府网站", "银川市级", "自治区级", "国家级", "媒体", "学习强国", "宁夏日报")
LONG = "永宁县自然资源局闽宁镇自然资源所（不动产登记服务站）暨望远镇国土资源管理所"


def tally(counted: int = 0, duplicates: int = 0, suspected: int = 0, rejected: int = 0,
          adoptions: dict[str, int] | None = None, instructions: int = 0,
          score: float = 0.0) -> Tally:
    per = {ch: (adoptions or {}).get(ch, 0) for ch in CHANNELS}
    return Tally(submitted=counted + duplicates + rejected, counted=counted,
                 duplicates=duplicates, suspected=suspected, rejected=rejected,
                 adopted=max(per.values()), adoptions=per, instructions=instructions,
                 score=score)


def sum_tallies(tallies: list[Tally], extra_submitted: int = 0) -> Tally:
    return total(tallies, extra_submitted, CHANNELS)


def month(rejected: int = 1, bureau: str = "永宁县自然资源局") -> MonthlyReport:
    """Six units: a tie for rank 2, a long name, two with nothing at all, 7 channels."""
    lines = (
        UnitLine("自然资源综合执法大队", tally(5, 2, 1, 0, {"县政府网站": 3, "宁夏日报": 1},
                                       instructions=1, score=9.5), 2, True, 1, 30.5),
        UnitLine("办公室", tally(3, 0, 0, rejected, {"县政府网站": 2, "国家级": 1}, score=7.0),
                 2, True, 2, 21.0),
        UnitLine(LONG, tally(3, 1, 0, 0, {"县政府网站": 2, "学习强国": 1}, score=7.0),
                 3, True, 2, 7.0),
        UnitLine("耕地保护股", tally(1, 0, 0, 0), 2, False, 4, 0.5),
        UnitLine("望洪林业站", tally(), 2, False, 5, 0.0),
        UnitLine("黄河生态林场", tally(), 1, False, 5, 0.0),
    )
    items = (
        AdoptedItem("201905-0003", "自然资源综合执法大队", "依法拆除违法建筑<b>&“两违”</b>",
                    ("县政府网站", "宁夏日报"), True, 5.0),
        AdoptedItem("201905-0011", "自然资源综合执法大队", "开展执法巡查", ("县政府网站",),
                    False, 1.0),
        AdoptedItem("201905-0004", "办公室", "召开信息工作会议", ("县政府网站", "国家级"),
                    False, 6.0),
        AdoptedItem("201905-0007", LONG, "不动产登记“一窗受理”", ("县政府网站", "学习强国"),
                    False, 4.0),
    )
    return MonthlyReport(
        period="2019-05", bureau=bureau, as_of=datetime(2019, 5, 28, 9, 30, tzinfo=CST),
        channels=CHANNELS, units=lines, totals=sum_tallies([ln.tally for ln in lines], 2),
        below_quota=("耕地保护股", "望洪林业站", "黄河生态林场"),
        zero_report=("望洪林业站", "黄河生态林场"), unassigned=2, adopted_items=items)


def empty_month() -> MonthlyReport:
    lines = tuple(UnitLine(u, tally(), 2, False, 1, 0.0) for u in ("办公室", LONG))
    return MonthlyReport(
        period="2020-02", bureau="", as_of=datetime(2020, 2, 29, 9, 0, tzinfo=CST),
        channels=CHANNELS, units=lines, totals=sum_tallies([]), below_quota=("办公室", LONG),
        zero_report=("办公室", LONG), unassigned=0, adopted_items=())


def year() -> AnnualReport:
    units = (
        AnnualUnitLine("自然资源综合执法大队", tally(20, 3, 2, 0, {"县政府网站": 12, "国家级": 1},
                                               instructions=2, score=21.0), 10, 1, ()),
        AnnualUnitLine("办公室", tally(9, 0, 0, 1, {"县政府网站": 4}, score=4.0), 10, 2,
                       ("2019-02",)),
        AnnualUnitLine(LONG, tally(9, 0, 0, 0, {"县政府网站": 4}, score=4.0), 10, 2,
                       ("2019-01", "2019-02")),
        AnnualUnitLine("望洪林业站", tally(), 10, 4,
                       ("2019-01", "2019-02", "2019-03", "2019-04", "2019-05")),
    )
    reporters = (
        ReporterLine("李明", "zfdd_lm@163.com", "自然资源综合执法大队",
                     tally(12, 1, 1, 0, {"县政府网站": 8}, instructions=2, score=12.0), 1),
        ReporterLine("bgs@example.cn", "bgs@example.cn", "办公室",
                     tally(9, 0, 0, 1, {"县政府网站": 4}, score=4.0), 2),
        ReporterLine("stranger@example.com", "stranger@example.com", None,
                     tally(0, 0, 0, 2), 3),
    )
    return AnnualReport(
        year=2019, bureau="永宁县自然资源局", as_of=datetime(2019, 5, 31, 18, 0, tzinfo=CST),
        channels=CHANNELS, months=("2019-01", "2019-02", "2019-03", "2019-04", "2019-05"),
        units=units, reporters=reporters,
        totals=sum_tallies([u.tally for u in units], 3),
        best_units=("自然资源综合执法大队", "办公室", LONG), best_reporters=("李明",),
        unassigned=3)


def shown_name(p: ReporterLine) -> str:
    """The 信息员 column: the officer's name; an unregistered address is said to be one."""
    return p.reporter if p.reporter != p.address else "未登记"


def num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def expected_monthly(line: UnitLine, rejected: bool = True) -> dict[str, Any]:
    """A bulletin row by heading, as a clerk reads it."""
    t = line.tally
    row: dict[str, Any] = {"排名": line.rank, "单位": line.unit, "报送数": t.submitted,
                           "计数（首报）": t.counted, "重复": t.duplicates, "待确认": t.suspected}
    if rejected:
        row["未计数"] = t.rejected
    row["采用篇数"] = t.adopted
    row.update({f"采用：{ch}": t.adoptions[ch] for ch in CHANNELS})
    row.update({"批示": t.instructions, "得分": t.score, "累计得分": line.cumulative_score,
                "任务数": line.quota, "完成任务": "√" if line.meets_quota else "×"})
    return row


def expected_tally(t: Tally, rejected: bool = True) -> dict[str, Any]:
    row: dict[str, Any] = {"报送数": t.submitted, "计数（首报）": t.counted,
                           "重复": t.duplicates, "待确认": t.suspected}
    if rejected:
        row["未计数"] = t.rejected
    row["采用篇数"] = t.adopted
    row.update({f"采用：{ch}": t.adoptions[ch] for ch in CHANNELS})
    row.update({"批示": t.instructions, "得分": t.score})
    return row


def as_text(row: dict[str, Any]) -> list[str]:
    return [num(v) if isinstance(v, float) else str(v) for v in row.values()]


# ---- HTML ------------------------------------------------------------------------------

class Page(HTMLParser):
    """The page's tables (rows of cell texts; <br> read as nothing), its text, and every
    tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None
        self._title = False
        self.title = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        self._title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None
        self._title = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._title:
            self.title += data
        self.text.append(data)


def page_text(page: Page) -> str:
    return "".join(page.text).replace("\n", "")


def parse(html: bytes) -> Page:
    page = Page()
    page.feed(html.decode("utf-8"))
    return page


def data_tables(page: Page) -> list[list[list[str]]]:
    """The tables with a header row of more than 5 columns: the report's tables."""
    return [t for t in page.tables if t and len(t[0]) > 5]


def test_html_monthly_table_reads_back_as_the_values() -> None:
    r = month()
    page = parse(render_html(r))
    assert page.title == "永宁县自然资源局 2019年5月信息报送情况通报"
    (table,) = data_tables(page)
    header, *rows, total = table
    assert header == list(expected_monthly(r.units[0]))
    assert rows == [as_text(expected_monthly(line)) for line in r.units]
    assert total[:2] == ["", "合计"]
    assert total[2:-3] == as_text(expected_tally(r.totals))
    assert [row[0] for row in rows] == ["1", "2", "2", "4", "5", "5"]  # ties share a rank


def test_html_monthly_names_the_units_below_quota_and_the_adopted_titles() -> None:
    r = month()
    text = page_text(parse(render_html(r)))
    assert "全局共收到报送信息18篇，其中计数（首报）12篇（含待确认的疑似重复1篇）" in text
    assert "另有2篇信息未识别报送单位" in text
    assert ("未完成月度报送任务的单位（3个，括号内为计数篇数/任务篇数）："
            "耕地保护股（1/2）、望洪林业站（0/2）、黄河生态林场（0/1）。") in text
    assert "本月零报送的单位（2个）：望洪林业站、黄河生态林场。" in text
    assert "自然资源综合执法大队（2篇）" in text and f"{LONG}（1篇）" in text
    assert "依法拆除违法建筑<b>&“两违”</b>（县政府网站、宁夏日报）★" in text
    assert "开展执法巡查（县政府网站）★" not in text
    assert "注：标★的信息获领导批示。" in text
    assert text.rstrip().endswith("永宁县自然资源局办公室2019年5月28日")


def test_html_is_mail_safe_and_escaped() -> None:
    html = render_html(month())
    assert "违法建筑&lt;b&gt;&amp;“两违”&lt;/b&gt;".encode() in html  # escaped once
    assert b"<b>" not in html
    page = parse(html)
    names = {tag for tag, _ in page.tags}
    assert not names & {"script", "style", "link", "img", "iframe", "object", "form"}
    for _, attrs in page.tags:
        assert not any(k.startswith("on") for k in attrs)  # no event handlers
        assert "src" not in attrs and "href" not in attrs  # nothing fetched
    widths = [a for t, a in page.tags if t in ("col", "th") and "width" in a]
    assert len(widths) >= 2 * len(data_tables(page)[0][0])  # explicit widths
    cells = [a for t, a in page.tags if t in ("td", "th")]
    assert len(cells) > 100
    assert all(a.get("style") for a in cells)  # styled inline, not by a stylesheet
    body_style = next(a["style"] for t, a in page.tags if t == "div")
    assert "Microsoft YaHei" in (body_style or "") and "sans-serif" in (body_style or "")


def test_html_empty_month_without_a_bureau_name() -> None:
    page = parse(render_html(empty_month()))
    assert page.title == "2020年2月信息报送情况通报"
    text = page_text(page)
    assert "2020年2月，全局未收到报送信息。2个单位均未完成月度报送任务，且均为零报送。" in text
    assert "本月暂无信息被采用。" in text and "注：标★" not in text
    (table,) = data_tables(page)
    assert "未计数" not in table[0]  # a month without rejected items has no such column
    assert [row[1] for row in table[1:]] == ["办公室", LONG, "合计"]
    assert text.rstrip().endswith("办公室2020年2月29日")


def test_html_annual_units_and_reporters() -> None:
    r = year()
    page = parse(render_html(r))
    assert page.title == "永宁县自然资源局 2019年度信息报送情况汇总"
    units, reporters = data_tables(page)
    assert units[0] == ["排名", "单位", *expected_tally(r.totals), "年度任务数", "未完成月份"]
    assert units[1:-1] == [
        [str(u.rank), u.unit, *as_text(expected_tally(u.tally)), str(u.quota), months]
        for u, months in zip(r.units, ["", "2月", "1、2月", "1—5月"], strict=True)]
    assert reporters[0][:4] == ["排名", "信息员", "邮箱", "单位"]
    assert reporters[1:] == [
        [str(p.rank), shown_name(p), p.address, p.unit or "未识别单位",
         *as_text(expected_tally(p.tally))] for p in r.reporters]
    text = page_text(page)
    assert "2019年1月至5月，全局共收到报送信息" in text
    assert "望洪林业站：1—5月（5个月）" in text
    assert f"年度信息工作先进单位（得分前三名）：自然资源综合执法大队、办公室、{LONG}。" in text
    assert "年度优秀信息员（得分前三名）：李明。" in text


# ---- XLSX ------------------------------------------------------------------------------

def sheet_rows(data: bytes, index: int) -> tuple[Any, list[list[Any]]]:
    ws = load_workbook(io.BytesIO(data)).worksheets[index]
    return ws, [list(row) for row in ws.iter_rows(values_only=True)]


def test_xlsx_monthly_numbers_are_numbers() -> None:
    r = month()
    data = render_xlsx(r)
    ws, rows = sheet_rows(data, 0)
    assert ws.title == "通报"
    assert rows[0][0] == "永宁县自然资源局 2019年5月信息报送情况通报"
    assert list(rows[1]) == list(expected_monthly(r.units[0]))
    assert rows[2:] == [list(expected_monthly(line).values()) for line in r.units]
    for row in rows[2:]:
        assert all(type(v) in (int, float) for v in row[2:-1])  # not strings
        assert type(row[0]) is int
    assert ws.freeze_panes == "C3"
    assert ws.auto_filter.ref == f"A2:{ws.cell(2, len(rows[1])).column_letter}{len(rows)}"
    unit_width = ws.column_dimensions["B"].width
    assert unit_width >= 2 * len("自然资源综合执法大队")  # Chinese characters are wide
    assert ws.column_dimensions["C"].width < unit_width
    assert ws.row_dimensions[5].height > ws.row_dimensions[3].height  # the long name wraps


def test_xlsx_monthly_third_sheet_lists_the_months_requests_only_when_there_were_any() -> None:
    assert len(load_workbook(io.BytesIO(render_xlsx(month()))).worksheets) == 2
    requests = (
        RequestLine("约稿201905-01", "2019年春季森林防火工作开展情况", "2019-05-31", "open",
                    ("自然资源综合执法大队", "望洪林业站"),
                    (("自然资源综合执法大队", ("201905-0012",)), ("办公室", ("201905-0015",))),
                    ("望洪林业站",)),
        RequestLine("约稿201905-02", "耕地保护专项检查", "2019-06-05", "closed",
                    ("耕地保护股",), (), ("耕地保护股",)))
    ws, rows = sheet_rows(render_xlsx(replace(month(), requests=requests)), 2)
    assert ws.title == "约稿"
    assert rows[0][0] == "永宁县自然资源局 2019年5月约稿情况"
    assert rows[1] == ["约稿编号", "约稿题目", "截止日期", "约稿单位", "已报送", "未报送", "状态"]
    assert rows[2:] == [
        ["约稿201905-01", "2019年春季森林防火工作开展情况", "2019年5月31日",
         "自然资源综合执法大队、望洪林业站",
         "自然资源综合执法大队（201905-0012）、办公室（201905-0015，非约稿单位）", "望洪林业站",
         "进行中"],
        ["约稿201905-02", "耕地保护专项检查", "2019年6月5日", "耕地保护股", None, "耕地保护股",
         "已结束"]]


def test_xlsx_monthly_second_sheet_lists_the_adopted_titles() -> None:
    r = month()
    ws, rows = sheet_rows(render_xlsx(r), 1)
    assert ws.title == "采用信息"
    assert rows[0][0] == "永宁县自然资源局 2019年5月信息采用情况"
    assert list(rows[1]) == ["编号", "单位", "标题", "采用渠道", "批示", "得分"]
    assert rows[2:] == [[i.number, i.unit, i.title, "、".join(i.channels),
                         "★" if i.instructed else None, i.score] for i in r.adopted_items]


def test_xlsx_is_deterministic_and_dated_by_the_report() -> None:
    r = month()
    data = render_xlsx(r)
    assert render_xlsx(r) == data
    wb = load_workbook(io.BytesIO(data))
    assert wb.properties.created == wb.properties.modified == datetime(2019, 5, 28, 1, 30)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert {i.date_time for i in z.infolist()} == {(2019, 5, 28, 9, 30, 0)}


def test_xlsx_annual_units_and_reporters() -> None:
    r = year()
    data = render_xlsx(r)
    ws, rows = sheet_rows(data, 0)
    assert ws.title == "单位汇总" and rows[0][0] == "永宁县自然资源局 2019年度信息报送情况汇总"
    assert [r_[:-2] for r_ in rows[2:]] == [
        [u.rank, u.unit, *expected_tally(u.tally).values()] for u in r.units]
    assert [r_[-2:] for r_ in rows[2:]] == [[10, None], [10, "2月"], [10, "1、2月"],
                                             [10, "1—5月"]]
    ws, rows = sheet_rows(data, 1)
    assert ws.title == "信息员汇总"
    assert rows[2:] == [[p.rank, shown_name(p), p.address, p.unit or "未识别单位",
                         *expected_tally(p.tally).values()] for p in r.reporters]


# ---- DOCX ------------------------------------------------------------------------------

def docx_tables(data: bytes) -> tuple[Any, list[list[list[str]]]]:
    doc = Document(io.BytesIO(data))
    tables = [[[c.text.replace("\n", "") for c in row.cells] for row in t.rows]
              for t in doc.tables]
    return doc, tables


def test_docx_monthly_reads_back_as_the_values() -> None:
    r = month()
    doc, (table,) = docx_tables(render_docx(r))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "永宁县自然资源局 2019年5月信息报送情况通报"
    assert texts[1].startswith("2019年5月，全局共收到报送信息18篇")
    header, *rows, total = table
    assert header == list(expected_monthly(r.units[0]))
    assert rows == [as_text(expected_monthly(line)) for line in r.units]
    assert total[1] == "合计" and total[2:-3] == as_text(expected_tally(r.totals))
    assert "未完成月度报送任务的单位（3个，括号内为计数篇数/任务篇数）：耕地保护股（1/2）、" \
           "望洪林业站（0/2）、黄河生态林场（0/1）。" in texts
    assert "本月零报送的单位（2个）：望洪林业站、黄河生态林场。" in texts
    assert "201905-0003　依法拆除违法建筑<b>&“两违”</b>（县政府网站、宁夏日报）★" in texts
    assert "201905-0011　开展执法巡查（县政府网站）" in texts
    assert texts[-2:] == ["永宁县自然资源局办公室", "2019年5月28日"]
    assert doc.paragraphs[-1].alignment == 2  # right


def effective(doc: Any, p: Any, run: Any, tag: str, attr: str = "w:val") -> str | None:
    """What Word shows for a run property (`tag`'s `attr`): the run's own rPr, else the
    paragraph style's and the styles it is based on, else the document defaults."""
    rprs = [run._r.rPr]
    style = p.style
    while style is not None:
        rprs.append(style.element.rPr)
        style = style.base_style
    rprs.append(doc.styles.element.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/"
                                        f"{qn('w:rPr')}"))
    for rpr in rprs:
        el = rpr.find(qn(tag)) if rpr is not None else None
        if el is not None and el.get(qn(attr)) is not None:
            return str(el.get(qn(attr)))
    return None


def test_docx_layout_fonts_and_repeated_header() -> None:
    data = render_docx(month())
    doc = Document(io.BytesIO(data))
    section = doc.sections[0]
    assert section.page_width > section.page_height  # A4 landscape
    assert abs(section.page_width.cm - 29.7) < 0.01
    footer = section.footer.paragraphs[0]
    assert "".join(t.text for t in footer._p.iter(qn("w:t"))) == "— 1 —"  # page numbers
    assert footer._p.find(qn("w:fldSimple")).get(qn("w:instr")) == "PAGE"
    table = doc.tables[0]
    tr_pr = table.rows[0]._tr.trPr
    assert tr_pr is not None and tr_pr.find(qn("w:tblHeader")) is not None
    assert table.style.name == "Table Grid"
    width = sum(c.width for c in table.rows[0].cells)
    assert width <= section.page_width - section.left_margin - section.right_margin
    unit, count = table.rows[1].cells[1].width, table.rows[1].cells[2].width
    assert unit > 2 * count
    fonts = {}  # paragraph: (East Asian font, Latin font, size in half-points, language)
    for name, p in [("title", doc.paragraphs[0]), ("lead", doc.paragraphs[1]),
                    ("header", table.rows[0].cells[1].paragraphs[0]),
                    ("cell", table.rows[1].cells[1].paragraphs[0]),
                    ("number", table.rows[1].cells[2].paragraphs[0])]:
        fonts[name] = {(effective(doc, p, run, "w:rFonts", "w:eastAsia"),
                        effective(doc, p, run, "w:rFonts", "w:ascii"),
                        effective(doc, p, run, "w:sz"),
                        effective(doc, p, run, "w:lang", "w:eastAsia")) for run in p.runs}
    assert fonts["title"] == {("宋体", "Times New Roman", "44", "zh-CN")}
    assert fonts["lead"] == {("仿宋", "Times New Roman", "32", "zh-CN")}
    for name in ("header", "cell", "number"):
        assert fonts[name] == {("宋体", "Times New Roman", "18", "zh-CN")}
    assert all(run.bold for run in table.rows[0].cells[1].paragraphs[0].runs)
    assert not any(run.bold for run in table.rows[1].cells[1].paragraphs[0].runs)
    assert doc.core_properties.created == datetime(2019, 5, 28, 1, 30, tzinfo=UTC) \
        or doc.core_properties.created == datetime(2019, 5, 28, 1, 30)
    assert render_docx(month()) == data


def test_docx_empty_month_and_annual() -> None:
    doc, (table,) = docx_tables(render_docx(empty_month()))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "2020年2月信息报送情况通报"
    assert "本月暂无信息被采用。" in texts and texts[-2:] == ["办公室", "2020年2月29日"]
    assert [row[1] for row in table[1:]] == ["办公室", LONG, "合计"]
    r = year()
    doc, (units, reporters) = docx_tables(render_docx(r))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "永宁县自然资源局 2019年度信息报送情况汇总"
    assert units[1:-1] == [
        [str(u.rank), u.unit, *as_text(expected_tally(u.tally)), str(u.quota), months]
        for u, months in zip(r.units, ["", "2月", "1、2月", "1—5月"], strict=True)]
    assert reporters[1:] == [
        [str(p.rank), shown_name(p), p.address, p.unit or "未识别单位",
         *as_text(expected_tally(p.tally))] for p in r.reporters]
    assert "办公室：2月（1个月）" in texts
    assert "年度优秀信息员（得分前三名）：李明。" in texts


@pytest.mark.parametrize("fmt", ["html", "xlsx", "docx"])
def test_renderers_table_has_the_three_formats(fmt: str) -> None:
    for report in (month(), empty_month(), year()):
        data = RENDERERS[fmt](report)
        assert data == RENDERERS[fmt](report)  # deterministic
        if fmt == "html":
            assert data.startswith(b"<!DOCTYPE html>")
        else:
            assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None


# ---- a city's summary ------------------------------------------------------------------

def city_year(units: int = 300, reporters: int = 1100) -> AnnualReport:
    """A city-sized annual summary, every row's values its own (the DOCX table copies one
    painted row for the others: a copy must not keep its model's text)."""
    lines = tuple(
        AnnualUnitLine(f"第{i + 1:03d}单位", tally(i % 17, i % 5, i % 3, i % 2,
                                                 {CHANNELS[i % 7]: i % 11}, i % 4, i / 4),
                       36 + i % 13, i + 1, ("2019-03",) if i % 6 == 0 else ())
        for i in range(units))
    people = tuple(
        ReporterLine(f"信息员{i}", f"r{i}@example.cn",
                     f"第{i % units + 1:03d}单位" if i % 9 else None,
                     tally(i % 13, i % 3, 0, i % 2, {CHANNELS[i % 5]: i % 7}, score=i / 2), i + 1)
        for i in range(reporters))
    return replace(year(), units=lines, reporters=people,
                   totals=sum_tallies([u.tally for u in lines], 7), unassigned=7)


def test_city_sized_annual_reads_back_row_for_row() -> None:
    r = city_year()
    units_table, reporter_table = annual_unit_table(r), reporter_table_of(r)
    doc = Document(io.BytesIO(render_docx(r)))
    units, reporters = (  # read with lxml: python-docx's row.cells is slow at this size
        [["".join(t.text or "" for t in tc.iter(qn("w:t"))) for tc in tr.iter(qn("w:tc"))]
         for tr in table._tbl.iter(qn("w:tr"))] for table in doc.tables)
    assert len(units) == 1 + 300 + 1 and len(reporters) == 1 + 1100
    assert units[1:-1] == [units_table.texts(row) for row in units_table.rows]
    assert units[-1][1] == "合计" and units_table.total is not None
    assert units[-1] == units_table.texts(units_table.total)
    assert reporters[1:] == [reporter_table.texts(row) for row in reporter_table.rows]
    rows = doc.tables[0].rows
    first, copied, before, total = rows[1], rows[2], rows[-2], rows[-1]
    assert all(run.bold for cell in total.cells for run in cell.paragraphs[0].runs)
    assert not any(run.bold for cell in before.cells for run in cell.paragraphs[0].runs)
    assert before.cells[0].paragraphs[0].paragraph_format.keep_with_next
    for row in (first, copied):
        assert not row.cells[0].paragraphs[0].paragraph_format.keep_with_next
        assert row.cells[1].paragraphs[0].alignment == 0  # left, the unit
    workbook = load_workbook(io.BytesIO(render_xlsx(r)), read_only=True)
    unit_rows, reporter_rows = (list(ws.iter_rows(values_only=True)) for ws in workbook)
    workbook.close()
    assert len(unit_rows) == 2 + 300 and len(reporter_rows) == 2 + 1100
    assert list(reporter_rows[-1][:4]) == [1100, "信息员1099", "r1099@example.cn", "第200单位"]
    assert list(unit_rows[-1][:2]) == [300, "第300单位"]


@pytest.mark.parametrize(("months", "written"), [
    ([], ""), ([2], "2月"), ([1, 2], "1、2月"), ([1, 2, 3, 4, 5], "1—5月"),
    ([1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12], "1—4、6—12月"), ([1, 3, 4, 5, 7, 8], "1、3—5、7、8月"),
])
def test_months_below_quota_are_written_with_ranges(months: list[int], written: str) -> None:
    """Eleven months in a narrow column read '1—4、6—12月', as a clerk writes them."""
    assert word("months_list", [f"2019-{m:02d}" for m in months]) == written
