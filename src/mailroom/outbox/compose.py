"""Render outgoing mail to bytes: jinja2 templates (text + HTML, autoescaped) → MIME.

Pure apart from reading the packaged templates: the date, the Message-ID and every value
are passed in, so the same decision always renders the same message.
"""

from __future__ import annotations

import base64
import hashlib
import re
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.charset import BASE64, Charset
from email.encoders import encode_base64
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

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
        auto_reload=False,  # packaged files: no stat of every template for every mail
    )
    env.filters["shorten"] = shorten
    env.filters["nowrap_numbers"] = nowrap_numbers
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


_NUMBER = re.compile(r"(?<![\w-])(\d{6}-\d{4,})(?![\w-])")


def nowrap_numbers(html: str) -> Markup:
    """HTML with each submission number kept on one line (a narrow screen breaks
    `201905-0012` at its hyphen otherwise); for escaped text (a macro's output)."""
    return Markup(_NUMBER.sub(r'<span style="white-space: nowrap">\1</span>', str(html)))


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


def compose(envelope: Envelope, text: str, html: str,
            attachments: Sequence[Attachment] = ()) -> bytes:
    """The complete message, CRLF line ends, ready for SMTP: text + HTML
    (multipart/alternative), and with attachments that inside a multipart/mixed, the
    files after it. Without attachments the bytes are what they always were.

    Built with the compat32 email.mime classes: EmailMessage with a modern policy takes
    several milliseconds a mail to fold headers, which the ingest hot path noticed."""
    body = MIMEMultipart("alternative", boundary=_boundary(envelope.message_id))
    body.attach(_text_part(text, "plain"))
    body.attach(_text_part(html, "html"))
    message = body
    if attachments:
        message = MIMEMultipart("mixed", boundary=_boundary(envelope.message_id, "mixed"))
        del body["MIME-Version"]
        message.attach(body)
        for attachment in attachments:
            message.attach(_file_part(attachment))
    message["From"] = formataddr((sender_name(), envelope.sender), charset="utf-8")
    message["To"] = ", ".join(envelope.recipients)
    # header_name: the first encoded word starts on the Subject line itself (without it the
    # line is left empty and a parser reads the subject with a leading space)
    message["Subject"] = Header(envelope.subject, "utf-8", header_name="Subject").encode()
    message["Date"] = format_datetime(envelope.date)
    message["Message-ID"] = f"<{envelope.message_id}>"
    for name, value in (envelope.thread.headers() if envelope.thread else {}).items():
        message[name] = value
    message["Auto-Submitted"] = envelope.auto_submitted
    message["X-Auto-Response-Suppress"] = "All"  # Exchange: no out-of-office back to us
    message[OWN_HEADER] = envelope.purpose
    return message.as_bytes(policy=_WIRE)


def _boundary(message_id: str, kind: str = "") -> str:
    """From the Message-ID: the same decision renders the same bytes. ("=_" cannot occur
    in base64, which every part is.)"""
    seed = f"{message_id}\0{kind}" if kind else message_id
    return "=_" + hashlib.sha256(seed.encode()).hexdigest()[:24]


_WIRE = compat32.clone(linesep="\r\n")
_UTF8 = Charset("utf-8")
_UTF8.body_encoding = BASE64


def _text_part(text: str, subtype: str) -> MIMEText:
    return MIMEText(text, subtype, _UTF8)  # type: ignore[arg-type]


# -- attachments ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Attachment:
    """A file an outgoing mail carries (the bulletin's CSV, XLSX, DOCX)."""

    filename: str  # as the reader should see it: Chinese, spaces, full-width punctuation
    content_type: str  # "maintype/subtype", no parameters
    data: bytes

    def __post_init__(self) -> None:
        if not self.filename.strip() or any(ord(c) < 32 or ord(c) == 127
                                            for c in self.filename):
            raise ValueError(f"attachment file name {self.filename!r}: empty or has "
                             "control characters")
        if not _MIME_TYPE.fullmatch(self.content_type):
            raise ValueError(f"attachment content type {self.content_type!r}: not "
                             "maintype/subtype")


_MIME_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*")
_LINE = 78  # RFC 5322's "SHOULD" line length, which compat32 folds to as well


def _file_part(attachment: Attachment) -> Message:
    """One file, base64, its name written twice (folded here, see _Folded):

    - `filename*=` on Content-Disposition: RFC 2231 (UTF-8, percent-encoded, `*0*`, `*1*`
      continuations when long), as the stdlib's add_header writes it. The standard form,
      what Thunderbird, Apple Mail, Gmail and mailroom's own parser read.
    - `name=` on Content-Type as RFC 2047 encoded words in a quoted string. RFC 2047 §5
      forbids that, but it is what Outlook writes and the only form it reads: given RFC
      2231 alone, Outlook over IMAP / POP shows "ATT00001.dat" / "Untitled attachment"
      (MimeKit #186, MailKit #1041) and QQ Mail, Foxmail's sibling, "tcmime.….bin"
      (MailKit #277). Thunderbird sends this same pair, and nodemailer settled on it
      (buildmail #4): readers that know RFC 2231 take filename*, the rest fall back to
      name. No third form (a 2047 `filename=`) beside filename*: two spellings of one
      parameter are read differently by different parsers."""
    maintype, subtype = attachment.content_type.split("/")
    part: Message[str, Any] = MIMEBase(maintype, subtype)
    part.set_payload(attachment.data)
    encode_base64(part)
    part.replace_header("Content-Type", _Folded(
        "Content-Type", [f"{attachment.content_type};", *_name_param(attachment.filename)]))
    part["Content-Disposition"] = _Folded(
        "Content-Disposition", ["attachment;", *_filename_param(attachment.filename)])
    return part


def _plain(name: str, key: str) -> str | None:
    """`key="name"` when the name is printable ASCII and fits on a line, else None."""
    if not all(" " <= c <= "~" for c in name):
        return None
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    line = f' {key}="{quoted}"'
    return line.strip() if len(line) + 1 <= _LINE else None


def _filename_param(name: str) -> list[str]:
    """RFC 2231: `filename*=utf-8''…`, or `filename*0*=utf-8''…; filename*1*=…` split
    between characters so that no line passes _LINE."""
    plain = _plain(name, "filename")
    if plain is not None:
        return [plain]
    encoded = [urllib.parse.quote(c, safe="") for c in name]
    if len(" filename*=utf-8''") + len("".join(encoded)) <= _LINE:
        return ["filename*=utf-8''" + "".join(encoded)]
    lines: list[str] = []
    piece = ""
    for chunk in encoded:
        head = f"filename*{len(lines)}*=" + ("utf-8''" if not lines else "")
        if piece and len(f" {head}{piece}{chunk};") > _LINE:
            lines.append(f"{head}{piece};")
            piece = ""
        piece += chunk
    lines.append(f"filename*{len(lines)}*=" + ("utf-8''" if not lines else "") + piece)
    return lines


def _name_param(name: str) -> list[str]:
    """RFC 2047 words in a quoted `name="…"`, one per line: `=?utf-8?b?…?=` of at most
    42 bytes (whole characters), so that each line stays within _LINE."""
    plain = _plain(name, "name")
    if plain is not None:
        return [plain]
    words: list[str] = []
    data = b""
    for char in name:
        if len(data) + len(char.encode()) > 42:
            words.append(_encoded_word(data))
            data = b""
        data += char.encode()
    words.append(_encoded_word(data))
    words[0], words[-1] = f'name="{words[0]}', f'{words[-1]}"'
    return words


def _encoded_word(data: bytes) -> str:
    return f"=?utf-8?b?{base64.b64encode(data).decode('ascii')}?="


class _Folded:
    """A header value folded here, line by line, that compat32 writes as it is (it takes
    Header-like values): left to itself, it would move a content type too long for the
    first line (the .docx and .xlsx ones) onto a line of its own after "Content-Type:"."""

    def __init__(self, name: str, lines: list[str]) -> None:
        self.lines = lines
        if len(f"{name}: " + " ".join(lines)) <= _LINE:
            self.lines = [" ".join(lines)]

    def __str__(self) -> str:  # unfolded, for the getters (get_content_type …)
        return " ".join(self.lines)

    def encode(self, splitchars: str = "", maxlinelen: int | None = None,
               linesep: str = "\n") -> str:
        return f"{linesep} ".join(self.lines)


def recipients_of(addresses: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a.strip().lower() for a in addresses if "@" in a))
