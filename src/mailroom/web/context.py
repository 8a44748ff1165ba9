"""What every console view needs: the mailroom App behind it, the user logged in, the Actor
a decision is recorded with, the office-only guard, and a safe place to go back to."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, current_app, g, request

from mailroom.app import App
from mailroom.decisions import Actor
from mailroom.vocabulary import DecisionSource
from mailroom.web.users import Account

View = TypeVar("View", bound=Callable[..., Any])


def core() -> App:
    """The mailroom App (settings, database sessions, file store, clock) of this console."""
    return cast(App, current_app.extensions["mailroom"])


def user() -> Account:
    """The user logged in (every view but the login page has one)."""
    return cast(Account, g.user)


def actor() -> Actor:
    """Who a decision made in this request is recorded as: the console user, from the web."""
    return Actor(user().name, DecisionSource.WEB, core().clock.now())


def office_only(view: View) -> View:
    """For every view that changes anything: the viewer role gets 403 (checked here, on the
    server, whatever the page showed)."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not user().office:
            abort(403)
        return view(*args, **kwargs)

    return cast(View, guarded)


def back(default: str) -> str:
    """Where to go after a form: its `next` field when that is a path on this site."""
    target = request.form.get("next") or request.args.get("next") or ""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def local_now() -> datetime:
    app = core()
    return app.clock.now().astimezone(app.settings.zone)


def this_month() -> str:
    return local_now().strftime("%Y-%m")
