"""`--format csv`: the bulletin's table for Excel: UTF-8 with a BOM (so Excel reads the
Chinese right), CRLF rows, a header row of the Chinese headings (table.py, the same
columns as the XLSX), one row per unit, numbers as plain numbers (3, 2.5), 完成任务 as
the mark of _report_words.j2. No 合计 row: every row is a unit.

The annual summary: the units' table, an empty row, then the reporters' table with its
own header row."""

from __future__ import annotations

import csv
import io
from typing import Any

from mailroom.reports import table as layout
from mailroom.reports.values import AnnualReport, MonthlyReport

BOM = "\ufeff"


def _write(writer: Any, table: layout.Table) -> None:  # a csv.writer
    writer.writerow([column.heading for column in table.columns])
    for row in table.rows:
        writer.writerow([_cell(column, value) for column, value in
                         zip(table.columns, row, strict=True)])


def _cell(column: layout.Column, value: layout.Value) -> str | int | float:
    if isinstance(value, bool) or value is None or column.kind == "mark":
        return layout.text(column, value)
    return value


def render_csv(report: MonthlyReport | AnnualReport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if isinstance(report, MonthlyReport):
        _write(writer, layout.monthly_table(report))
    else:
        _write(writer, layout.annual_unit_table(report))
        writer.writerow([])
        _write(writer, layout.reporter_table(report))
    return (BOM + out.getvalue()).encode("utf-8")
