"""A mail's MIME tree: body texts, attached files, attached messages' exact bytes.

mail-parser's own walk is not used: it merges the text of attached messages into the body
and names nameless parts with random strings or Content-IDs. This walk reads the stdlib
compat32 tree in message order: text/plain parts are the body (text/html, turned to text,
only when there is no plain text), every part with a file name or an attachment
disposition is an attachment under its decoded original name ("" when it had none), and
an attached message is one attachment carrying its bytes as they are in the raw mail.
"""

from __future__ import annotations

import binascii
import email
import hashlib
import io
import quopri
import re
from dataclasses import dataclass, field
from email.generator import BytesGenerator
from email.message import Message
from email.policy import compat32

from mailroom.parsing.aside import Aside
from mailroom.parsing.decode import HeaderDecoder, decode_bytes_noted, first_values, fold_spaces
from mailroom.parsing.text import html_to_text

MAX_DEPTH = 40  # MIME nesting levels read; deeper parts are left in the raw mail
MAX_PARTS = 2_500  # MIME parts read; the rest are left in the raw mail
_MESSAGE_TYPES = frozenset({"message/rfc822", "message/global", "message/news"})
_MAX_CANDIDATES = 20  # places tried when looking for an attached message's original bytes


@dataclass(frozen=True)
class Attachment:
    filename: str  # decoded original name; "" when the part had none
    content_type: str
    payload: bytes
    sha256: str
    is_message: bool = False  # an attached message/rfc822 (its filename is subject + ".eml")


@dataclass(frozen=True)
class MimeLimits:
    """How much of a MIME tree is read ([limits] max_mime_parts, max_mime_depth)."""

    max_parts: int = MAX_PARTS
    max_depth: int = MAX_DEPTH


@dataclass
class Parts:
    """What a walk over the MIME tree collects."""

    raw: bytes
    decoder: HeaderDecoder
    limits: MimeLimits = field(default_factory=MimeLimits)
    aside: Aside | None = None  # large bodies set aside before the parse (aside.py)
    seen: int = 0  # parts visited
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def body(self) -> str:
        """The text body; HTML turned to text when that is all there is."""
        plain = "\n".join(self.plain)
        if plain.strip() or not self.html:
            return plain
        return "\n".join(html_to_text(html) for html in self.html)


def read_parts(message: Message, raw: bytes, decoder: HeaderDecoder,
               limits: MimeLimits | None = None, aside: Aside | None = None) -> Parts:
    """Walk the tree of ``message``, parsed from ``raw`` (the skeleton, when large bodies
    were set `aside`); oddities go to the decoder's notes."""
    parts = Parts(raw, decoder, limits or MimeLimits(), aside)
    _walk(message, parts, None, 0)
    return parts


def _walk(part: Message, found: Parts, boundary: str | None, depth: int) -> None:
    """Collect body texts and attachments in message order.

    Attached messages are one attachment each; their parts are not entered.
    """
    found.seen += 1
    if found.seen > found.limits.max_parts:
        if found.seen == found.limits.max_parts + 1:
            found.decoder.notes.append(
                f"more than {found.limits.max_parts} MIME parts: the rest not read")
        return
    content_type = part.get_content_type()
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if content_type in _MESSAGE_TYPES and isinstance(inner, Message):
        found.attachments.append(_message_attachment(part, inner, found, boundary))
    elif part.get_content_maintype() == "multipart" and isinstance(payload, list):
        if depth >= found.limits.max_depth:
            found.decoder.notes.append(
                f"MIME nesting deeper than {found.limits.max_depth} levels not read")
            return
        for sub in payload:
            if isinstance(sub, Message):
                _walk(sub, found, part.get_boundary(), depth + 1)
    else:
        _leaf(part, found)
    found.decoder.notes.extend(f"{type(d).__name__} in {content_type}" for d in part.defects)


def _leaf(part: Message, found: Parts) -> None:
    filename = _part_filename(part, found.decoder)
    content_type = part.get_content_type()
    if filename or part.get_content_disposition() == "attachment":
        found.attachments.append(_file_attachment(part, filename, found))
    elif content_type == "text/html":
        found.html.append(_part_text(part, found))
    elif content_type == "text/plain" or part.get_content_maintype() == "multipart":
        if content_type != "text/plain":
            found.decoder.notes.append(f"unreadable {content_type} read as text")
        found.plain.append(_part_text(part, found))


def _part_filename(part: Message, decoder: HeaderDecoder) -> str:
    headers = first_values(part.raw_items())
    return decoder.filename(headers.get("content-disposition"), headers.get("content-type"))


def _payload_bytes(part: Message, found: Parts) -> bytes:
    if found.aside is not None:
        body = found.aside.body(part.get_payload())
        if body is not None:
            return body
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _part_text(part: Message, found: Parts) -> str:
    charset = part.get_param("charset")
    label = charset if isinstance(charset, str) else None
    text, note = decode_bytes_noted(_payload_bytes(part, found), label)
    if note:
        found.decoder.notes.append(f"{part.get_content_type()}: {note}")
    return text.replace("\r\n", "\n")


def _file_attachment(part: Message, filename: str, found: Parts) -> Attachment:
    payload = _payload_bytes(part, found)
    return Attachment(
        filename=filename,
        content_type=part.get_content_type(),
        payload=payload,
        sha256=hashlib.sha256(payload).hexdigest(),
    )


def _message_attachment(
    part: Message, inner: Message, found: Parts, boundary: str | None
) -> Attachment:
    """An attached message: its bytes, named after its subject + ".eml"."""
    payload = _message_bytes(part, inner, found, boundary)
    if found.aside is not None:
        payload = found.aside.restore(payload)
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


def _message_bytes(part: Message, inner: Message, found: Parts, boundary: str | None) -> bytes:
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
