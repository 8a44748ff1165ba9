"""The TOML config, loaded and validated once into typed settings (SPEC: Config).

pydantic does the type checking and rejects unknown keys; this module turns its errors
into one line that names the file, the key and what is expected, resolves relative paths
against the config file's folder, and reads passwords without ever putting them in a repr.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from mailroom.errors import ConfigError

CONFIG_ENV = "MAILROOM_CONFIG"
DEFAULT_CONFIG = "mailroom.toml"

Action = Literal["warn", "reject"]
Security = Literal["tls", "starttls", "plain"]
Port = Annotated[int, Field(ge=1, le=65535)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class PasswordSource(Section):
    """Exactly one of password / password_file / password_env (or none where no AUTH is used)."""

    password: SecretStr | None = None
    password_file: str | None = None
    password_env: str | None = None

    def _password_sources(self) -> list[str]:
        given = [("password", self.password), ("password_file", self.password_file),
                 ("password_env", self.password_env)]
        return [name for name, value in given if value not in (None, "")]

    @model_validator(mode="after")
    def _one_password_source(self) -> PasswordSource:
        if len(self._password_sources()) > 1:
            raise ValueError("give only one of password, password_file, password_env")
        return self

    def has_password(self) -> bool:
        return bool(self._password_sources())

    def resolve_password(self) -> str:
        """The password itself; raises ConfigError saying where it was looked for."""
        if self.password is not None and self.password.get_secret_value():
            return self.password.get_secret_value()
        if self.password_file:
            try:
                return Path(self.password_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(
                    f"cannot read password_file {self.password_file}: {exc.strerror}"
                ) from None
        if self.password_env:
            value = os.environ.get(self.password_env)
            if not value:
                raise ConfigError(
                    f"password_env names ${self.password_env}, which is not set or empty"
                )
            return value
        raise ConfigError("no password configured (password, password_file or password_env)")


class ClientId(Section):
    name: str = "mailroom"
    version: str = "1.0"
    vendor: str | None = None
    support_email: str | None = None

    def as_imap_id(self) -> dict[str, str]:
        fields = {"name": self.name, "version": self.version, "vendor": self.vendor,
                  "support-email": self.support_email}
        return {key: value for key, value in fields.items() if value}


class ImapSettings(PasswordSource):
    host: str
    port: Port | None = None
    security: Security = "tls"
    username: str
    ca_file: str = ""
    folder: str = "INBOX"
    processed_folder: str = "mailroom/processed"
    failed_folder: str = "mailroom/failed"
    client_id: ClientId = ClientId()
    idle: bool = True
    poll_interval: Annotated[int, Field(ge=1)] = 60
    trusted_authserv_id: str = ""

    @property
    def effective_port(self) -> int:
        return self.port or (993 if self.security == "tls" else 143)


class MaildirSettings(Section):
    path: str


class SmtpSettings(PasswordSource):
    host: str
    port: Port | None = None
    security: Security = "tls"
    username: str = ""
    ca_file: str = ""
    sender: str
    max_per_minute: Annotated[int, Field(ge=1)] = 20

    @property
    def effective_port(self) -> int:
        return self.port or {"tls": 465, "starttls": 587, "plain": 25}[self.security]


class DatabaseSettings(Section):
    url: str = "sqlite:///var/mailroom.db"


class StorageSettings(Section):
    path: str = "var/store"


class OutboxSettings(Section):
    path: str = "var/sent"


class OfficeSettings(Section):
    addresses: list[str] = ["office@example.cn"]


class QuotaSettings(Section):
    monthly_minimum: Annotated[int, Field(ge=0)] = 2


class DedupeSettings(Section):
    duplicate_threshold: Annotated[float, Field(ge=0, le=100)] = 90
    suspect_threshold: Annotated[float, Field(ge=0, le=100)] = 75
    window_days: Annotated[int, Field(ge=1)] = 90

    @model_validator(mode="after")
    def _ordered(self) -> DedupeSettings:
        if self.suspect_threshold > self.duplicate_threshold:
            raise ValueError("suspect_threshold must not exceed duplicate_threshold")
        return self


class ReceiptSettings(Section):
    max_per_sender_per_hour: Annotated[int, Field(ge=0)] = 10
    skip_older_than_hours: Annotated[int, Field(ge=0)] = 0


class CheckSettings(Section):
    attachment_name: Action = "warn"
    electronic_version: Action = "warn"
    signed_scan: Action = "warn"


class UrgentElement(Section):
    """One R5 element of an urgent report: present when any keyword (a regex) matches."""

    name: Annotated[str, Field(min_length=1)]
    keywords: Annotated[list[str], Field(min_length=1)]

    @field_validator("keywords")
    @classmethod
    def _compiles(cls, keywords: list[str]) -> list[str]:
        for keyword in keywords:
            try:
                re.compile(keyword)
            except re.error as exc:
                raise ValueError(f"keyword {keyword!r} is not a valid regular expression: "
                                 f"{exc}") from None
        return keywords


class UrgentSettings(Section):
    webhook_url: str = ""
    webhook_kind: Literal["auto", "dingtalk", "wecom"] = "auto"
    webhook_secret_env: str = ""
    elements: list[UrgentElement] | None = None  # None: the built-in R5 rules (rules/urgent.py)


class ScoringSettings(Section):
    mode: Literal["sum", "highest"] = "sum"
    instruction_bonus: float = 2


class Unit(Section):
    name: Annotated[str, Field(min_length=1)]
    aliases: list[str] = []
    officers: list[str] = []
    heads: list[str] = []
    quota: Annotated[int, Field(ge=0)] | None = None


class AdoptionChannel(Section):
    name: Annotated[str, Field(min_length=1)]
    score: float


class ScheduleSettings(Section):
    digest: str = "0 17 * * *"
    reminder: str = "0 9 20 * *"
    monthly_report: str = "0 9 28 * *"
    annual_report: str = "0 9 31 12 *"


class Settings(Section):
    timezone: str = "Asia/Shanghai"
    database: DatabaseSettings = DatabaseSettings()
    storage: StorageSettings = StorageSettings()
    imap: ImapSettings | None = None
    maildir: MaildirSettings | None = None
    smtp: SmtpSettings | None = None
    outbox: OutboxSettings = OutboxSettings()
    office: OfficeSettings = OfficeSettings()
    quota: QuotaSettings = QuotaSettings()
    dedupe: DedupeSettings = DedupeSettings()
    receipts: ReceiptSettings = ReceiptSettings()
    checks: CheckSettings = CheckSettings()
    urgent: UrgentSettings = UrgentSettings()
    scoring: ScoringSettings = ScoringSettings()
    units: list[Unit] = []
    adoption_channels: list[AdoptionChannel] = []
    schedule: ScheduleSettings = ScheduleSettings()

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone: unknown time zone {self.timezone!r}") from None
        names = [unit.name for unit in self.units]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"units: name given more than once: {', '.join(repeated)}")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def quota_of(self, unit: Unit) -> int:
        return unit.quota if unit.quota is not None else self.quota.monthly_minimum

    @property
    def own_addresses(self) -> set[str]:
        """Addresses mailroom sends from or reads: mail from them is our own."""
        own = set()
        if self.smtp:
            own.add(self.smtp.sender.lower())
            if self.smtp.username and "@" in self.smtp.username:
                own.add(self.smtp.username.lower())
        if self.imap and "@" in self.imap.username:
            own.add(self.imap.username.lower())
        return own


_PATH_KEYS = {
    ("storage", "path"), ("outbox", "path"), ("maildir", "path"),
    ("imap", "ca_file"), ("imap", "password_file"),
    ("smtp", "ca_file"), ("smtp", "password_file"),
}


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    for section, key in _PATH_KEYS:
        table = data.get(section)
        if isinstance(table, dict) and isinstance(table.get(key), str) and table[key]:
            table[key] = str((base / table[key]).resolve()) if not Path(table[key]).is_absolute() \
                else table[key]
    database = data.get("database")
    if isinstance(database, dict) and isinstance(database.get("url"), str):
        database["url"] = resolve_sqlite_url(database["url"], base)
    elif "database" not in data:
        data["database"] = {"url": resolve_sqlite_url(DatabaseSettings().url, base)}
    for section, key in (("storage", "path"), ("outbox", "path")):
        if section not in data:
            data[section] = {key: str((base / getattr(Settings(), section).path).resolve())}


def resolve_sqlite_url(url: str, base: Path) -> str:
    """sqlite:///relative/file is relative to the config folder; other URLs pass through."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return url
    path = url[len(prefix):]
    if path in ("", ":memory:") or path.startswith("/"):
        return url
    return prefix + str((base / path).resolve())


def _describe(error: Any) -> str:
    location = ".".join(str(part) for part in error["loc"]) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown key {location!r}"
    if kind == "missing":
        return f"missing required key {location!r}"
    message = str(error["msg"]).removeprefix("Value error, ")
    given = error.get("input")
    shown = "" if isinstance(given, (dict, list)) or "password" in location else f" (got {given!r})"
    return f"key {location!r}: {message}{shown}"


def parse_settings(data: dict[str, Any], source: str = "<config>") -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_describe(error) for error in exc.errors())
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
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: config file is not UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    _resolve_paths(data, path.resolve().parent)
    settings = parse_settings(data, str(path))
    if settings.imap is None and settings.maildir is None:
        raise ConfigError(f"{path}: no mailbox configured: add an [imap] or a [maildir] section")
    return settings
