"""The month page (`GET /`) and the reports page (`GET /reports`): the month at a glance
with the bulletin's own figures, its charts, and the bulletin and the annual summary to
preview, download and send (R9, R10). Blueprint `month`.

Every figure comes from reports.service (the builder the CLI and the schedule call), so the
page, the downloads and `mailroom report monthly` agree to the byte.

The preview: the HTML renderer writes mail-safe HTML, which needs inline `style`
attributes (126 webmail and Outlook drop stylesheets), and the console's CSP forbids them.
Rather than fork that renderer, the preview is the renderer's own document, served at a URL
of its own with a CSP that allows inline styles and nothing else (no script, no resource,
`sandbox`), shown in a sandboxed <iframe>: the console's pages keep their strict policy and
the preview is the very HTML the office will mail.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailroom.errors import InvalidInput
from mailroom.reports import sending, service
from mailroom.reports.render import RENDERERS
from mailroom.reports.values import AnnualReport, MonthlyReport
from mailroom.store.models import Submission
from mailroom.vocabulary import is_month, local_minute
from mailroom.web import month_figures
from mailroom.web.charts import shift_month, trend_columns, unit_bars
from mailroom.web.context import back, core, office_only, this_month, user
from mailroom.web.item_files import disposition

blueprint = Blueprint("month", __name__)

Report = MonthlyReport | AnnualReport

DOWNLOADS = {  # format -> Content-Type, in the order the page offers them
    "xlsx": sending.CONTENT_TYPES["xlsx"],
    "docx": sending.CONTENT_TYPES["docx"],
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}
PREVIEW_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox"
SEND_STATUS = {"pending": "待发送", "sent": "已发出", "failed": "发送失败"}


def _valid_month(text: str) -> bool:
    return is_month(text) and text >= "1970-01"


def _valid_year(text: str) -> bool:
    return len(text) == 4 and text.isdigit() and text >= "1970"


def _bad_request(message: str) -> tuple[str, int]:
    return render_template("web/error.html", code=400, message=message), 400


# -- the month at a glance ---------------------------------------------------------------


@blueprint.get("/")
def index() -> ResponseReturnValue:
    if not request.args.get("month"):
        latest = _latest_month_with_items()
        if latest is not None and latest < this_month():
            flash(f"本月（{_month_words(this_month())}）还没有收到信息，下面是最近有信息的"
                  f"{_month_words(latest)}。", "ok")
            return redirect(url_for("month.index", month=latest), 302)
    period = request.args.get("month") or this_month()
    if not _valid_month(period):
        return _bad_request(f"月份“{period}”无法识别：请写成 YYYY-MM，例如 2019-05。")
    app = core()
    with app.sessions() as session:
        report = service.monthly(session, app.settings, period, app.clock.now())
        points = month_figures.trend(session, period)
        waiting = month_figures.pending(session)
    headings, rows, total = month_figures.unit_rows(report)
    by_counted = sorted(rows, key=lambda row: row.line.tally.counted, reverse=True)
    bars = unit_bars([(row.line.unit, row.line.tally.counted, row.line.quota)
                      for row in by_counted])
    return render_template(
        "web/month_index.html", r=report, period=period, headings=headings, rows=rows,
        total=total, bars=bars, trend=trend_columns(points, period), waiting=waiting,
        previous=shift_month(period, -1), following=shift_month(period, 1),
        current=this_month())


def _latest_month_with_items() -> str | None:
    """The latest month up to this one with a submission (the console opened at the start
    of a month, or on an archive, shows a month with something in it)."""
    with core().sessions() as session:
        return session.scalar(select(func.max(Submission.month))
                              .where(Submission.month <= this_month()))


def _month_words(period: str) -> str:
    return f"{int(period[:4])}年{int(period[5:])}月"


# -- the reports: preview, download, send --------------------------------------------------


@blueprint.get("/reports")
def reports() -> ResponseReturnValue:
    month, year = request.args.get("month"), request.args.get("year")
    if month is not None and not _valid_month(month):
        return _bad_request(f"月份“{month}”无法识别：请写成 YYYY-MM，例如 2019-05。")
    if year is not None and not _valid_year(year):
        return _bad_request(f"年份“{year}”无法识别：请写成四位数字，例如 2019。")
    current = this_month()
    if year is not None and year > current[:4]:
        return _bad_request(f"{year}年还没有开始，没有年度汇总。")
    showing = "annual" if year is not None and month is None else "monthly"
    month = month or current
    year = year or min(month[:4], current[:4])
    app = core()
    with app.sessions() as session:
        monthly_sends = month_figures.sends(session, app.settings, "bulletin",
                                            f"monthly:{month}")
        annual_sends = month_figures.sends(session, app.settings, "annual", f"annual:{year}")
    return render_template(
        "web/month_reports.html", month=month, year=year, showing=showing,
        monthly_sends=monthly_sends, annual_sends=annual_sends, formats=list(DOWNLOADS),
        this_year=current[:4], office=user().office,
        recipients=sending.recipients(app.settings), status_names=SEND_STATUS)


def _monthly(period: str) -> Callable[[Session], Report]:
    if not _valid_month(period):
        abort(404)
    app = core()
    return lambda session: service.monthly(session, app.settings, period, app.clock.now())


def _annual(year: str) -> Callable[[Session], Report]:
    if not _valid_year(year):
        abort(404)
    app = core()
    return lambda session: service.annual(session, app.settings, int(year), app.clock.now())


def _build(make: Callable[[Session], Report]) -> Report:
    with core().sessions() as session:
        return _made(make, session)


def _made(make: Callable[[Session], Report], session: Session) -> Report:
    try:
        return make(session)
    except InvalidInput:  # a year that has not begun
        abort(404)


@blueprint.get("/reports/monthly/<period>/preview")
def monthly_preview(period: str) -> Response:
    return _preview(_build(_monthly(period)))


@blueprint.get("/reports/annual/<year>/preview")
def annual_preview(year: str) -> Response:
    return _preview(_build(_annual(year)))


def _preview(report: Report) -> Response:
    """The renderer's HTML under its own policy: inline styles, nothing else."""
    response = Response(RENDERERS["html"](report), mimetype="text/html")
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@blueprint.get("/reports/monthly/<period>.<fmt>")
def monthly_download(period: str, fmt: str) -> Response:
    return _download(_monthly(period), fmt, f"mailroom-monthly-{period}")


@blueprint.get("/reports/annual/<year>.<fmt>")
def annual_download(year: str, fmt: str) -> Response:
    return _download(_annual(year), fmt, f"mailroom-annual-{year}")


def _download(make: Callable[[Session], Report], fmt: str, fallback: str) -> Response:
    if fmt not in DOWNLOADS:
        abort(404)
    report = _build(make)
    response = Response(RENDERERS[fmt](report), content_type=DOWNLOADS[fmt])
    response.headers["Content-Disposition"] = disposition(
        sending.file_name(report, fmt), fallback=f"{fallback}.{fmt}")
    response.headers["Cache-Control"] = "no-store"  # names and titles: no copies kept
    return response


@blueprint.post("/reports/monthly/<period>/send")
@office_only
def monthly_send(period: str) -> ResponseReturnValue:
    return _send(_monthly(period), url_for("month.reports", month=period))


@blueprint.post("/reports/annual/<year>/send")
@office_only
def annual_send(year: str) -> ResponseReturnValue:
    return _send(_annual(year), url_for("month.reports", year=year))


def _send(make: Callable[[Session], Report], default: str) -> ResponseReturnValue:
    """Queue the report's mail in the outbox as `report … --send` does; the daemon's outbox
    sender mails it. A period already queued is refused unless `force` is ticked."""
    force = request.form.get("force", "")
    if force not in ("", "1"):
        abort(400)
    app = core()
    try:
        with app.sessions.begin() as session:
            report = _made(make, session)
            queued = sending.queue_report(session, app.settings, app.clock, report,
                                          RENDERERS, force=force == "1")
    except sending.AlreadyQueued:
        flash(_already_sent(report), "error")
    except sending.RendererMissing:
        flash("本系统缺少生成附件（CSV、XLSX、DOCX）所需的组件，未能发送。", "error")
    except InvalidInput:
        flash("没有收件人：请在配置文件中设置 [office] addresses 或各单位的 heads。", "error")
    else:
        flash(f"已将《{queued.subject}》排入发件箱（#{queued.outbox_id}），发给 "
              f"{len(queued.recipients)} 个收件人，由后台服务发出。", "ok")
    return redirect(back(default), 303)


def _already_sent(report: Report) -> str:
    app = core()
    purpose, key = sending.purpose_and_key(report)
    with app.sessions() as session:
        earlier = month_figures.sends(session, app.settings, purpose, key)
    when = local_minute(earlier[0].queued_at, app.settings.zone) if earlier else "此前"
    return (f"《{sending.subject_line(report)}》已于 {when} 排入发件箱，这次没有再发；"
            "确需再发一次，请勾选“再次发送”。")
