"""How the console serves an attachment, pure: what its bytes are (images by their magic
numbers, never by the type or name the sender declared) and the Content-Disposition that
names it (RFC 6266 / RFC 5987: `filename*=UTF-8''…`, so a Chinese name arrives intact)."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

# (magic at offset 0, type); WebP is RIFF....WEBP
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
SNIFF_BYTES = 16
DOWNLOAD_TYPE = "application/octet-stream"
_UNSAFE_ASCII = re.compile(r'[^A-Za-z0-9._ ()+-]')


def image_type(head: bytes) -> str | None:
    """The image type the first bytes of a file show (PNG, JPEG, GIF, WebP), else None."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def disposition(filename: str, inline: bool = False, fallback: str | None = None) -> str:
    """`attachment` (or `inline`) with the name twice: an ASCII fallback for old clients
    (`fallback`, else folded from the name) and `filename*` in UTF-8, percent-encoded (no
    quote, semicolon or line break can get through either). Attachments and the reports'
    downloads alike."""
    name = " ".join(filename.replace("\\", "/").split("/")[-1].split()) or "attachment"
    if fallback is None:
        stem, dot, extension = name.rpartition(".") if "." in name else (name, "", "")
        fallback = _ascii(stem) or "attachment"
        if dot and _ascii(extension):
            fallback += "." + _ascii(extension)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _UNSAFE_ASCII.sub("_", folded).strip(" ._")
