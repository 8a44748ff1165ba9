"""Logging in and out, and the session every other page needs.

A session is Flask's signed cookie (HttpOnly, SameSite=Lax, Secure behind TLS) holding the
user's id, their `session_key` (a new password or a removed user ends it) and when it was
last used: unused for `[web] idle_minutes`, it ends. Failed logins are throttled per user
name and per address (Flask-Limiter); a throttled login answers 429 whatever the password.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    Blueprint,
    Flask,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.wrappers import Response

from mailroom.web import users
from mailroom.web.context import back, core

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

# Failed attempts only (a 401 answer) count; a success does not
PER_USER = "5 per 15 minutes"
PER_ADDRESS = "20 per 15 minutes"
OPEN_ENDPOINTS = {"auth.login", "static"}

def _user_key() -> str:
    return "user:" + request.form.get("name", "").strip().casefold()


def _failed(response: Response) -> bool:
    return response.status_code == 401


def login() -> ResponseReturnValue:
    target = back("/")
    if request.method == "GET":
        return render_template("web/auth_login.html", next=target)
    name, password = request.form.get("name", ""), request.form.get("password", "")
    with core().sessions.begin() as db:
        account = users.authenticate(db, name, password)
    if account is None:
        log.warning("console: failed login for %r from %s", name[:100], request.remote_addr)
        return render_template("web/auth_login.html", next=target, name=name,
                               error="用户名或密码不正确。"), 401
    session.clear()
    session.update(uid=account.id, key=account.session_key, seen=_now())
    session.permanent = True
    log.info("console: %s logged in from %s", account.name, request.remote_addr)
    return redirect(target, 303)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    session.clear()
    flash("已退出登录。", "ok")
    return redirect(url_for("auth.login"), 303)


def _now() -> float:
    return core().clock.now().timestamp()


def require_login() -> ResponseReturnValue | None:
    """Before every request: the session's user in `g.user`, else the login page."""
    g.user = None
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    uid, key, seen = session.get("uid"), session.get("key"), session.get("seen")
    if isinstance(uid, int) and isinstance(key, str) and isinstance(seen, (int, float)):
        idle = core().settings.web.idle_minutes * 60
        if _now() - seen <= idle:
            with core().sessions() as db:
                g.user = users.account(db, uid, key)
        elif request.method == "GET":
            flash("长时间未操作，请重新登录。", "error")
    if g.user is None:
        session.pop("uid", None)
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    session["seen"] = _now()
    if request.method not in ("GET", "HEAD", "OPTIONS") and not g.user.office \
            and request.endpoint != "auth.logout":
        return render_template("web/error.html", code=403, message=FORBIDDEN), 403
    return None


FORBIDDEN = "您的账号只能查看，不能修改。"


def too_many(error: Any) -> ResponseReturnValue:
    return render_template("web/auth_login.html", next=back("/"),
                           name=request.form.get("name", ""),
                           error="登录失败次数过多，请 15 分钟后再试。"), 429


def install(app: Flask) -> None:
    """Sessions, the login page and its throttle (one counter store per console)."""
    limiter = Limiter(get_remote_address, app=app, storage_uri="memory://",
                      default_limits=[], headers_enabled=False)
    throttled = limiter.limit(PER_USER, key_func=_user_key, methods=["POST"],
                              deduct_when=_failed)(login)
    throttled = limiter.limit(PER_ADDRESS, methods=["POST"], deduct_when=_failed)(throttled)
    app.add_url_rule("/login", "auth.login", throttled, methods=["GET", "POST"])
    app.before_request(require_login)
    app.register_blueprint(bp)
