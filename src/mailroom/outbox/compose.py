"""Render outgoing mail to bytes: jinja2 templates (text + HTML, autoescaped) → MIME.

Pure apart from reading the packaged templates: the date, the Message-ID and every value
are passed in, so the same decision always renders the same message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
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

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from mailroom.rules.classify import OWN_HEADER

FROM_NAME = "信息报送系统"
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


@cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("mailroom", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(name: str, **context: Any) -> tuple[str, str]:
    """The text and the HTML rendering of template `name` (`name`.txt, `name`.html)."""
    env = environment()
    return (env.get_template(f"{name}.txt").render(**context),
            env.get_template(f"{name}.html").render(**context))


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
    message["From"] = formataddr((FROM_NAME, envelope.sender), charset="utf-8")
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
