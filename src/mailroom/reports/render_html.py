"""The bulletin and the annual summary as mail-safe HTML (templates report_monthly.html,
report_annual.html): inline CSS, no script, no external resource, tables with explicit
widths, so 126 webmail, Outlook and a phone's mail app show the same page."""

from __future__ import annotations

from mailroom.outbox.compose import environment
from mailroom.reports.table import (
    annual_unit_table,
    by_unit,
    monthly_table,
    reporter_table,
    shares,
)
from mailroom.reports.values import AnnualReport, MonthlyReport


def render_html(report: MonthlyReport | AnnualReport) -> bytes:
    """The report as a complete UTF-8 HTML document."""
    env = environment()
    if isinstance(report, MonthlyReport):
        table = monthly_table(report)
        html = env.get_template("report_monthly.html").render(
            r=report, table=table, widths=shares(table, 100, cap=20),
            groups=by_unit(report.adopted_items))
    else:
        units, reporters = annual_unit_table(report), reporter_table(report)
        html = env.get_template("report_annual.html").render(
            r=report, units=units, unit_widths=shares(units, 100, cap=20),
            reporters=reporters, reporter_widths=shares(reporters, 100, cap=20))
    return html.encode("utf-8")
