"""`--format text`: the bulletin and the annual summary for a terminal (and the text part
of the report mail): the tables of table.py in columns that line up in a terminal (a
Chinese character takes two), the sentences from templates/report_monthly.txt and
report_annual.txt (wording: _report_words.j2)."""

from __future__ import annotations

from mailroom.listing import display_width
from mailroom.outbox.compose import environment
from mailroom.reports import table as layout
from mailroom.reports.values import AnnualReport, MonthlyReport

MAX_COLUMN = 30  # display cells; a longer unit name is cut with "…"


def text_table(table: layout.Table) -> str:
    """Columns padded to their widest cell or heading; numbers right-aligned."""
    rows = [table.texts(row) for row in table.rows]
    if table.total is not None:
        rows.append(table.texts(table.total))
    headings = [column.heading for column in table.columns]
    widths = [min(MAX_COLUMN, max(display_width(text) for text in [heading, *cells]))
              for heading, cells in zip(headings, zip(*rows, strict=True) if rows
                                        else [()] * len(headings), strict=True)]
    right = [column.kind != "text" for column in table.columns]
    lines = [_line(headings, widths, [False] * len(widths))]
    lines.append("  ".join("-" * width for width in widths))
    lines += [_line(cells, widths, right) for cells in rows]
    return "\n".join(lines)


def _line(cells: list[str], widths: list[int], right: list[bool]) -> str:
    out = []
    for text, width, flush_right in zip(cells, widths, right, strict=True):
        if display_width(text) > width:
            kept = ""
            for ch in text:
                if display_width(kept + ch) > width - 1:
                    break
                kept += ch
            text = kept + "…"
        pad = " " * (width - display_width(text))
        out.append(pad + text if flush_right else text + pad)
    return "  ".join(out).rstrip()


def render_text(report: MonthlyReport | AnnualReport) -> bytes:
    env = environment()
    if isinstance(report, MonthlyReport):
        text = env.get_template("report_monthly.txt").render(
            r=report, table=text_table(layout.monthly_table(report)),
            adopted=layout.by_unit(report.adopted_items))
    else:
        text = env.get_template("report_annual.txt").render(
            r=report, units=text_table(layout.annual_unit_table(report)),
            reporters=text_table(layout.reporter_table(report)))
    return text.encode("utf-8")
