"""The console's outbox page (blueprint `outbox`): what mailroom sent, what waits and
what failed and why, newest first, a page at a time (web/lists.py)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from mailroom.web.context import core
from mailroom.web.lists import STATUSES, outbox_page

bp = Blueprint("outbox", __name__)
ALIASES = {"queued": "pending"}  # the word a clerk may type for rows not sent yet


@bp.get("/outbox")
def index() -> str:
    app = core()
    wanted = request.args.get("status", "").strip()
    status = ALIASES.get(wanted, wanted)
    page = request.args.get("page", "1")
    with app.sessions() as session:
        shown = outbox_page(session, app.settings.zone, status if status in STATUSES else None,
                            int(page) if page.isdigit() else 1, app.clock.now())
    return render_template("web/outbox_index.html", o=shown)
