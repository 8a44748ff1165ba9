"""The renderers of a report by format name (`report monthly|annual --format NAME`): each
takes a MonthlyReport or an AnnualReport and returns the file's bytes (text, JSON, CSV and
HTML as UTF-8). Each reads only the values of values.py."""

from __future__ import annotations

from collections.abc import Callable

from mailroom.reports.render_csv import render_csv
from mailroom.reports.render_docx import render_docx
from mailroom.reports.render_html import render_html
from mailroom.reports.render_json import render_json
from mailroom.reports.render_text import render_text
from mailroom.reports.render_xlsx import render_xlsx
from mailroom.reports.values import AnnualReport, MonthlyReport

Renderer = Callable[[MonthlyReport | AnnualReport], bytes]

RENDERERS: dict[str, Renderer] = {
    "text": render_text,
    "json": render_json,
    "csv": render_csv,
    "html": render_html,
    "xlsx": render_xlsx,
    "docx": render_docx,
}
