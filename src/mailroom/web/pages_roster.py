"""The console's roster page (blueprint `roster`): the configured units with their
officers (信息员) and heads; register and remove an officer through officers.py, as
`officers add|remove` do. The roster keeps how an officer was registered (source `web`
here) and by whom (the console user)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, flash, get_template_attribute, redirect, render_template, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from mailroom import officers
from mailroom.errors import InvalidInput
from mailroom.store.models import Officer
from mailroom.web.context import actor, back, core, office_only, user
from mailroom.web.lists import roster_views

bp = Blueprint("roster", __name__)
log = logging.getLogger(__name__)
WORDS = "web/_decide_words.html"
SOURCE = "web"  # Officer.source of an officer registered in the console


def words(name: str) -> Any:
    return get_template_attribute(WORDS, name)


@bp.get("/roster")
def index() -> str:
    app = core()
    with app.sessions() as session:
        units = roster_views(session, app.settings)
    return render_template("web/roster_index.html", units=units,
                           unit_names=[unit.name for unit in app.settings.units],
                           office=user().office)


@bp.post("/roster/officers")
@office_only
def register() -> Response:
    app, form, who = core(), request.form, actor()
    address, given = form.get("address", "").strip(), form.get("unit", "")
    try:
        unit = officers.configured_unit(app.settings, given)
    except InvalidInput:
        flash(words("refused")("unknown_unit", {"unit": given}), "error")
        return redirect(back("/roster"), 303)
    try:
        with app.sessions.begin() as session:
            before = session.scalar(select(Officer.unit)
                                    .where(Officer.address == address.lower()))
            officer = officers.add_officer(session, app.settings, address, unit,
                                           form.get("name", ""), who.at, source=SOURCE,
                                           by=who.by)
            message = words("officer_registered")(officer, before)
    except InvalidInput:  # the unit is known: the address is not one
        flash(words("refused")("bad_address", {"address": address}), "error")
    else:
        log.info("web: %s registered officer %s for %s", who.by, address.lower(), unit)
        flash(message, "ok")
    return redirect(back("/roster"), 303)


@bp.post("/roster/officers/remove")
@office_only
def remove() -> Response:
    app, who = core(), actor()
    address = request.form.get("address", "").strip().lower()
    in_config = next((unit.name for unit in app.settings.units
                      if address in (a.lower() for a in unit.officers)), None)
    if in_config is not None:
        flash(words("refused")("in_config", {"address": address, "unit": in_config}), "error")
        return redirect(back("/roster"), 303)
    try:
        with app.sessions.begin() as session:
            officer = officers.remove_officer(session, app.settings, address)
            message = words("officer_removed")(officer)
    except InvalidInput:
        flash(words("refused")("not_registered", {"address": address}), "error")
    else:
        log.info("web: %s removed officer %s", who.by, address)
        flash(message, "ok")
    return redirect(back("/roster"), 303)
