"""Large base64 bodies set aside before the stdlib parse, decoded later from the raw bytes.

The stdlib parser holds a mail as text several times over while it reads it (the decoded
str, a list of its lines, the joined payloads): about five times the mail's size, 280 MB
for a 50 MB mail. A mail's size is nearly all one or two base64 attachments, so before the
parse each large base64 body (found from its part's `Content-Transfer-Encoding: base64`
header to the next boundary line) is replaced by a short token; the parser reads the small
skeleton, and the body is decoded straight from a view of the raw bytes when its part is
read (mime.py). Pure; any body that does not look like base64 is left where it is.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field

MIN_SIZE = 256 * 1024  # smaller bodies cost the parser little: left in place
_HEADER = re.compile(rb"^content-transfer-encoding:[ \t]*base64[ \t]*\r?$",
                     re.IGNORECASE | re.MULTILINE)
_BASE64 = re.compile(rb"[A-Za-z0-9+/=\r\n]*")
_TOKEN = re.compile(r"^MAILROOMASIDE(\d+)X$")


@dataclass(frozen=True)
class Aside:
    """The raw mail and where its bodies set aside are (start, end) in it."""

    raw: bytes
    regions: list[tuple[int, int]] = field(default_factory=list)

    def body(self, payload: object) -> bytes | None:
        """The decoded body a part's payload (a token) stands for, else None."""
        if not self.regions or not isinstance(payload, str) or len(payload) > 40:
            return None
        found = _TOKEN.match(payload.strip())
        if found is None or int(found.group(1)) >= len(self.regions):
            return None
        start, end = self.regions[int(found.group(1))]
        try:
            return binascii.a2b_base64(memoryview(self.raw)[start:end])
        except binascii.Error:  # bad padding: drop the odd characters and decode again
            data = re.sub(rb"[^A-Za-z0-9+/]", b"", self.raw[start:end])
            data = data[: len(data) - len(data) % 4]
            return binascii.a2b_base64(data) if data else b""

    def restore(self, data: bytes) -> bytes:
        """Bytes cut from the skeleton (an attached message) with their bodies put back."""
        if not self.regions or b"MAILROOMASIDE" not in data:
            return data
        return re.sub(rb"MAILROOMASIDE(\d+)X\r?\n",
                      lambda m: self._region(int(m.group(1))), data)

    def _region(self, index: int) -> bytes:
        start, end = self.regions[index]
        return self.raw[start:end]


def set_aside(raw: bytes, min_size: int = MIN_SIZE) -> tuple[bytes, Aside]:
    """The skeleton to parse (raw itself when nothing is set aside) and what was set aside."""
    if len(raw) < min_size or b"MAILROOMASIDE" in raw:
        return raw, Aside(raw)
    regions: list[tuple[int, int]] = []
    header = _HEADER.search(raw)
    while header is not None:
        end = raw.find(b"\n--", header.end())
        end = len(raw) if end == -1 else end + 1
        if end - header.end() < min_size:  # a small part (most of them): next header
            header = _HEADER.search(raw, end)
            continue
        start = _body_start(raw, header.start())
        if start == -1:
            break
        if (end - start >= min_size and not _is_message(raw, header.start())
                and _looks_base64(raw, start, end)):
            regions.append((start, end))
        header = _HEADER.search(raw, max(end, header.end()))
    if not regions:
        return raw, Aside(raw)
    pieces, last = [], 0
    for index, (start, end) in enumerate(regions):
        line_end = b"\r\n" if raw[start:start + 200].count(b"\r\n") else b"\n"
        pieces += [raw[last:start], b"MAILROOMASIDE%dX" % index + line_end]
        last = end
    pieces.append(raw[last:])
    return b"".join(pieces), Aside(raw, regions)


def _is_message(raw: bytes, at: int) -> bool:
    """Whether the part whose header is at `at` is an attached message (message/rfc822 in
    base64, which RFC 2046 forbids: the parser must see its text, mime.py re-reads it)."""
    begin = max(raw.rfind(b"\n\n", 0, at), raw.rfind(b"\n\r\n", 0, at),
                raw.rfind(b"\n--", 0, at), at - 65_536, 0)
    end = raw.find(b"\n\n", at, at + 65_536)
    end = min(x for x in (end, raw.find(b"\r\n\r\n", at, at + 65_536), at + 65_536)
              if x != -1)
    return b"message/" in raw[begin:end].lower()


def _looks_base64(raw: bytes, start: int, end: int, samples: int = 16) -> bool:
    """Base64 text at 16 places spread over the body (a full check costs seconds)."""
    step = max(1, (end - start) // samples)
    return all(_BASE64.fullmatch(raw, at, min(at + 4096, end))
               for at in range(start, end, step))


def _body_start(raw: bytes, after: int) -> int:
    """Where the body begins: after the empty line that ends this header block."""
    most = after + 65_536  # a part's header block is short
    ends = [(at, length) for at, length in ((raw.find(b"\r\n\r\n", after, most), 4),
                                            (raw.find(b"\n\n", after, most), 2)) if at != -1]
    if not ends:
        return -1
    at, length = min(ends)
    return at + length
