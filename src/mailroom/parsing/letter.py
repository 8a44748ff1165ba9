"""The typed message mailroom works on, built from raw bytes (see parse_letter).

Parsing choices. mail-parser 4.8 (``mailparser.parse_from_bytes``) is the
project's mail library, but its ``MailParser`` is ``email.message_from_bytes``
(compat32) plus post-processing that is wrong for this bureau's mail: it decodes
raw 8-bit header bytes and charsets it cannot apply as UTF-8 with errors ignored
(GBK subjects and names are lost), merges the text of attached messages into the
body, names nameless parts with random strings or Content-IDs, and costs about
three times the stdlib parse it wraps. So ``parse_letter`` makes that same
stdlib compat32 parse once and reads the tree itself (``decode`` for charsets,
encoded words and file names; ``text`` for HTML). From mail-parser it uses the
parts that are right and hardened: the address parser
(``mailparser.utils.get_addresses``: no mailbox invented from an ambiguous
header) and the date parser (``mailparser.dates.parse_mail_date``: obsolete
syntax, zones, comments), falling back to ``email.utils`` for dates.
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
from mailparser.utils import get_addresses

from mailroom.parsing.decode import (
    HeaderDecoder,
    decode_bytes_noted,
    first_values,
    fold_spaces,
    unfold,
)
from mailroom.parsing.text import html_to_text

MAX_DEPTH = 40  # MIME nesting levels read; deeper parts are left in the raw mail
_MESSAGE_TYPES = frozenset({"message/rfc822", "message/global", "message/news"})
_ANGLE = re.compile(r"<([^<>]*)>")
_ZONE = re.compile(r"\s*(?:GMT|UTC)?\s*([+-]\d\d):?(\d\d)(?=\s*(?:\(.*\))?$)")  # "GMT+08:00"
_WORD_CHARSET = re.compile(r"=\?([^?*\s]+)[^?\s]*\?[bBqQ]\?")
_ATOMS = r"[^\s<>()\[\]\",;:@]+"
_LOOSE_ADDRESS = re.compile(rf"{_ATOMS}@{_ATOMS}\.{_ATOMS}")
_LOCAL_ONLY = re.compile(r"<?[A-Za-z0-9][A-Za-z0-9._-]*>?")
_MAX_CANDIDATES = 20  # places tried when looking for an attached message's original bytes


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
    decoder: HeaderDecoder
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
    decoder = HeaderDecoder(_declared_charset(message))
    notes = decoder.notes
    raw_headers = _raw_headers(message)
    headers = _decoded_headers(message, decoder)
    parts = _Parts(raw, decoder)
    _walk(message, parts, None, 0)
    sender, sender_name = _sender(raw_headers, decoder)
    return Letter(
        raw_sha256=digest,
        message_id=_message_id(headers),
        sender=sender,
        sender_name=sender_name,
        recipients=_recipients(raw_headers, decoder),
        subject=fold_spaces(_first(headers, "subject")),
        date=_date(raw_headers.get("date"), decoder),
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
    decoder = HeaderDecoder()
    notes = decoder.notes
    notes.append(f"could not parse: {type(exc).__name__}: {str(exc)[:120]}")
    headers: dict[str, tuple[str, ...]] = {}
    try:
        headers = _decoded_headers(BytesHeaderParser(policy=compat32).parsebytes(raw), decoder)
    except Exception:  # same contract; the header block is just as broken
        notes.append("header block unreadable")
    return Letter(
        raw_sha256=digest,
        message_id=_message_id(headers),
        sender="",
        sender_name="",
        recipients=(),
        subject=fold_spaces(_first(headers, "subject")),
        date=None,
        received_at=received_at,
        body="",
        attachments=(),
        headers=headers,
        content_type="",
        return_path=_return_path(headers),
        parse_warnings=_unique(notes),
    )


def _unique(notes: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(notes))


# --- headers ----------------------------------------------------------------------


def _raw_headers(message: Message) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        found.setdefault(name.lower(), []).append(str(value))
    return found


def _declared_charset(message: Message) -> str | None:
    """A hint for raw 8-bit header bytes: the first text part's charset, else
    the charset of the first encoded word in the header block."""
    for part in message.walk():
        if part.get_content_maintype() == "text":
            charset = part.get_param("charset")
            if isinstance(charset, str):
                return charset
            break
    for _, value in message.raw_items():
        match = _WORD_CHARSET.search(str(value))
        if match:
            return match.group(1)
    return None


def _decoded_headers(message: Message, decoder: HeaderDecoder) -> dict[str, tuple[str, ...]]:
    decoded: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        decoded.setdefault(name.lower(), []).append(decoder.header(str(value), name))
    if not decoded:
        decoder.notes.append("no header fields")
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


def _addresses(value: str, decoder: HeaderDecoder, where: str = "") -> list[tuple[str, str]]:
    """(decoded display name, lower-cased address) pairs of a raw address header.

    mail-parser's structural parser first; when it finds nothing, a header with
    exactly one thing shaped like an address (``Big Bug bb@bug.com``) gives that,
    and a lone local part (``MAILER-DAEMON``) is kept as it is.
    """
    text = decoder.text(unfold(value), where)
    pairs = [
        (fold_spaces(decoder.words(name, where)), address.strip().lower())
        for name, address in get_addresses(text)
        if address.strip()
    ]
    if pairs or not text.strip():
        return pairs
    loose = set(_LOOSE_ADDRESS.findall(text))
    if len(loose) == 1:
        decoder.note(where, "address recovered from a malformed header")
        return [("", loose.pop().lower())]
    if _LOCAL_ONLY.fullmatch(text.strip()):  # "MAILER-DAEMON", as some MTAs write it
        decoder.note(where, "address without a domain")
        return [("", text.strip().strip("<>").lower())]
    return []


def _sender(raw_headers: dict[str, list[str]], decoder: HeaderDecoder) -> tuple[str, str]:
    for header in ("From", "Sender", "Return-Path"):
        for name, address in _addresses(_first_raw(raw_headers, header), decoder, header):
            if header != "From":
                decoder.notes.append(f"no From address; sender taken from {header}")
            return address, name
    decoder.notes.append("no sender address")
    return "", ""


def _first_raw(raw_headers: dict[str, list[str]], name: str) -> str:
    values = raw_headers.get(name.lower())
    return values[0] if values else ""


def _recipients(raw_headers: dict[str, list[str]], decoder: HeaderDecoder) -> tuple[str, ...]:
    found: list[str] = []
    for header in ("To", "Cc"):
        for value in raw_headers.get(header.lower(), []):
            found.extend(address for _, address in _addresses(value, decoder, header))
    return tuple(dict.fromkeys(found))


def _date(values: list[str] | None, decoder: HeaderDecoder) -> datetime | None:
    """The first Date header, timezone-aware in the sender's offset, or None."""
    if not values:
        return None
    value = _ZONE.sub(r" \1\2", decoder.text(unfold(values[0]), "Date").strip())
    result = parse_mail_date(value)
    if result.value is not None:
        offset = timedelta(minutes=round(float(result.timezone) * 60))
        return result.value.astimezone(timezone(offset))  # type: ignore[no-any-return]
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        decoder.notes.append(f"unparseable Date: {value[:60]!r}")
        return None
    if parsed.tzinfo is None:
        decoder.notes.append("Date without a time zone; UTC assumed")
        return parsed.replace(tzinfo=UTC)
    return parsed


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
            found.decoder.notes.append(f"MIME nesting deeper than {MAX_DEPTH} levels not read")
            return
        for sub in payload:
            if isinstance(sub, Message):
                _walk(sub, found, part.get_boundary(), depth + 1)
    else:
        _leaf(part, found)
    found.decoder.notes.extend(f"{type(d).__name__} in {content_type}" for d in part.defects)


def _leaf(part: Message, found: _Parts) -> None:
    filename = _part_filename(part, found.decoder)
    content_type = part.get_content_type()
    if filename or part.get_content_disposition() == "attachment":
        found.attachments.append(_file_attachment(part, filename))
    elif content_type == "text/html":
        found.html.append(_part_text(part, found.decoder.notes))
    elif content_type == "text/plain" or part.get_content_maintype() == "multipart":
        if content_type != "text/plain":
            found.decoder.notes.append(f"unreadable {content_type} read as text")
        found.plain.append(_part_text(part, found.decoder.notes))


def _part_filename(part: Message, decoder: HeaderDecoder) -> str:
    headers = first_values(part.raw_items())
    return decoder.filename(headers.get("content-disposition"), headers.get("content-type"))


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
        found.decoder.notes.append(f"attached message in {encoding} (RFC 2046 forbids it)")
        inner = email.message_from_bytes(payload, policy=compat32)
    subject = found.decoder.header(first_values(inner.raw_items()).get("subject", ""), "Subject")
    own_name = _part_filename(part, found.decoder)
    return Attachment(
        filename=f"{fold_spaces(subject)}.eml" if subject.strip() else own_name,
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
        found.decoder.notes.append(f"attached message not re-serialisable: {type(exc).__name__}")
        return b""
    encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    if encoding == "base64":
        return _base64(flat)
    if encoding == "quoted-printable":
        return quopri.decodestring(flat.lstrip(b"\r\n"))
    return _exact_bytes(found.raw, flat, boundary)


def _base64(text: bytes) -> bytes:
    """Lenient base64: foreign characters dropped, padding repaired."""
    data = re.sub(rb"[^A-Za-z0-9+/]", b"", text)
    data = data[: len(data) - 1] if len(data) % 4 == 1 else data
    try:
        return binascii.a2b_base64(data + b"=" * (-len(data) % 4))
    except binascii.Error:
        return b""


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
    for _ in range(_MAX_CANDIDATES):
        end = raw.find(delimiter, start)
        if start == -1 or end == -1:
            break
        cut = end - 1 if raw[end - 1 : end] == b"\r" else end
        if re.sub(rb"\s+", b"", raw[start:cut]) == squashed:
            return raw[start:cut]
        start = raw.find(head, start + 1)
    return flat
