"""The TOML config, loaded and validated once into typed settings (SPEC: Config).

pydantic does the type checking, strictly (a boolean is not an integer, a string is not a
number), and rejects unknown keys; this module turns its errors into one line that names the
file, the key and what is expected, checks what pydantic cannot (the roster's names, aliases
and addresses, the database URL, the cron strings), resolves relative paths against the config
file's folder, and reads passwords without ever putting them in a repr or a message.
"""

from __future__ import annotations

import codecs
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from mailroom.errors import ConfigError
from mailroom.rules.units import roster_problems
from mailroom.schedule import cron
from mailroom.store.database import check_database_url

CONFIG_ENV = "MAILROOM_CONFIG"
DEFAULT_CONFIG = "mailroom.toml"

Action = Literal["warn", "reject"]
Security = Literal["tls", "starttls", "plain"]
Port = Annotated[int, Field(ge=1, le=65535)]

_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")  # as officers.add_officer


def _mail_address(value: str) -> str:
    if not _ADDRESS.match(value):
        raise ValueError("expected a mail address such as name@example.cn")
    return value


Address = Annotated[str, AfterValidator(_mail_address)]
Label = Annotated[str, Field(min_length=1)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True,
                              strict=True)


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

    @field_validator("url")
    @classmethod
    def _supported(cls, url: str) -> str:
        check_database_url(url)
        return url


class StorageSettings(Section):
    path: str = "var/store"


class OutboxSettings(Section):
    path: str = "var/sent"


class OfficeSettings(Section):
    addresses: list[Address] = ["office@example.cn"]
    name: str = ""  # the bureau, e.g. "永宁县自然资源局": bulletin titles, mail signatures


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
    name: Label
    aliases: list[Label] = []
    officers: list[Address] = []
    heads: list[Address] = []
    quota: Annotated[int, Field(ge=0)] | None = None


class AdoptionChannel(Section):
    name: Annotated[str, Field(min_length=1)]
    score: float


class ScheduleSettings(Section):
    digest: str = "0 17 * * *"
    reminder: str = "0 9 20 * *"
    monthly_report: str = "0 9 28 * *"
    annual_report: str = "0 9 31 12 *"

    @field_validator("digest", "reminder", "monthly_report", "annual_report")
    @classmethod
    def _standard_cron(cls, text: str) -> str:
        cron.parse(text)  # a CronError is a ValueError saying what is wrong
        return text


class WebSettings(Section):
    listen: str = "127.0.0.1:8025"
    secret_file: str = "var/web.secret"  # created (0600) when missing


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
    web: WebSettings = WebSettings()

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone: unknown time zone {self.timezone!r}") from None
        problems = roster_problems(self.units)
        if problems:
            raise ValueError("units: " + "; ".join(problems))
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
    ("smtp", "ca_file"), ("smtp", "password_file"), ("web", "secret_file"),
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
