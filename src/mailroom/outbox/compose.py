"""Render outgoing mail to bytes: jinja2 templates (text + HTML, autoescaped) → MIME.

Pure apart from reading the packaged templates: the date, the Message-ID and every value
are passed in, so the same decision always renders the same message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.charset import BASE64, Charset
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from mailroom.rules.classify import OWN_HEADER

MAX_REFERENCES = 20


@dataclass(frozen=True)
class Thread:
    """The mail a reply answers: its Message-ID and References (RFC 5322 §3.6.4)."""

    message_id: str  # without angle brackets; "" when the original had none
    references: str = ""

    def headers(self) -> dict[str, str]:
        if not self.message_id:
            return {}
        chain = [ref for ref in self.references.split() if ref.startswith("<")]
        chain = [*chain[-(MAX_REFERENCES - 1):], f"<{self.message_id}>"]
        return {"In-Reply-To": f"<{self.message_id}>", "References": " ".join(chain)}


@dataclass(frozen=True)
class Envelope:
    sender: str
    recipients: tuple[str, ...]
    subject: str
    message_id: str  # without angle brackets
    date: datetime
    auto_submitted: str  # "auto-replied" (receipts) | "auto-generated" (alerts)
    purpose: str  # the X-Mailroom value
    thread: Thread | None = None


_HTML = "html"  # "html/_words.j2": _words.j2 as imported by an HTML template


@cache
def environment() -> Environment:
    env = _Templates(
        loader=_Loader("mailroom", "templates"),
        autoescape=_is_html,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["shorten"] = shorten
    return env


def _is_html(name: str | None) -> bool:
    return name is not None and (name.endswith(".html") or name.startswith(f"{_HTML}/"))


class _Templates(Environment):
    """Jinja decides autoescaping per template *name*, and a macro prints with its own
    template's setting, not its caller's: a _words.j2 compiled without escaping would
    hand an HTML template a title unescaped (as Markup). So an HTML template's imports
    are loaded under a second name, "html/…", compiled with escaping; a text template's
    under their own, without. Each macro file is written once and is right in both."""

    def join_path(self, template: str, parent: str) -> str:
        if _is_html(parent) and not _is_html(template):
            return f"{_HTML}/{template}"
        return template


class _Loader(PackageLoader):
    """The packaged templates; "html/NAME" is NAME's source, compiled under its own name
    (a PrefixLoader would compile it as NAME, without escaping)."""

    def get_source(self, environment: Environment,
                   template: str) -> tuple[str, str, Callable[[], bool] | None]:
        return super().get_source(environment, template.removeprefix(f"{_HTML}/"))


@cache
def sender_name() -> str:
    """The display name of our From (templates/_words.j2 words it)."""
    return str(environment().get_template("_words.j2").module.sender_name())  # type: ignore[attr-defined]


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, the last an ellipsis (the `shorten` filter)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render(name: str, **context: Any) -> tuple[str, str]:
    """The text and the HTML rendering of template `name` (`name`.txt, `name`.html)."""
    env = environment()
    return (env.get_template(f"{name}.txt").render(**context),
            env.get_template(f"{name}.html").render(**context))


def subject(name: str, **context: Any) -> str:
    """The subject of mail `name` (template `name`.subject.txt), on one line."""
    text = environment().get_template(f"{name}.subject.txt").render(**context)
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def message_id(purpose: str, source_key: str, sender: str) -> str:
    """A deterministic Message-ID: the same decision about the same mail always gets the
    same one, so a resend after a crash is recognisably the same message. It starts with
    "mailroom." (rules/classify.py knows our own mail by it)."""
    digest = hashlib.sha256(f"{purpose}\0{source_key}".encode()).hexdigest()[:32]
    domain = sender.rsplit("@", 1)[1] if "@" in sender else "mailroom.invalid"
    return f"mailroom.{purpose}.{digest}@{domain}"


def compose(envelope: Envelope, text: str, html: str) -> bytes:
    """The complete message, CRLF line ends, ready for SMTP.

    Built with the compat32 email.mime classes: EmailMessage with a modern policy takes
    several milliseconds a mail to fold headers, which the ingest hot path noticed."""
    # a boundary from the Message-ID: the same decision renders the same bytes
    boundary = "=_" + hashlib.sha256(envelope.message_id.encode()).hexdigest()[:24]
    message = MIMEMultipart("alternative", boundary=boundary)
    message["From"] = formataddr((sender_name(), envelope.sender), charset="utf-8")
    message["To"] = ", ".join(envelope.recipients)
    message["Subject"] = Header(envelope.subject, "utf-8").encode()
    message["Date"] = format_datetime(envelope.date)
    message["Message-ID"] = f"<{envelope.message_id}>"
    for name, value in (envelope.thread.headers() if envelope.thread else {}).items():
        message[name] = value
    message["Auto-Submitted"] = envelope.auto_submitted
    message["X-Auto-Response-Suppress"] = "All"  # Exchange: no out-of-office back to us
    message[OWN_HEADER] = envelope.purpose
    message.attach(_text_part(text, "plain"))
    message.attach(_text_part(html, "html"))
    return message.as_bytes(policy=_WIRE)


_WIRE = compat32.clone(linesep="\r\n")
_UTF8 = Charset("utf-8")
_UTF8.body_encoding = BASE64


def _text_part(text: str, subtype: str) -> MIMEText:
    return MIMEText(text, subtype, _UTF8)  # type: ignore[arg-type]


def recipients_of(addresses: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a.strip().lower() for a in addresses if "@" in a))
