"""The config's sections, one pydantic model each (SPEC: Config).

Every section is strict (a boolean is not an integer, a string is not a number), frozen and
rejects unknown keys. The checks pydantic cannot do on its own live here with the key they
concern: mail addresses, the database URL, the cron strings, the urgent keywords' regular
expressions, the dedupe thresholds' order; passwords are read without ever putting them in a
repr or a message.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from mailroom.errors import ConfigError
from mailroom.schedule import cron
from mailroom.store.database import check_database_url

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
            path = expand_variables(self.password_file, "password_file")
            try:
                return Path(path).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"cannot read password_file {path}: {exc.strerror}") from None
        if self.password_env:
            value = os.environ.get(self.password_env)
            if not value:
                raise ConfigError(
                    f"password_env names ${self.password_env}, which is not set or empty"
                )
            return value
        raise ConfigError("no password configured (password, password_file or password_env)")


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_variables(value: str, key: str) -> str:
    """`${NAME}` replaced by the environment variable NAME (systemd's LoadCredential= sets
    CREDENTIALS_DIRECTORY: password_file = "${CREDENTIALS_DIRECTORY}/imap"); an unset one
    is a ConfigError naming it."""

    def variable(match: re.Match[str]) -> str:
        name = match.group(1)
        found = os.environ.get(name)
        if not found:
            hint = (" (systemd sets it for a unit with LoadCredential=; outside the unit set "
                    "it to the folder holding the credential files)"
                    if name == "CREDENTIALS_DIRECTORY" else "")
            raise ConfigError(f"{key} {value} names ${{{name}}}, which is not set{hint}")
        return found

    return _VARIABLE.sub(variable, value)


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
    timeout: Annotated[int, Field(ge=1)] = 30  # seconds a server may take to answer
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
    timeout: Annotated[int, Field(ge=1)] = 30  # seconds a server may take to answer

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


class LimitsSettings(Section):
    """What one mail may cost (issue 14): a larger mail is recorded with its raw bytes but
    not read; attachments are read for text (R3) only up to these sizes, in a worker
    process held to `text_worker_memory_bytes` and `text_worker_timeout_seconds`."""

    max_mail_bytes: Annotated[int, Field(ge=1_000_000)] = 64_000_000
    max_text_bytes_per_attachment: Annotated[int, Field(ge=1)] = 30_000_000
    max_text_bytes_per_mail: Annotated[int, Field(ge=1)] = 60_000_000
    max_inflated_bytes_per_attachment: Annotated[int, Field(ge=1)] = 50_000_000
    max_inflated_bytes_per_mail: Annotated[int, Field(ge=1)] = 100_000_000
    max_text_chars: Annotated[int, Field(ge=100)] = 20_000
    max_mime_parts: Annotated[int, Field(ge=10)] = 2_500
    max_mime_depth: Annotated[int, Field(ge=2, le=200)] = 40
    text_worker_memory_bytes: Annotated[int, Field(ge=100_000_000)] = 256_000_000
    text_worker_timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 5.0

    @model_validator(mode="after")
    def _per_mail_not_below_per_attachment(self) -> LimitsSettings:
        for what in ("text", "inflated"):
            one = getattr(self, f"max_{what}_bytes_per_attachment")
            every = getattr(self, f"max_{what}_bytes_per_mail")
            if every < one:
                raise ValueError(f"max_{what}_bytes_per_mail ({every}) is below "
                                 f"max_{what}_bytes_per_attachment ({one})")
        return self


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
    request_reminder: str = "0 9 * * *"  # daily: 约稿 units not answered, 2 days before due

    @field_validator("digest", "reminder", "monthly_report", "annual_report", "request_reminder")
    @classmethod
    def _standard_cron(cls, text: str) -> str:
        cron.parse(text)  # a CronError is a ValueError saying what is wrong
        return text


class WebSettings(Section):
    listen: str = "127.0.0.1:8025"  # host:port; [::1]:8025 for IPv6
    secret_file: str = "var/web.secret"  # created (0600) when missing
    idle_minutes: int = Field(default=30, ge=1, le=24 * 60)  # a session ends when unused
    secure_cookies: bool = False  # true behind TLS (nginx): the cookie only goes over HTTPS
    trusted_proxies: int = Field(default=0, ge=0, le=5)  # proxies whose X-Forwarded-* count

    @field_validator("listen")
    @classmethod
    def _host_port(cls, text: str) -> str:
        listen_address(text)
        return text


def listen_address(text: str) -> tuple[str, int]:
    """`host:port` (IPv6 in brackets) as (host, port); a ValueError says what is wrong."""
    host, colon, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"listen must be host:port, e.g. 127.0.0.1:8025, got {text!r}")
    return host, int(port)
