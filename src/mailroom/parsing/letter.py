"""The typed message mailroom works on, built from raw bytes (see parse_letter).

Parsing choices. mail-parser 4.8 (``mailparser.parse_from_bytes``) is the
project's mail library, but its ``MailParser`` is ``email.message_from_bytes``
(compat32) plus post-processing that is wrong for this bureau's mail: it decodes
raw 8-bit header bytes and charsets it cannot apply as UTF-8 with errors ignored
(GBK subjects and names are lost), merges the text of attached messages into the
body, names nameless parts with random strings or Content-IDs, and costs about
three times the stdlib parse it wraps. So ``parse_letter`` makes that same
stdlib compat32 parse once and reads the tree itself (``decode`` for charsets,
encoded words and file names; ``text`` for HTML); from mail-parser it uses the
date parser (``mailparser.dates.parse_mail_date``: obsolete syntax, zones,
weekday mismatches), falling back to ``email.utils``.
"""

from __future__ import annotations

import binascii
import email
import email.utils
import hashlib
import io
import quopri
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32

from mailparser.dates import parse_mail_date

from mailroom.parsing.decode import (
    attachment_filename,
    decode_bytes_noted,
    decode_header,
    decode_words,
    first_values,
    fold_spaces,
    recover_8bit,
    unfold,
)
from mailroom.parsing.text import html_to_text

MAX_DEPTH = 40  # MIME nesting levels read; deeper parts are left in the raw mail
_MESSAGE_TYPES = frozenset({"message/rfc822", "message/global", "message/news"})
_ANGLE = re.compile(r"<([^<>]*)>")


@dataclass(frozen=True)
class Attachment:
    filename: str  # decoded original name; "" when the part had none
    content_type: str
    payload: bytes
    sha256: str
    is_message: bool = False  # an attached message/rfc822 (its filename is subject + ".eml")


@dataclass(frozen=True)
class Letter:
    raw_sha256: str
    message_id: str  # without angle brackets; "" when absent
    sender: str  # lower-cased address from From (falls back to Sender / Return-Path); "" if none
    sender_name: str
    recipients: tuple[str, ...]
    subject: str  # decoded, whitespace folded
    date: datetime | None  # the Date header, when parseable
    received_at: datetime  # INTERNALDATE / delivery time; what months are counted by
    body: str  # text body; HTML turned to text when that is all there is
    attachments: tuple[Attachment, ...]
    headers: dict[str, tuple[str, ...]]  # lower-cased header name -> decoded values, in order
    content_type: str  # of the top-level part, lower-case, e.g. "multipart/report"
    return_path: str | None  # None: no Return-Path header; "": the null path <>
    parse_warnings: tuple[str, ...] = field(default=())

    def header(self, name: str) -> str:
        """The first value of a header ("" when absent)."""
        values = self.headers.get(name.lower())
        return values[0] if values else ""

    def has_header(self, name: str) -> bool:
        return name.lower() in self.headers


@dataclass
class _Parts:
    """What a walk over the MIME tree collects."""

    raw: bytes
    notes: list[str]
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)


def parse_letter(raw: bytes, received_at: datetime) -> Letter:
    """Parse raw mail bytes into a Letter. Never raises on any input bytes.

    Oddities (stdlib defects, charset fallbacks, raw 8-bit headers, bad dates)
    are reported in ``parse_warnings``; the raw mail stays the record (R13).
    """
    digest = hashlib.sha256(raw).hexdigest()
    try:
        message = email.message_from_bytes(raw, policy=compat32)
        return _letter(message, raw, digest, received_at)
    except Exception as exc:  # the contract: a Letter for any bytes, the reason kept
        return _unparsed(raw, digest, received_at, exc)


def _letter(message: Message, raw: bytes, digest: str, received_at: datetime) -> Letter:
    notes: list[str] = []
    raw_headers = _raw_headers(message)
    headers = _decoded_headers(message, notes)
    parts = _Parts(raw, notes)
    _walk(message, parts, None, 0)
    sender, sender_name = _sender(raw_headers, notes)
    return Letter(
        raw_sha256=digest,
        message_id=_message_id(headers),
        sender=sender,
        sender_name=sender_name,
        recipients=_recipients(raw_headers),
        subject=fold_spaces(_first(headers, "subject")),
        date=_date(raw_headers.get("date"), notes),
        received_at=received_at,
        body=_body(parts),
        attachments=tuple(parts.attachments),
        headers=headers,
        content_type=message.get_content_type(),
        return_path=_return_path(headers),
        parse_warnings=_unique(notes),
    )


def _unparsed(raw: bytes, digest: str, received_at: datetime, exc: Exception) -> Letter:
    """A Letter with what the header block alone gives, after a failed parse."""
    notes = [f"could not parse: {type(exc).__name__}: {str(exc)[:120]}"]
    headers: dict[str, tuple[str, ...]] = {}
    try:
        headers = _decoded_headers(BytesHeaderParser(policy=compat32).parsebytes(raw), notes)
    except Exception:  # same contract; the header block is just as broken
        notes.append("header block unreadable")
    return Letter(
        raw_sha256=digest, message_id=_message_id(headers), sender="", sender_name="",
        recipients=(), subject=fold_spaces(_first(headers, "subject")), date=None,
        received_at=received_at, body="", attachments=(), headers=headers,
        content_type="", return_path=_return_path(headers), parse_warnings=_unique(notes),
    )


def _unique(notes: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(notes))


# --- headers ----------------------------------------------------------------------


def _raw_headers(message: Message) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        found.setdefault(name.lower(), []).append(str(value))
    return found


def _decoded_headers(message: Message, notes: list[str]) -> dict[str, tuple[str, ...]]:
    decoded: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        local: list[str] = []
        decoded.setdefault(name.lower(), []).append(decode_header(str(value), local))
        notes.extend(f"{name}: {note}" for note in local)
    if not decoded:
        notes.append("no header fields")
    return {name: tuple(values) for name, values in decoded.items()}


def _first(headers: dict[str, tuple[str, ...]], name: str) -> str:
    values = headers.get(name)
    return values[0] if values else ""


def _message_id(headers: dict[str, tuple[str, ...]]) -> str:
    value = _first(headers, "message-id")
    match = _ANGLE.search(value)
    return (match.group(1) if match else value).strip()


def _return_path(headers: dict[str, tuple[str, ...]]) -> str | None:
    if "return-path" not in headers:
        return None
    value = _first(headers, "return-path")
    match = _ANGLE.search(value)
    return (match.group(1) if match else value).strip()


def addresses(values: list[str]) -> list[tuple[str, str]]:
    """(decoded display name, lower-cased address) pairs from raw address headers."""
    texts = [recover_8bit(unfold(value)) for value in values]
    pairs: list[tuple[str, str]] = []
    for name, address in email.utils.getaddresses(texts):
        address = address.strip().lower()
        if address:
            pairs.append((fold_spaces(decode_words(name)), address))
    return pairs


def _sender(raw_headers: dict[str, list[str]], notes: list[str]) -> tuple[str, str]:
    for header in ("from", "sender", "return-path"):
        for name, address in addresses(raw_headers.get(header, [])[:1]):
            if header != "from":
                notes.append(f"no From address; sender taken from {header.title()}")
            return address, name
    notes.append("no sender address")
    return "", ""


def _recipients(raw_headers: dict[str, list[str]]) -> tuple[str, ...]:
    values = raw_headers.get("to", []) + raw_headers.get("cc", [])
    return tuple(dict.fromkeys(address for _, address in addresses(values)))


def _date(values: list[str] | None, notes: list[str]) -> datetime | None:
    """The first Date header, timezone-aware in the sender's offset, or None."""
    if not values:
        return None
    value = recover_8bit(unfold(values[0])).strip()
    result = parse_mail_date(value)
    if result.value is not None:
        offset = timedelta(minutes=round(float(result.timezone) * 60))
        return result.value.astimezone(timezone(offset))  # type: ignore[no-any-return]
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        notes.append(f"unparseable Date: {value[:60]!r}")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- the MIME tree -----------------------------------------------------------------


def _walk(part: Message, found: _Parts, boundary: str | None, depth: int) -> None:
    """Collect body texts and attachments in message order.

    Attached messages are one attachment each; their parts are not entered.
    """
    content_type = part.get_content_type()
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if content_type in _MESSAGE_TYPES and isinstance(inner, Message):
        found.attachments.append(_message_attachment(part, inner, found, boundary))
    elif part.get_content_maintype() == "multipart" and isinstance(payload, list):
        if depth >= MAX_DEPTH:
            found.notes.append(f"MIME nesting deeper than {MAX_DEPTH} levels not read")
            return
        for sub in payload:
            if isinstance(sub, Message):
                _walk(sub, found, part.get_boundary(), depth + 1)
    else:
        _leaf(part, found)
    found.notes.extend(f"{type(d).__name__} in {content_type}" for d in part.defects)


def _leaf(part: Message, found: _Parts) -> None:
    headers = first_values(part.raw_items())
    filename = attachment_filename(
        headers.get("content-disposition"), headers.get("content-type"), found.notes
    )
    content_type = part.get_content_type()
    if filename or part.get_content_disposition() == "attachment":
        found.attachments.append(_file_attachment(part, filename))
    elif content_type == "text/html":
        found.html.append(_part_text(part, found.notes))
    elif content_type == "text/plain" or part.get_content_maintype() == "multipart":
        if content_type != "text/plain":
            found.notes.append(f"unreadable {content_type} read as text")
        found.plain.append(_part_text(part, found.notes))


def _payload_bytes(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _part_text(part: Message, notes: list[str]) -> str:
    charset = part.get_param("charset")
    label = charset if isinstance(charset, str) else None
    text, note = decode_bytes_noted(_payload_bytes(part), label)
    if note:
        notes.append(f"{part.get_content_type()}: {note}")
    return text.replace("\r\n", "\n")


def _body(found: _Parts) -> str:
    plain = "\n".join(found.plain)
    if plain.strip() or not found.html:
        return plain
    return "\n".join(html_to_text(html) for html in found.html)


def _file_attachment(part: Message, filename: str) -> Attachment:
    payload = _payload_bytes(part)
    return Attachment(
        filename=filename,
        content_type=part.get_content_type(),
        payload=payload,
        sha256=hashlib.sha256(payload).hexdigest(),
    )


def _message_attachment(
    part: Message, inner: Message, found: _Parts, boundary: str | None
) -> Attachment:
    """An attached message: its bytes, named after its subject + ".eml"."""
    payload = _message_bytes(part, inner, found, boundary)
    encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    if encoding in ("base64", "quoted-printable"):  # the parser read the encoded text
        inner = email.message_from_bytes(payload, policy=compat32)
    subject = fold_spaces(decode_header(first_values(inner.raw_items()).get("subject", "")))
    headers = first_values(part.raw_items())
    own_name = attachment_filename(
        headers.get("content-disposition"), headers.get("content-type"), found.notes
    )
    return Attachment(
        filename=f"{subject}.eml" if subject else own_name,
        content_type=part.get_content_type(),
        payload=payload,
        sha256=hashlib.sha256(payload).hexdigest(),
        is_message=True,
    )


def _message_bytes(part: Message, inner: Message, found: _Parts, boundary: str | None) -> bytes:
    linesep = "\r\n" if b"\r\n" in found.raw[:4096] else "\n"
    try:
        flat = _flatten(inner, linesep)
    except (LookupError, UnicodeError, ValueError, TypeError) as exc:
        found.notes.append(f"attached message not re-serialisable: {type(exc).__name__}")
        return b""
    encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    if encoding == "base64":
        return binascii.a2b_base64(re.sub(rb"[^A-Za-z0-9+/]", b"", flat) + b"==")
    if encoding == "quoted-printable":
        return quopri.decodestring(flat.lstrip(b"\r\n"))
    return _exact_bytes(found.raw, flat, boundary)


def _flatten(message: Message, linesep: str) -> bytes:
    policy = compat32.clone(linesep=linesep, max_line_length=None)
    buffer = io.BytesIO()
    BytesGenerator(buffer, mangle_from_=False, policy=policy).flatten(message)
    return buffer.getvalue()


def _exact_bytes(raw: bytes, flat: bytes, boundary: str | None) -> bytes:
    """The attached message's bytes as they are in ``raw``, else as regenerated.

    The stdlib regenerates headers with slightly different folding white space;
    the original is the slice up to the enclosing boundary that matches the
    regenerated bytes but for white space.
    """
    if flat in raw or not boundary or not flat:
        return flat
    head, squashed = flat.split(b"\n", 1)[0], re.sub(rb"\s+", b"", flat)
    delimiter = b"\n--" + boundary.encode("ascii", "surrogateescape")
    start = raw.find(head)
    while start != -1:
        end = raw.find(delimiter, start)
        if end == -1:
            break
        cut = end - 1 if raw[end - 1 : end] == b"\r" else end
        if re.sub(rb"\s+", b"", raw[start:cut]) == squashed:
            return raw[start:cut]
        start = raw.find(head, start + 1)
    return flat
