"""The bulletin and the annual summary as an Excel workbook (openpyxl): per table a sheet
with a title row, one header row (frozen, with a filter), numbers as numbers, column
widths fitted to Chinese text, printed landscape one page wide. The bulletin's second
sheet lists the adopted titles, a third the month's 约稿 when there were any.
Deterministic bytes: the workbook's dates are the report's `as_of`, and so is every zip
member's."""

from __future__ import annotations

import io
import zipfile
from copy import copy

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from mailroom.reports.ooxml import fixed, utc_naive
from mailroom.reports.table import (
    Column,
    Table,
    adopted_table,
    annual_unit_table,
    display_width,
    monthly_table,
    reporter_table,
    requests_table,
    text,
)
from mailroom.reports.values import AnnualReport, MonthlyReport
from mailroom.reports.wording import word

FONT = "宋体"  # SimSun on Windows; LibreOffice substitutes a CJK font elsewhere
_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="DFE7F2")
_CAPS = {"unit": 30, "title": 60, "request_title": 40, "units_asked": 30, "answered": 40,
         "missing": 30, "reporter": 24, "address": 28, "channels": 30,
         "months_below_quota": 24}


def render_xlsx(report: MonthlyReport | AnnualReport) -> bytes:
    """The report as .xlsx bytes."""
    wb = Workbook()
    first = wb.active
    assert isinstance(first, Worksheet)
    if isinstance(report, MonthlyReport):
        _sheet(first, word("sheet", "monthly"), word("monthly_title", report),
               monthly_table(report))
        _sheet(wb.create_sheet(), word("sheet", "adopted"), word("adopted_title", report),
               adopted_table(report.adopted_items))
        if report.requests:  # 约稿 of the month (R14): a sheet only when there was one
            _sheet(wb.create_sheet(), word("sheet", "requests"), word("requests_title", report),
                   requests_table(report.requests))
    else:
        _sheet(first, word("sheet", "units"), word("annual_title", report),
               annual_unit_table(report))
        _sheet(wb.create_sheet(), word("sheet", "reporters"), word("annual_title", report),
               reporter_table(report))
    when = utc_naive(report.as_of)
    wb.properties.creator = word("signature", report)
    wb.properties.title = ws_title(report)
    wb.properties.created = when
    wb.properties.modified = when
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()  # not save_workbook: it stamps "modified" with now
    return fixed(buf.getvalue(), report.as_of)


def _body_style(cell: Cell, column: Column) -> None:
    cell.font = Font(name=FONT, size=11)
    cell.border = _BORDER
    cell.alignment = Alignment(
        horizontal="left" if column.kind == "text" and column.key != "instructed"
        else "center",
        vertical="center", wrap_text=column.kind == "text")


def _height(lines: int) -> float:
    """Points for a row of `lines` lines of 11 pt text: spreadsheet programs do not grow a
    row to its wrapped text by themselves."""
    return 15.0 * max(lines, 1) + 3


def ws_title(report: MonthlyReport | AnnualReport) -> str:
    if isinstance(report, MonthlyReport):
        return word("monthly_title", report)
    return word("annual_title", report)


def _sheet(ws: Worksheet, name: str, title: str, table: Table) -> None:
    """Row 1 the title, row 2 the headings, then one row per line."""
    ws.title = name
    ncol = len(table.columns)
    ws.cell(row=1, column=1, value=title).font = Font(name=FONT, size=14, bold=True)
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center", vertical="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncol)
    ws.row_dimensions[1].height = 28
    widths = [min(max(c.width, 4), _CAPS.get(c.key, 40)) + 2 for c in table.columns]
    heading_lines = 1
    for j, column in enumerate(table.columns, start=1):
        # the heading stays one string (a program reading the sheet matches it as shown in
        # the other formats); a narrow column wraps it, so the row is made tall enough
        if display_width(column.heading) + 2 > widths[j - 1]:
            heading_lines = max(heading_lines, len(column.lines()))
        cell = ws.cell(row=2, column=j, value=column.heading)
        cell.font = Font(name=FONT, size=11, bold=True)
        cell.fill = _HEAD_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(j)].width = widths[j - 1]
    ws.row_dimensions[2].height = _height(heading_lines)
    styles: list[StyleArray] = []  # each column's, from the first row
    for i, row in enumerate(table.rows, start=3):
        ws.row_dimensions[i].height = _height(max(
            (-(-display_width(text(c, v)) // (w - 2)) for c, v, w in zip(
                table.columns, row, widths, strict=True) if c.kind == "text"), default=1))
        for j, (column, value) in enumerate(zip(table.columns, row, strict=True), start=1):
            shown = text(column, value) if column.kind == "mark" else value
            cell = ws.cell(row=i, column=j, value=shown)
            if len(styles) < j:
                _body_style(cell, column)
                styles.append(cell._style)
            else:  # as openpyxl copies a cell's style; assigning a Font hashes it each time
                cell._style = copy(styles[j - 1])
    last = get_column_letter(ncol)
    ws.freeze_panes = "C3"
    ws.auto_filter.ref = f"A2:{last}{max(2, len(table.rows) + 2)}"
    ws.print_title_rows = "2:2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
