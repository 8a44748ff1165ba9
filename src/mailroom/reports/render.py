"""The renderers of the reports, one per `--format`: `RENDERERS[fmt](report) -> bytes`
(text, JSON, CSV and HTML as UTF-8). Each reads only the values of values.py."""

from __future__ import annotations

from collections.abc import Callable

from mailroom.reports.render_csv import render_csv
from mailroom.reports.render_json import render_json
from mailroom.reports.render_text import render_text
from mailroom.reports.values import AnnualReport, MonthlyReport

RENDERERS: dict[str, Callable[[MonthlyReport | AnnualReport], bytes]] = {
    "text": render_text,
    "json": render_json,
    "csv": render_csv,
}
