"""The console's Flask application: the pages' blueprints on one mailroom App, sessions and
CSRF, and the headers every answer carries. `create_app` is all a server or a test needs.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, render_template
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from mailroom.app import App
from mailroom.web import auth, filters

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# Each area's blueprint: (module path, attribute). Imported when the app is made.
BLUEPRINTS: list[tuple[str, str]] = [
    ("mailroom.web.pages_month", "blueprint"),
    ("mailroom.web.pages_items", "bp"),
    ("mailroom.web.pages_decide", "bp"),
    ("mailroom.web.pages_requests", "bp"),
    ("mailroom.web.pages_roster", "bp"),
    ("mailroom.web.pages_outbox", "bp"),
]

# No inline script or style anywhere (every script and style is a file under /static);
# images may be data: URIs (SVG charts are inline markup, not images)
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'")

CSRF_REFUSED = "表单已失效（页面停留太久或已重新登录），请刷新页面后再提交。"
ERROR_TEXT = {
    400: "请求有误。",
    403: "您的账号只能查看，不能修改。",
    404: "没有找到这个页面或文件。",
    405: "不支持这种操作。",
    413: "提交的内容太大。",
    500: "系统出错了，已记入日志；请稍后再试或联系管理员。",
}


def create_app(core: App, secret: bytes) -> Flask:
    web = Flask(__name__, template_folder=str(TEMPLATES), static_folder="static")
    settings = core.settings.web
    web.config.update(
        SECRET_KEY=secret,
        SESSION_COOKIE_NAME="mailroom_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.idle_minutes),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session (idle timeout)
        WTF_CSRF_SSL_STRICT=settings.secure_cookies,
        MAX_CONTENT_LENGTH=1024 * 1024,
        SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    web.extensions["mailroom"] = core
    if settings.trusted_proxies:
        web.wsgi_app = ProxyFix(web.wsgi_app,  # type: ignore[method-assign]
                                x_for=settings.trusted_proxies,
                                x_proto=settings.trusted_proxies,
                                x_host=settings.trusted_proxies)
    CSRFProtect(web)
    filters.install(web)
    auth.install(web)
    for module, name in BLUEPRINTS:
        web.register_blueprint(getattr(__import__(module, fromlist=[name]), name))
    web.after_request(_headers)
    web.register_error_handler(CSRFError, _csrf_refused)
    web.register_error_handler(HTTPException, _error_page)
    return web


def _headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)  # a view may set a stricter one
    headers["X-Content-Type-Options"] = "nosniff"
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    headers["Referrer-Policy"] = "same-origin"
    if response.mimetype == "text/html":
        headers["Cache-Control"] = "no-store"  # pages hold names and mail: no copies kept
    return response


def _csrf_refused(error: CSRFError) -> ResponseReturnValue:
    return render_template("web/error.html", code=400, message=CSRF_REFUSED), 400


def _error_page(error: HTTPException) -> Any:
    code = error.code or 500
    if code == 429:
        return auth.too_many(error)
    if error.response is not None or code < 400:
        return error
    return render_template("web/error.html", code=code,
                           message=ERROR_TEXT.get(code, error.description)), code
