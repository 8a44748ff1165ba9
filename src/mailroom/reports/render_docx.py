"""The bulletin and the annual summary as a Word draft (python-docx) the office edits and
issues: title, lead paragraph, the table (bordered, its header row repeated on every page,
widths fitted to A4 landscape), the units below quota and with nothing at all, the adopted
titles (★ for 批示), and room for the signature and the date at the bottom right.

Chinese text is set in the East Asian font slot (w:eastAsia: 仿宋 for the body, 黑体 for
headings, 宋体 for tables and the title) with the language zh-CN, so Word uses the fonts
an office PC has and LibreOffice finds a CJK font (Noto CJK) where they are missing.
A table cell's paragraph has the paragraph style `TABLE_STYLE` (its font, size, spacing and
centring) and its run no properties of its own but bold: a city's summary has some 20,000
cells, and fonts repeated on each cost ~200 MB of XML tree while it is built.
Deterministic bytes: the document's dates are the report's `as_of`, and so is every zip
member's."""

from __future__ import annotations

import gc
import io
from collections.abc import Sequence
from copy import deepcopy
from functools import cache

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.table import CT_Row, CT_Tbl
from docx.oxml.text.run import CT_R
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.shared import Cm, Pt, Twips
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from mailroom.reports.ooxml import fixed, utc_naive
from mailroom.reports.table import (
    Table,
    annual_unit_table,
    by_unit,
    monthly_table,
    reporter_table,
    shares,
)
from mailroom.reports.values import AnnualReport, MonthlyReport
from mailroom.reports.wording import word

BODY, HEADING, TABLE, TITLE = "仿宋", "黑体", "宋体", "宋体"
LATIN = "Times New Roman"
BODY_PT, TABLE_PT, TITLE_PT = 16, 9, 22  # 三号, 小五 (17+ columns on A4 landscape), 二号
PAGE_W, PAGE_H, MARGIN_LR, MARGIN_TB = Cm(29.7), Cm(21.0), Cm(2.2), Cm(2.0)
TABLE_STYLE = "Table Text"  # the paragraph style of every table cell


def render_docx(report: MonthlyReport | AnnualReport) -> bytes:
    """The report as .docx bytes."""
    doc = _document()
    if isinstance(report, MonthlyReport):
        _monthly(doc, report)
    else:
        _annual(doc, report)
    _signature(doc, report)
    props = doc.core_properties
    when = utc_naive(report.as_of)
    props.title = _title(report)
    props.author = props.last_modified_by = word("signature", report)
    props.created = props.modified = props.last_printed = when
    props.revision = 1
    props.comments = props.keywords = props.subject = props.category = ""
    buf = io.BytesIO()
    doc.save(buf)
    # python-docx's package graph is full of reference cycles: a city-sized document held
    # until some later collection costs a few hundred MB, so free it now
    del doc, props
    gc.collect()
    return fixed(buf.getvalue(), report.as_of)


def _title(report: MonthlyReport | AnnualReport) -> str:
    if isinstance(report, MonthlyReport):
        return word("monthly_title", report)
    return word("annual_title", report)


def _monthly(doc: DocumentObject, r: MonthlyReport) -> None:
    _heading_title(doc, _title(r))
    _body(doc, word("monthly_lead", r))
    _section(doc, word("section", 1, "monthly"))
    _table(doc, monthly_table(r))
    _note(doc, word("note_rank"))
    _section(doc, word("section", 2, "below"))
    for sentence in (word("below_quota", r), word("zero_report", r)):
        if sentence:
            _body(doc, sentence)
    _section(doc, word("section", 3, "adopted"))
    groups = by_unit(r.adopted_items)
    for unit, items in groups:
        _body(doc, word("adopted_unit", unit, len(items)), bold=True, indent=False)
        for item in items:
            _item(doc, item.number, item.title, word("adopted_channels", item),
                  word("star") if item.instructed else "")
    if groups:
        _note(doc, word("star_note"))
    else:
        _body(doc, word("adopted_none", r))
    if r.requests:
        _section(doc, word("section", 4, "requests"))
        _body(doc, word("requests_lead", r))
        for q in r.requests:
            _body(doc, word("request_item", q), bold=True, indent=False)
            _body(doc, word("request_answered", q))
            _body(doc, word("request_missing", q))


def _annual(doc: DocumentObject, r: AnnualReport) -> None:
    _heading_title(doc, _title(r))
    _body(doc, word("annual_lead", r))
    _section(doc, word("section", 1, "units"))
    _table(doc, annual_unit_table(r))
    _note(doc, word("note_rank"))
    _section(doc, word("section", 2, "reporters"))
    _table(doc, reporter_table(r))
    _section(doc, word("section", 3, "months_below"))
    below = [line for line in r.units if line.months_below_quota]
    for line in below:
        _body(doc, word("months_below_line", line))
    if not below:
        _body(doc, word("months_below_none"))
    _section(doc, word("section", 4, "best"))
    for sentence in (word("best_units", r), word("best_reporters", r)):
        if sentence:
            _body(doc, sentence)


def _document() -> DocumentObject:
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = PAGE_W, PAGE_H
    section.left_margin = section.right_margin = MARGIN_LR
    section.top_margin = section.bottom_margin = MARGIN_TB
    _page_numbers(section.footer.paragraphs[0])
    normal = doc.styles["Normal"]
    _fonts(normal.element.get_or_add_rPr(), BODY, BODY_PT)
    fmt = normal.paragraph_format
    fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(0), Pt(0), 1.25
    cells = doc.styles.add_style(TABLE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    cells.base_style = normal
    _fonts(cells.element.get_or_add_rPr(), TABLE, TABLE_PT)
    fmt = cells.paragraph_format
    fmt.alignment = WD_ALIGN_PARAGRAPH.CENTER
    fmt.line_spacing = 1.0
    fmt.space_before = fmt.space_after = Pt(2)
    return doc


def _page_numbers(p: Paragraph) -> None:
    """"— 1 —" centred at the foot of every page (a PAGE field), as official papers have."""
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(p, "— ", BODY, 14)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    number = _run(p, "1", BODY, 14)
    number._r.addprevious(field)
    field.append(number._r)
    _run(p, " —", BODY, 14)


def _fonts(rpr: BaseOxmlElement, east: str, size: float, bold: bool = False) -> None:
    """Set an rPr's fonts: `east` for Chinese, Times New Roman for Latin and digits."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for slot in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(slot), LATIN)
    fonts.set(qn("w:eastAsia"), east)
    fonts.set(qn("w:hint"), "eastAsia")
    for tag in ("w:b", "w:sz", "w:szCs", "w:lang"):
        old = rpr.find(qn(tag))
        if old is not None:
            rpr.remove(old)
    if bold:
        rpr.append(OxmlElement("w:b"))
    for tag in ("w:sz", "w:szCs"):
        el = OxmlElement(tag)
        el.set(qn("w:val"), str(round(size * 2)))
        rpr.append(el)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:eastAsia"), "zh-CN")
    rpr.append(lang)


def _run(p: Paragraph, text: str, east: str = BODY, size: float = BODY_PT,
         bold: bool = False) -> Run:
    run = p.add_run(text)
    run._r.insert(0, deepcopy(_run_properties(east, size, bold)))
    return run


@cache
def _run_properties(east: str, size: float, bold: bool) -> BaseOxmlElement:
    """A run's rPr, made once: `_fonts` per run made the adopted titles slow."""
    rpr = OxmlElement("w:rPr")
    _fonts(rpr, east, size, bold)
    return rpr


def _heading_title(doc: DocumentObject, text: str) -> None:
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.space_after = Pt(18)
    _run(p, text, TITLE, TITLE_PT, bold=True)


def _section(doc: DocumentObject, text: str) -> None:
    p = doc.add_paragraph()
    p.paragraph_format.first_line_indent = Pt(BODY_PT * 2)
    p.paragraph_format.space_before = Pt(8)
    p.paragraph_format.keep_with_next = True
    _run(p, text, HEADING)


def _body(doc: DocumentObject, text: str, bold: bool = False, indent: bool = True) -> None:
    p = doc.add_paragraph()
    p.paragraph_format.first_line_indent = Pt(BODY_PT * 2)
    if not indent:
        p.paragraph_format.keep_with_next = True
    _run(p, text, bold=bold)


def _note(doc: DocumentObject, text: str) -> None:
    p = doc.add_paragraph()
    p.paragraph_format.space_before = Pt(3)
    _run(p, text, TABLE, TABLE_PT)


def _item(doc: DocumentObject, number: str, title: str, channels: str, star: str) -> None:
    """An adopted title: its number, the title and its channels, hanging under the number."""
    p = doc.add_paragraph()
    fmt = p.paragraph_format
    fmt.left_indent = Pt(BODY_PT * 9)
    fmt.first_line_indent = -Pt(BODY_PT * 7)
    _run(p, number + "　", BODY, BODY_PT)
    _run(p, title)
    _run(p, f"（{channels}）")
    if star:
        _run(p, star, bold=True)


def _table(doc: DocumentObject, table: Table) -> None:
    """The table, its header row repeated on every page. A body row is painted once
    through python-docx and then copied: walking `t.rows` / `row.cells` and setting a
    cell's properties one by one is quadratic in the rows and slow per cell (a city's
    1,100 officers took minutes)."""
    usable = PAGE_W - 2 * MARGIN_LR
    widths = [Twips(w) for w in shares(table, int(usable / 635), cap=22, least=7)]
    rows = [*table.rows, *([table.total] if table.total else [])]
    t = doc.add_table(rows=1, cols=len(table.columns))
    t.style = doc.styles["Table Grid"]
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False  # a fixed layout: the widths below
    _cell_margins(t._tbl, Twips(57))  # 0.1 cm: narrow number columns keep two characters
    for j, width in enumerate(widths):
        t.columns[j].width = width
    header = t.rows[0]
    _repeat_header(header._tr)
    for j, column in enumerate(table.columns):
        _cell(header.cells[j], column.lines(), widths[j], "center", bold=True, shade=True)
    aligns = ["left" if column.kind == "text" else "center" for column in table.columns]
    plain: CT_Row | None = None  # the first body row that is neither 合计 nor before it
    for i, row in enumerate(rows, start=1):
        texts = table.texts(row)
        total = table.total is not None and i == len(rows)
        before_total = table.total is not None and i == len(rows) - 1
        if plain is not None and not (total or before_total):
            t._tbl.append(_copied(plain, texts))
            continue
        added = t.add_row()
        _no_split(added._tr)
        for cell, text, width, align in zip(added.cells, texts, widths, aligns, strict=True):
            _cell(cell, [text], width, align, bold=total)
            if before_total:  # the 合计 row never starts a page alone
                cell.paragraphs[0].paragraph_format.keep_with_next = True
        if not (total or before_total):
            plain = added._tr


def _copied(tr: CT_Row, texts: Sequence[str]) -> CT_Row:
    """A copy of a painted body row (one run a cell) holding `texts`."""
    copy = deepcopy(tr)
    runs: list[CT_R] = copy.xpath("./w:tc/w:p/w:r")
    for run, text in zip(runs, texts, strict=True):
        run.text = text
    return copy


def _cell(cell: _Cell, lines: Sequence[str], width: Twips, align: str, bold: bool = False,
          shade: bool = False) -> None:
    """A cell in the style `TABLE_STYLE`: centred unless `align` is "left"."""
    cell.width = width
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    p = cell.paragraphs[0]
    p.style = TABLE_STYLE
    if align != "center":
        p.alignment = WD_ALIGN_PARAGRAPH.LEFT
    for k, line in enumerate(lines):
        run = p.add_run(line)
        if bold:
            run.bold = True
        if k < len(lines) - 1:
            run.add_break()
    if shade:
        shd = OxmlElement("w:shd")
        shd.set(qn("w:val"), "clear")
        shd.set(qn("w:color"), "auto")
        shd.set(qn("w:fill"), "DFE7F2")
        cell._tc.get_or_add_tcPr().append(shd)


def _cell_margins(tbl: CT_Tbl, side: Twips) -> None:
    margins = OxmlElement("w:tblCellMar")
    for edge in ("w:left", "w:right"):
        el = OxmlElement(edge)
        el.set(qn("w:w"), str(int(side.twips)))
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    tbl.tblPr.append(margins)


def _repeat_header(tr: CT_Row) -> None:
    """The header row is repeated at the top of every page the table runs onto."""
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr.get_or_add_trPr().append(header)
    _no_split(tr)


def _no_split(tr: CT_Row) -> None:
    cant = OxmlElement("w:cantSplit")
    cant.set(qn("w:val"), "true")
    tr.get_or_add_trPr().append(cant)


def _signature(doc: DocumentObject, r: MonthlyReport | AnnualReport) -> None:
    """Room for the seal and the signature, then the office and the date, bottom right,
    kept on the page of the last paragraph."""
    doc.paragraphs[-1].paragraph_format.keep_with_next = True
    for _ in range(2):
        doc.add_paragraph().paragraph_format.keep_with_next = True
    for text in (word("signature", r), word("date", r.as_of)):
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        p.paragraph_format.right_indent = Pt(BODY_PT * 2)
        p.paragraph_format.keep_with_next = True
        _run(p, text)
