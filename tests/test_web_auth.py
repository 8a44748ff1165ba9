"""The console's gate: sessions, the login and its throttle, CSRF, roles, headers."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from mailroom.web.users import add_user, remove_user
from support.web import OFFICE, PASSWORD, VIEWER, Client, Site, logged_in


def test_no_session_gets_the_login_page(anonymous: Client) -> None:
    for path in ("/", "/items?month=2019-05", "/decide", "/no-such-page"):
        response = anonymous.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
    page = anonymous.get("/login").get_data(as_text=True)
    assert "登录" in page and 'name="password"' in page and 'type="password"' in page


def test_login_goes_back_where_it_was_asked(anonymous: Client) -> None:
    wanted = anonymous.get("/items?month=2019-05").headers["Location"]
    form_page = anonymous.get(wanted).get_data(as_text=True)
    assert 'value="/items?month=2019-05"' in form_page
    response = anonymous.post("/login", {"name": OFFICE, "password": PASSWORD,
                                         "next": "/items?month=2019-05"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/items?month=2019-05"


def test_login_never_sends_elsewhere(console: Flask) -> None:
    for target in ("//evil.example/", "https://evil.example/", "\\\\evil", "javascript:x"):
        response = Client(console).post("/login", {"name": OFFICE, "password": PASSWORD,
                                                   "next": target})
        assert response.headers["Location"] == "/"


def test_wrong_password_and_unknown_name_look_the_same(anonymous: Client) -> None:
    wrong = anonymous.login(OFFICE, "not the password")
    unknown = anonymous.login("nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码不正确" in wrong.get_data(as_text=True)
    assert anonymous.get("/").status_code == 302


def test_failed_logins_are_throttled_per_user(console: Flask) -> None:
    attacker = Client(console)
    for _ in range(5):
        assert attacker.login(OFFICE, "guess guess").status_code == 401
    throttled = attacker.login(OFFICE, PASSWORD)  # even the right password, for a while
    assert throttled.status_code == 429
    assert "登录失败次数过多" in throttled.get_data(as_text=True)
    assert Client(console).login(VIEWER).status_code == 303  # another user is not held up


def test_failed_logins_are_throttled_per_address(console: Flask) -> None:
    attacker = Client(console)
    for number in range(20):
        assert attacker.login(f"user{number}", "guess guess").status_code == 401
    assert attacker.login(OFFICE, PASSWORD).status_code == 429
    elsewhere = Client(console)
    elsewhere.http.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert elsewhere.login(OFFICE, PASSWORD).status_code == 303


def test_successful_logins_are_not_counted(console: Flask) -> None:
    for _ in range(8):
        client = logged_in(console, OFFICE)
        client.post("/logout")


def test_csrf_token_missing_forged_or_stale_is_refused(console: Flask) -> None:
    office = logged_in(console, OFFICE)
    stale = office.csrf_token()
    office.post("/logout")
    office.login(OFFICE)
    for token in (None, "forged-token", stale):
        response = office.post("/logout", csrf=token)
        assert response.status_code == 400
        assert "表单已失效" in response.get_data(as_text=True)
    assert office.get("/").status_code == 200  # still logged in: nothing happened
    login = Client(console).post("/login", {"name": OFFICE, "password": PASSWORD}, csrf=None)
    assert login.status_code == 400


def test_viewer_cannot_post_anything(viewer: Client, office: Client) -> None:
    for path in ("/", "/items/201905-0001/adopt", "/requests", "/anything"):
        response = viewer.post(path, {"channel": "县政府网站"})
        assert response.status_code == 403
        assert "只能查看" in response.get_data(as_text=True)
    assert viewer.post("/logout").status_code == 303  # logging out is allowed
    assert office.post("/").status_code in (404, 405)  # the office gets past the role check


def test_idle_session_ends(site: Site, office: Client) -> None:
    assert office.get("/").status_code == 200
    site.clock.advance(timedelta(minutes=29))
    assert office.get("/").status_code == 200  # used: the idle time starts again
    site.clock.advance(timedelta(minutes=31))
    response = office.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_new_password_or_removal_ends_sessions(site: Site, office: Client,
                                               viewer: Client) -> None:
    with site.app.sessions.begin() as session:
        add_user(session, OFFICE, "office", "a new password", site.clock.now())
        remove_user(session, VIEWER)
    assert office.get("/").status_code == 302
    assert viewer.get("/").status_code == 302
    assert Client(office.web).login(OFFICE, PASSWORD).status_code == 401


def test_headers_and_cookie(anonymous: Client, office: Client) -> None:
    response = office.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    cookie = anonymous.login(OFFICE).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    css = office.get("/static/console.css")
    css.close()  # a file answer streams: close it
    assert css.status_code == 200 and css.mimetype == "text/css"


def test_page_shows_the_user_escaped(site: Site, console: Flask) -> None:
    with site.app.sessions.begin() as session:
        add_user(session, "<script>alert(1)</script>", "viewer", PASSWORD, site.clock.now())
    page = logged_in(console, "<script>alert(1)</script>").get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
