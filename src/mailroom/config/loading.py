"""Reading the config file into Settings, with one line for whatever is wrong with it.

The file must be UTF-8 (a Notepad BOM is fine; UTF-16 and GBK are refused with what to do)
and valid TOML. Relative paths are resolved against the config file's folder, also for the
defaults of sections that are left out. pydantic's errors become one line that names the file,
the key (and the unit, inside [[units]]) and what is expected, showing the value given but
never a password or a secret.
"""

from __future__ import annotations

import codecs
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mailroom.config.sections import DatabaseSettings
from mailroom.config.settings import Settings
from mailroom.errors import ConfigError

CONFIG_ENV = "MAILROOM_CONFIG"
DEFAULT_CONFIG = "mailroom.toml"

_PATH_KEYS = {
    ("storage", "path"), ("outbox", "path"), ("maildir", "path"),
    ("imap", "ca_file"), ("imap", "password_file"),
    ("smtp", "ca_file"), ("smtp", "password_file"), ("web", "secret_file"),
}


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    for section, key in _PATH_KEYS:
        table = data.get(section)
        if isinstance(table, dict) and isinstance(table.get(key), str) and table[key] \
                and not table[key].startswith("${"):  # ${CREDENTIALS_DIRECTORY}/…: at use
            table[key] = str((base / table[key]).resolve()) if not Path(table[key]).is_absolute() \
                else table[key]
    database = data.get("database")
    if isinstance(database, dict) and isinstance(database.get("url"), str):
        database["url"] = resolve_sqlite_url(database["url"], base)
    elif "database" not in data:
        data["database"] = {"url": resolve_sqlite_url(DatabaseSettings().url, base)}
    for section, key in (("storage", "path"), ("outbox", "path"), ("web", "secret_file")):
        table = data.setdefault(section, {})
        if isinstance(table, dict) and key not in table:
            table[key] = str((base / getattr(getattr(Settings(), section), key)).resolve())


def resolve_sqlite_url(url: str, base: Path) -> str:
    """sqlite:///relative/file is relative to the config folder; other URLs pass through."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return url
    path = url[len(prefix):]
    if path in ("", ":memory:") or path.startswith("/"):
        return url
    return prefix + str((base / path).resolve())


_EXPECTED = {
    "int_type": "expected an integer", "float_type": "expected a number",
    "string_type": "expected a string", "bool_type": "expected true or false",
    "list_type": "expected a list", "model_type": "expected a table",
    "dict_type": "expected a table",
}
_SECRET_KEYS = ("password", "webhook_url")  # a robot's URL holds its access token


def _describe(error: Any, data: dict[str, Any]) -> str:
    location = ".".join(str(part) for part in error["loc"])
    message = _EXPECTED.get(error["type"], str(error["msg"]).removeprefix("Value error, "))
    if not location:
        return message
    key = f"{location!r}{_unit_named(error['loc'], data)}"
    if error["type"] == "extra_forbidden":
        return f"unknown key {key}"
    if error["type"] == "missing":
        return f"missing required key {key}"
    return f"key {key}: {message}{_shown(location, error.get('input'))}"


def _unit_named(location: tuple[Any, ...], data: dict[str, Any]) -> str:
    """ (unit '执法大队')" for a key inside a [[units]] table that has a name."""
    if len(location) < 3 or location[0] != "units" or not isinstance(data.get("units"), list):
        return ""
    unit = data["units"][location[1]]
    name = unit.get("name") if isinstance(unit, dict) else None
    return f" (unit {name!r})" if isinstance(name, str) else ""


def _shown(location: str, given: Any) -> str:
    """The value a message may show: never a password or a secret, a URL without one."""
    if isinstance(given, (dict, list)) or any(key in location for key in _SECRET_KEYS):
        return ""
    if location == "database.url" and isinstance(given, str):
        return f" (got {_without_password(given)!r})"
    return f" (got {given!r})"


def _without_password(url: str) -> str:
    return re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", url)


def parse_settings(data: dict[str, Any], source: str = "<config>") -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_describe(error, data) for error in exc.errors())
        raise ConfigError(f"{source}: {problems}") from None


def config_path(explicit: str | None) -> Path:
    return Path(explicit or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_settings(path: Path) -> Settings:
    """Read, validate and resolve the config file at `path`."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        hint = f"use --config or ${CONFIG_ENV}"
        raise ConfigError(f"{path}: config file not found ({hint})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    try:
        data = tomllib.loads(_decode(raw, path))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    _resolve_paths(data, path.resolve().parent)
    settings = parse_settings(data, str(path))
    if settings.imap is None and settings.maildir is None:
        raise ConfigError(f"{path}: no mailbox configured: add an [imap] or a [maildir] section")
    return settings


def _decode(raw: bytes, path: Path) -> str:
    """The file's text: UTF-8, with or without the BOM Windows Notepad writes; any other
    encoding is refused with what to do."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in raw[:512]:
        raise ConfigError(f"{path}: config file is UTF-16 encoded: save it as UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        try:
            raw.decode("gbk")
            looks = " (it looks GBK / GB2312 encoded)"
        except UnicodeDecodeError:
            looks = ""
        raise ConfigError(f"{path}: config file is not UTF-8{looks}, line {line}: "
                          "save it as UTF-8") from None
