"""Byte-level MIME building blocks, so each sample mail can look exactly as a given client
writes it: where it folds, which charset label it uses against which codec, how it encodes
a file name. The stdlib `email` generator normalises all of that away, so the parts are
written here by hand (the encoders are the stdlib's: base64, quopri, urllib.parse.quote).

Line ends are LF, as mail sits in a Maildir; `crlf()` gives the wire form.
"""

from __future__ import annotations

import base64
import hashlib
import quopri
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc5322_date(when: datetime, *, pad_day: bool = False, zone_comment: str = "") -> str:
    """`Wed, 8 May 2019 15:03:52 +0800`, the way most clients write it (day not zero-padded)."""
    offset = when.utcoffset()
    assert offset is not None, "sample times carry their offset"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    zone = f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    day = f"{when.day:02d}" if pad_day else str(when.day)
    text = (f"{_DAYS[when.weekday()]}, {day} {_MONTHS[when.month - 1]} {when.year} "
            f"{when:%H:%M:%S} {zone}")
    return f"{text} ({zone_comment})" if zone_comment else text


def digest(key: str, length: int = 16) -> str:
    """Stable lower-case hex derived from `key` (ids, boundaries): no randomness."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:length]


def digits(key: str, length: int) -> str:
    return str(int(digest(key, 24), 16))[-length:].rjust(length, "0")


def encoded_words(text: str, label: str, codec: str | None = None, *,
                  limit: int = 75) -> list[str]:
    """RFC 2047 B-words for `text`, each at most `limit` characters, never splitting a
    character. `label` is what the header says (e.g. "gb2312"), `codec` what the bytes
    really are (e.g. "gbk", as Windows clients encode code page 936 under a GB2312 label)."""
    prefix = f"=?{label}?B?"
    room = (limit - len(prefix) - 2) // 4 * 3
    chunks: list[bytes] = []
    current = b""
    for char in text:
        encoded = char.encode(codec or label)
        if current and len(current) + len(encoded) > room:
            chunks.append(current)
            current = b""
        current += encoded
    if current:
        chunks.append(current)
    return [prefix + base64.b64encode(chunk).decode("ascii") + "?=" for chunk in chunks]


def encode_header(text: str, label: str, codec: str | None = None, *, fold: str = "\n\t",
                  limit: int = 75) -> str:
    """Plain ASCII stays as it is; anything else becomes folded encoded words."""
    if text.isascii():
        return text
    return fold.join(encoded_words(text, label, codec, limit=limit))


def rfc2231(name: str, value: str, *, charset: str = "UTF-8", width: int = 60) -> list[str]:
    """`name*=UTF-8''…` or, when long, the `name*0*=…; name*1*=…` continuations
    Thunderbird writes; split between characters."""
    pieces = [quote(char, safe="") for char in value]
    encoded = "".join(pieces)
    if len(encoded) <= width:
        return [f"{name}*={charset}''{encoded}"]
    segments: list[str] = []
    current = ""
    for piece in pieces:
        if current and len(current) + len(piece) > width:
            segments.append(current)
            current = ""
        current += piece
    segments.append(current)
    first = f"{name}*0*={charset}''{segments[0]}"
    return [first] + [f"{name}*{n}*={segment}" for n, segment in enumerate(segments[1:], 1)]


def b64(data: bytes) -> bytes:
    """Base64 body lines of 76 characters, as every client writes them."""
    return base64.encodebytes(data)


def qp(data: bytes) -> bytes:
    """Quoted-printable body (soft line breaks at 76)."""
    encoded = quopri.encodestring(data)
    return encoded if encoded.endswith(b"\n") else encoded + b"\n"


Header = tuple[str, "str | bytes"]


@dataclass
class Part:
    """One MIME entity: headers written verbatim, then a body or children."""

    headers: list[Header]
    body: bytes = b""
    children: list[Part] = field(default_factory=list)
    boundary: str = ""
    preamble: bytes = b""
    gap: bool = False  # a blank line before each delimiter (Outlook, Foxmail)

    def render(self) -> bytes:
        out = bytearray()
        for name, value in self.headers:
            raw = value if isinstance(value, bytes) else value.encode("ascii")
            out += name.encode("ascii") + b": " + raw + b"\n"
        out += b"\n"
        if not self.children:
            out += self.body if self.body.endswith(b"\n") or not self.body else self.body + b"\n"
            return bytes(out)
        delimiter = b"--" + self.boundary.encode("ascii")
        out += self.preamble
        for child in self.children:
            if self.gap:
                out += b"\n"
            out += delimiter + b"\n" + child.render()
        if self.gap:
            out += b"\n"
        out += delimiter + b"--\n"
        return bytes(out)


def crlf(raw: bytes) -> bytes:
    """The wire form (IMAP APPEND, SMTP): every LF as CRLF."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
