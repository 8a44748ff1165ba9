"""The typed message mailroom works on, built from raw bytes (see parse_letter).

Parsing choices. mail-parser 4.8 (``mailparser.parse_from_bytes``) is the
project's mail library, but its ``MailParser`` is ``email.message_from_bytes``
(compat32) plus post-processing that is wrong for this bureau's mail: it decodes
raw 8-bit header bytes and charsets it cannot apply as UTF-8 with errors ignored
(GBK subjects and names are lost), merges the text of attached messages into the
body, names nameless parts with random strings or Content-IDs, and costs about
three times the stdlib parse it wraps. So ``parse_letter`` makes that same
stdlib compat32 parse once and reads the tree itself: ``headers`` for the header
fields (with mail-parser's address and date parsers), ``mime`` for the parts,
``decode`` for charsets, encoded words and file names, ``text`` for HTML.

``not_a_message`` tells bytes that are no mail at all (an empty file, a picture, an
Outlook .msg) from a message, as the stdlib parser would read them.
"""

from __future__ import annotations

import email
import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32

from mailroom.parsing import headers as fields
from mailroom.parsing.aside import Aside, set_aside
from mailroom.parsing.decode import HeaderDecoder
from mailroom.parsing.mime import Attachment, MimeLimits, read_parts

__all__ = ["COULD_NOT_PARSE", "Attachment", "Letter", "not_a_message", "parse_letter"]

COULD_NOT_PARSE = "could not parse: "  # the warning parse_letter's catch-all leaves

# RFC 5322 field-name: printable US-ASCII but ":"; obsolete syntax allows blanks before ":"
_FIELD_LINE = re.compile(rb"[\x21-\x39\x3b-\x7e]+[ \t]*:")
_FILE_KINDS = (  # leading bytes of files that are sent to the mailbox's folder by mistake
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an OLE2 file: an Outlook .msg, .doc or .xls"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a zip archive (.docx, .xlsx, .zip)"),
)


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

    @property
    def parse_failed(self) -> bool:
        """The stdlib parse raised: only what the header block alone gives is here."""
        return any(w.startswith(COULD_NOT_PARSE) for w in self.parse_warnings)


def not_a_message(raw: bytes) -> str | None:
    """Why ``raw`` is not a mail message at all, or None when it is one.

    A message starts with its header section: its first line (after an mbox "From "
    line) is a ``Name: value`` field, as the stdlib parser requires; anything else
    leaves the parser no header at all and the whole file as a body.
    """
    if not raw:
        return "empty file"
    if not raw[:4096].strip() and not raw.strip():  # the head first: no copy of a big mail
        return "only white space"
    lines = raw[:65_536].split(b"\n", 2)
    line = lines[1] if lines[0].startswith(b"From ") and len(lines) > 1 else lines[0]
    if _FIELD_LINE.match(line):
        return None
    if not line.strip(b"\r"):
        return "no header section (it starts with a blank line)"
    kind = next((name for magic, name in _FILE_KINDS if raw.startswith(magic)), None)
    return f"no header section ({kind})" if kind else "no header section"


def parse_letter(raw: bytes, received_at: datetime, limits: MimeLimits | None = None) -> Letter:
    """Parse raw mail bytes into a Letter. Never raises on any input bytes.

    Oddities (stdlib defects, charset fallbacks, raw 8-bit headers, bad dates)
    are reported in ``parse_warnings``; the raw mail stays the record (R13).
    When the stdlib parse itself raises, the Letter has what the header block
    alone gives and ``parse_failed`` is true.
    """
    digest = hashlib.sha256(raw).hexdigest()
    try:
        skeleton, aside = set_aside(raw)
        message = email.message_from_bytes(skeleton, policy=compat32)
        return _letter(message, skeleton, digest, received_at, limits, aside=aside)
    except Exception as exc:  # the contract: a Letter for any bytes, the reason kept
        return _unparsed(raw, digest, received_at, exc)


def parse_head(raw: bytes, received_at: datetime, note: str) -> Letter:
    """A Letter from the header block alone (a mail too large to read: no body, no
    attachments), `note` among its warnings. Never raises on any input bytes."""
    digest = hashlib.sha256(raw).hexdigest()
    head = _header_block(raw)
    try:
        message = BytesHeaderParser(policy=compat32).parsebytes(head)
        letter = _letter(message, head, digest, received_at, read_content=False)
    except Exception as exc:  # the same contract as parse_letter
        letter = _unparsed(head, digest, received_at, exc)
    return replace(letter, parse_warnings=(*letter.parse_warnings, note))


def _header_block(raw: bytes, most: int = 1 << 20) -> bytes:
    """The bytes up to the first empty line (at most `most` of them)."""
    ends = [at for at in (raw.find(b"\r\n\r\n", 0, most), raw.find(b"\n\n", 0, most))
            if at != -1]
    return raw[:min(ends) + 2] if ends else raw[:most]


def _letter(message: Message, raw: bytes, digest: str, received_at: datetime,
            limits: MimeLimits | None = None, read_content: bool = True,
            aside: Aside | None = None) -> Letter:
    decoder = HeaderDecoder(fields.declared_charset(message))
    raw_headers = fields.raw_headers(message)
    headers = fields.decoded_headers(message, decoder)
    parts = read_parts(message, raw, decoder, limits, aside) if read_content else None
    sender, sender_name = fields.sender(raw_headers, decoder)
    return Letter(
        raw_sha256=digest,
        message_id=fields.message_id(headers),
        sender=sender,
        sender_name=sender_name,
        recipients=fields.recipients(raw_headers, decoder),
        subject=fields.subject(headers),
        date=fields.date(raw_headers, decoder),
        received_at=received_at,
        body=parts.body if parts else "",
        attachments=tuple(parts.attachments) if parts else (),
        headers=headers,
        content_type=message.get_content_type(),
        return_path=fields.return_path(headers),
        parse_warnings=_unique(decoder.notes),
    )


def _unparsed(raw: bytes, digest: str, received_at: datetime, exc: Exception) -> Letter:
    """A Letter with what the header block alone gives, after a failed parse."""
    decoder = HeaderDecoder()
    notes = decoder.notes
    notes.append(f"{COULD_NOT_PARSE}{type(exc).__name__}: {str(exc)[:120]}")
    headers: fields.Headers = {}
    try:
        headers = fields.decoded_headers(BytesHeaderParser(policy=compat32).parsebytes(raw),
                                         decoder)
    except Exception:  # same contract; the header block is just as broken
        notes.append("header block unreadable")
    return Letter(
        raw_sha256=digest,
        message_id=fields.message_id(headers),
        sender="",
        sender_name="",
        recipients=(),
        subject=fields.subject(headers),
        date=None,
        received_at=received_at,
        body="",
        attachments=(),
        headers=headers,
        content_type="",
        return_path=fields.return_path(headers),
        parse_warnings=_unique(notes),
    )


def _unique(notes: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(notes))
