"""The office's actions on one item from the console: adopt / unadopt per channel, 批示,
the R3 review (a duplicate of its first report, or not), assigning an unassigned item —
each `POST /items/<number>/<action>`, through the same `decisions.Decisions` the CLI and
the command mails call, recorded with the web user's name and source `web`.

Each answers 303 to the form's `next` (else the item), with one Chinese line flashed:
what changed, in the words the reply to a command mail uses (_words.j2 `done`), or why
nothing did (`refused_line`). A form without the field an action needs is a 400; only
the office role gets here (context.office_only; the foundation refuses a viewer's POST
too).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from mailroom.decisions import Actor, Decisions, Outcome
from mailroom.dedupe.engine import Dedupe
from mailroom.errors import DecisionError
from mailroom.outbox.command_facts import Done, Refused
from mailroom.vocabulary import DecisionAction
from mailroom.web.context import actor, back, core, office_only

Act = Callable[[Decisions, Session, Actor], Outcome]


def _field(name: str) -> str:
    """A field the action needs: missing altogether is a malformed form (400)."""
    value = request.form.get(name)
    if value is None:
        abort(400)
    return value


def _words() -> Any:
    """templates/_words.j2 as a module of plain-text macros (the flash is escaped when the
    page shows it)."""
    return current_app.jinja_env.get_template("_words.j2").module


def _decide(number: str, action: DecisionAction, act: Act) -> ResponseReturnValue:
    app = core()
    decisions = Decisions(app.settings, Dedupe(app.settings.dedupe))
    try:
        with app.sessions.begin() as session:
            outcome = act(decisions, session, actor())
    except DecisionError as error:
        refused = Refused(number, action, error.code, dict(error.facts))
        flash(str(_words().refused_line(refused)), "error")
    else:
        done = Done(outcome.number, outcome.action, outcome.detail)
        flash(str(_words().done(done)), "ok")
    return redirect(back(url_for("items.item", number=number)), 303)


@office_only
def adopt(number: str) -> ResponseReturnValue:
    channel, note = _field("channel"), request.form.get("note", "")
    return _decide(number, DecisionAction.ADOPT, lambda core, session, who: core.adopt(
        session, number, channel, who, note=note))


@office_only
def unadopt(number: str) -> ResponseReturnValue:
    channel = _field("channel")
    return _decide(number, DecisionAction.UNADOPT, lambda core, session, who: core.unadopt(
        session, number, channel, who))


@office_only
def instruct(number: str) -> ResponseReturnValue:
    leader, text = _field("leader"), request.form.get("text", "")
    return _decide(number, DecisionAction.INSTRUCT, lambda core, session, who: core.instruct(
        session, number, leader, text, who))


@office_only
def review(number: str) -> ResponseReturnValue:
    decision = _field("decision")
    if decision not in ("duplicate", "distinct"):
        abort(400)
    duplicate = decision == "duplicate"
    of = (request.form.get("of", "").strip() or None) if duplicate else None
    action = DecisionAction.DUPLICATE if duplicate else DecisionAction.DISTINCT
    return _decide(number, action, lambda core, session, who: core.review(
        session, number, duplicate=duplicate, of=of, actor=who))


@office_only
def assign(number: str) -> ResponseReturnValue:
    unit = _field("unit")
    return _decide(number, DecisionAction.ASSIGN, lambda core, session, who: core.assign(
        session, number, unit, who))


# (rule, endpoint, view): registered on the `items` blueprint by pages_items.py
RULES: list[tuple[str, str, Callable[..., ResponseReturnValue]]] = [
    (f"/items/<number>/{name}", name, view)
    for name, view in (("adopt", adopt), ("unadopt", unadopt), ("instruct", instruct),
                       ("review", review), ("assign", assign))]
