"""The console's 约稿 page (blueprint `requests_page`): the requests with who answered and
who did not; add one and close one through requests/service.py, as `request add` /
`request close` do (the add queues the 约稿通知 mails), recorded with the web user's name
and source `web`."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    get_template_attribute,
    redirect,
    render_template,
    request,
)
from werkzeug.wrappers import Response

from mailroom.errors import DecisionError
from mailroom.requests import service
from mailroom.web.context import actor, back, core, office_only, user
from mailroom.web.lists import request_views

bp = Blueprint("requests_page", __name__)
log = logging.getLogger(__name__)
WORDS = "web/_decide_words.html"


def words(name: str) -> Any:
    return get_template_attribute(WORDS, name)


@bp.get("/requests")
def index() -> str:
    app = core()
    today = app.clock.now().astimezone(app.settings.zone).date()
    with app.sessions() as session:
        views = request_views(session, app.settings.zone, today)
    return render_template("web/requests_index.html", requests=views,
                           units=[unit.name for unit in app.settings.units],
                           today=today.isoformat(), office=user().office)


def _due(text: str) -> date | None:
    """The form's due date: none given → None (add_request refuses it in words);
    not a date → 400 (a date input never sends that)."""
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        abort(400)


@bp.post("/requests")
@office_only
def add() -> Response:
    app, form = core(), request.form
    due = _due(form.get("due", ""))
    units = [unit for unit in form.getlist("units") if unit.strip()]
    who = actor()
    try:
        with app.sessions.begin() as session:
            added = service.add_request(session, app.settings, title=form.get("title", ""),
                                        units=units, due=due, note=form.get("note", ""),
                                        actor=who)
    except DecisionError as error:
        flash(words("refused")(error.code, error.facts), "error")
    else:
        log.info("web: %s recorded request %s (%s)", who.by, added.code, ", ".join(added.units))
        flash(words("request_added")(added), "ok")
    return redirect(back("/requests"), 303)


@bp.post("/requests/<code>/close")
@office_only
def close(code: str) -> Response:
    app, who = core(), actor()
    try:
        with app.sessions.begin() as session:
            closed = service.close_request(session, code, who)
            message = words("request_closed")(closed)
    except DecisionError as error:
        flash(words("refused")(error.code, error.facts), "error")
    else:
        log.info("web: %s closed request %s", who.by, code)
        flash(message, "ok")
    return redirect(back("/requests"), 303)
