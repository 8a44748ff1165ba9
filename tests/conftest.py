"""Shared fixtures. Server fixtures live in tests/support/ and are loaded as plugins."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mailroom.app import App
from mailroom.clock import FixedClock
from mailroom.config import Settings, parse_settings
from mailroom.store.database import upgrade

pytest_plugins = ["support.dovecot", "support.postgres", "support.smtp", "support.webhook",
                  "support.web", "support.browser"]

UNITS: list[dict[str, Any]] = [
    {"name": "办公室", "officers": ["bgs@example.cn"]},
    {"name": "自然资源综合执法大队", "aliases": ["执法大队", "综合执法大队"],
     "officers": ["zfdd@example.cn"]},
    {"name": "国土空间规划股", "officers": ["ghg@example.cn"]},
    {"name": "耕地保护股"},
    {"name": "望洪林业站", "officers": ["whlyz@example.cn"]},
    {"name": "望远林业站"},
    {"name": "黄河生态林场", "aliases": ["生态林场"]},
]


# Every test that uses a server fixture carries that server's marker, however it reaches
# the fixture (directly or through another fixture), so `-m "not imap"` means what it says.
SERVER_MARKERS = {"dovecot": "imap", "postgres": "postgres"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for fixture, marker in SERVER_MARKERS.items():
            if fixture in used and item.get_closest_marker(marker) is None:
                item.add_marker(getattr(pytest.mark, marker))


def settings_data(tmp_path: Path, **sections: Any) -> dict[str, Any]:
    """Config data for a test: SQLite and the store below tmp_path, a Maildir inbox."""
    data: dict[str, Any] = {
        "timezone": "Asia/Shanghai",
        "database": {"url": f"sqlite:///{tmp_path / 'mailroom.db'}"},
        "storage": {"path": str(tmp_path / "store")},
        "outbox": {"path": str(tmp_path / "sent")},
        "maildir": {"path": str(tmp_path / "inbox")},
        "office": {"addresses": ["office@example.cn"]},
        "units": UNITS,
    }
    data.update(sections)
    return data


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., App]]:
    """Build an App on a migrated database; keyword arguments replace config sections."""
    apps: list[App] = []

    def build(clock_at: datetime | None = None, **sections: Any) -> App:
        settings: Settings = parse_settings(settings_data(tmp_path, **sections))
        app = App.build(settings, FixedClock(clock_at or datetime(2019, 6, 2, tzinfo=UTC)))
        upgrade(app.engine)
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.close()
