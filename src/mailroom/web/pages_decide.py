"""The console's /decide page (blueprint `decide`): what waits for the office now —
suspected pairs, unassigned items, unknown senders, authentication flags, failed mails
(web/pending.py). Its forms post to the items' and the roster's actions; this page
changes nothing itself."""

from __future__ import annotations

from flask import Blueprint, render_template

from mailroom.web.context import core, user
from mailroom.web.pending import RECENT_DAYS, read_pending

bp = Blueprint("decide", __name__)


@bp.get("/decide")
def index() -> str:
    app = core()
    with app.sessions() as session:
        pending = read_pending(session, app.settings, app.files, app.clock.now())
    return render_template("web/decide_index.html", p=pending, recent_days=RECENT_DAYS,
                           units=[unit.name for unit in app.settings.units],
                           office=user().office)
