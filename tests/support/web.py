"""The console in tests: the sample month polled once per session (`sample_site`), a private
copy of it per test (`site`), a Flask app on it (`console`) and clients logged in as the
office (`office`), as a viewer (`viewer`) or not at all (`anonymous`)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from mailroom.app import App
from mailroom.clock import FixedClock
from mailroom.config import load_settings
from mailroom.daemon import poll_once
from mailroom.sample.generate import SAMPLE_DIR
from mailroom.store.database import upgrade
from mailroom.web.app import create_app
from mailroom.web.users import add_user

# 2019-05-31 10:00 in Asia/Shanghai: the sample month (May 2019) is "this month"
SITE_TIME = datetime(2019, 5, 31, 2, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
OFFICE, VIEWER = "刘婧", "伍庭利"
SECRET = b"0123456789abcdef0123456789abcdef-test"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Site:
    """A folder holding the sample config, its Maildir and its var/ (database, store)."""

    folder: Path
    config: Path
    app: App

    @property
    def clock(self) -> FixedClock:
        assert isinstance(self.app.clock, FixedClock)
        return self.app.clock


def open_site(folder: Path, at: datetime = SITE_TIME) -> Site:
    config = folder / "mailroom.toml"
    return Site(folder, config, App.build(load_settings(config), FixedClock(at)))


def make_site(folder: Path) -> None:
    """The bundled sample folder copied to `folder` and polled once, with two users."""
    shutil.copytree(SAMPLE_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    site = open_site(folder)
    try:
        upgrade(site.app.engine)
        poll_once(site.app)
        with site.app.sessions.begin() as session:
            add_user(session, OFFICE, "office", PASSWORD, SITE_TIME)
            add_user(session, VIEWER, "viewer", PASSWORD, SITE_TIME)
    finally:
        site.app.close()


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample-site") / "site"
    make_site(folder)
    return folder


def copied_site(source: Path, tmp_path: Path) -> Iterator[Site]:
    """A private copy of the site folder `source`, opened; closed after the test."""
    folder = tmp_path / "site"
    shutil.copytree(source, folder)
    opened = open_site(folder)
    yield opened
    opened.app.close()


@pytest.fixture
def site(sample_site: Path, tmp_path: Path) -> Iterator[Site]:
    yield from copied_site(sample_site, tmp_path)


@pytest.fixture
def console(site: Site) -> Flask:
    web = create_app(site.app, SECRET)
    web.testing = True
    return web


class Client:
    """Flask's test client with the console's manners: `post` sends the session's CSRF token
    (`csrf=None`: none; a string: that one)."""

    def __init__(self, web: Flask) -> None:
        self.web = web
        self.http: FlaskClient = web.test_client()
        self._token: str | None = None

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.http.get(path, **kwargs)

    def csrf_token(self) -> str:
        if self._token is None:
            page = self.get("/login").get_data(as_text=True)
            found = _TOKEN.search(page) or _TOKEN.search(self.get("/").get_data(as_text=True))
            assert found, "no CSRF token on the page"
            self._token = found.group(1)
        return self._token

    def post(self, path: str, data: dict[str, Any] | None = None,
             csrf: str | None | bool = True, **kwargs: Any) -> TestResponse:
        form = dict(data or {})
        if csrf is True:
            form["csrf_token"] = self.csrf_token()
        elif isinstance(csrf, str):
            form["csrf_token"] = csrf
        return self.http.post(path, data=form, **kwargs)

    def login(self, name: str, password: str = PASSWORD) -> TestResponse:
        self._token = None
        response = self.post("/login", {"name": name, "password": password})
        self._token = None  # a login starts a new session: a new token
        return response


def logged_in(web: Flask, name: str) -> Client:
    client = Client(web)
    response = client.login(name)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


@pytest.fixture
def office(console: Flask) -> Client:
    return logged_in(console, OFFICE)


@pytest.fixture
def viewer(console: Flask) -> Client:
    return logged_in(console, VIEWER)


@pytest.fixture
def anonymous(console: Flask) -> Client:
    return Client(console)
