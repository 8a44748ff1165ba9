"""What every console template may use: times in the configured zone, sizes, the user."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, g

from mailroom.web.context import core, this_month


def local_time(value: datetime | None, layout: str = "%Y-%m-%d %H:%M") -> str:
    """An aware UTC time as the office reads it: in `timezone`, to the minute."""
    if value is None:
        return ""
    return value.astimezone(core().settings.zone).strftime(layout)


def file_size(size: int | None) -> str:
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def _globals() -> dict[str, Any]:
    return {"me": g.get("user"), "this_month": this_month}


def install(web: Flask) -> None:
    web.add_template_filter(local_time, "local_time")
    web.add_template_filter(file_size, "file_size")
    web.context_processor(_globals)
