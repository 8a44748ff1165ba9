"""Text of an attachment, for matching (R3): .docx, .pdf, .txt, and .doc / .wps through
antiword. Pure apart from running antiword; never raises: an unreadable attachment gives
"" and a note, and never fails the mail.

Choices. DOCX: the paragraphs of word/document.xml read straight from the zip (the text is
all a match needs; python-docx would cost a full object model per file). PDF: pypdf, the
maintained pure-Python reader; it extracts CID-keyed Chinese fonts (STSong-Light and the
like) correctly. .doc and WPS (Kingsoft's .wps is the same OLE Word format): Debian's
`antiword` with its UTF-8 map, under a time limit; when it is not installed the file is
noted as unread. Text is capped: the first few thousand characters decide a match.

Bounded cost ([limits], issue 14): a file is read only up to `TextLimits`; the zip member
is inflated a chunk at a time and reading stops once enough text is kept or the inflated
bytes reach the limit (a zip bomb costs a few megabytes); a zip whose directory declares
more than MAX_ZIP_MEMBERS members is not opened; pypdf runs with its own resource limits
set to ours. What these limits cannot bound (a pathological PDF, antiword) is bounded by
the text worker this runs in (textworker.py): a memory limit and a time limit.
"""

from __future__ import annotations

import html
import io
import logging
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

MAX_PDF_PAGES = 30
MAX_ZIP_MEMBERS = 10_000  # a .docx has a few dozen; a central directory costs memory per member
ANTIWORD_TIMEOUT = 10.0   # seconds; the text worker's own time limit is usually shorter
_CHUNK = 1 << 20          # bytes inflated at a time from a zip member

_DOCX_PARAGRAPH = re.compile(rb"<w:p[ >].*?</w:p>|<w:p/>", re.DOTALL)
_DOCX_TEXT = re.compile(rb"<w:t(?: [^>]*)?>([^<]*)</w:t>|<w:tab/>|<w:br/>")
_TEXT_KINDS = {"docx": "docx", "pdf": "pdf", "txt": "txt", "doc": "word", "wps": "word",
               "dot": "word"}


@dataclass(frozen=True)
class TextLimits:
    """What reading one attachment may cost ([limits]; the per-mail budgets are the
    caller's: it passes what is left of them here)."""

    max_bytes: int = 30_000_000     # larger files are not read
    max_inflated: int = 50_000_000  # decompressed bytes read (zip members, PDF streams)
    max_chars: int = 20_000         # text kept
    seconds: float = ANTIWORD_TIMEOUT  # antiword's time limit


class LimitReached(Exception):
    """Reading stopped at a limit; the message says which."""


@dataclass(frozen=True)
class Extracted:
    text: str
    note: str = ""  # why nothing (or not everything) was read ("" when fine)
    inflated: int = 0  # decompressed bytes read, counted against the mail's budget


def kind_of(filename: str, content_type: str = "") -> str | None:
    """Which extractor reads this attachment, by extension, else by MIME type."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension in _TEXT_KINDS:
        return _TEXT_KINDS[extension]
    content_type = content_type.lower()
    if "wordprocessingml" in content_type:
        return "docx"
    if content_type == "application/pdf":
        return "pdf"
    if content_type == "text/plain" and filename:
        return "txt"
    if content_type in ("application/msword", "application/vnd.ms-works",
                        "application/kswps", "application/wps-office.wps"):
        return "word"
    return None


def extract_text(filename: str, content_type: str, payload: bytes,
                 limits: TextLimits = TextLimits()) -> Extracted:
    """The text of one attachment; "" (with a note) for what cannot or need not be read.
    A limit reached while reading keeps the text read so far, with a note."""
    kind = kind_of(filename, content_type)
    if kind is None:
        return Extracted("")
    if len(payload) > limits.max_bytes:
        return Extracted("", f"{filename}: too large to read ({len(payload)} bytes, "
                             f"more than {limits.max_bytes})")
    reader = {"docx": _docx, "pdf": _pdf, "txt": _txt, "word": _word}[kind]
    read = _Read(limits)
    try:
        reader(payload, read)
    except LimitReached as exc:
        return Extracted(read.text()[:limits.max_chars], f"{filename}: {exc}", read.inflated)
    except MemoryError:
        raise  # the text worker reports it as such (textworker.py)
    except Exception as exc:  # any malformed file: noted, never fatal
        why = str(exc) if isinstance(exc, AntiwordCrashed) else type(exc).__name__
        return Extracted("", f"{filename}: unreadable {kind} ({why})", read.inflated)
    return Extracted(read.text()[:limits.max_chars], "", read.inflated)


class _Read:
    """What a reader has got so far: pieces of text, and the bytes it inflated."""

    def __init__(self, limits: TextLimits) -> None:
        self.limits = limits
        self.pieces: list[str] = []
        self.chars = 0
        self.inflated = 0

    def add(self, text: str) -> None:
        self.pieces.append(text)
        self.chars += len(text) + 1

    @property
    def full(self) -> bool:
        return self.chars >= self.limits.max_chars

    def text(self) -> str:
        return "\n".join(piece for piece in self.pieces if piece.strip())


def _unescape(text: str) -> str:
    return html.unescape(text)


def _docx(payload: bytes, read: _Read) -> None:
    members = zip_member_count(payload)
    if members > MAX_ZIP_MEMBERS:
        raise LimitReached(f"zip of {members} members (more than {MAX_ZIP_MEMBERS}) not read")
    with zipfile.ZipFile(io.BytesIO(payload)) as archive, \
            archive.open("word/document.xml") as member:
        _docx_paragraphs(member, read)


def _docx_paragraphs(member: IO[bytes], read: _Read) -> None:
    """Stream word/document.xml: inflate a chunk at a time, read the complete paragraphs,
    stop once enough text is kept or the inflated bytes reach the limit."""
    pending = b""
    while not read.full:
        if read.inflated >= read.limits.max_inflated:
            raise LimitReached(f"text read from the first {read.limits.max_inflated} "
                               "inflated bytes only")
        chunk = member.read(min(_CHUNK, read.limits.max_inflated - read.inflated))
        if not chunk:
            break
        read.inflated += len(chunk)
        pending += chunk
        cut = max(pending.rfind(b"</w:p>") + 6, pending.rfind(b"<w:p/>") + 6)
        if cut < 6:  # no paragraph ends in the chunk: keep at most one chunk waiting
            cut = len(pending) if len(pending) > 4 * _CHUNK else 0
        _read_paragraphs(pending[:cut], read)
        pending = pending[cut:]
    if pending and not read.full:
        _read_paragraphs(pending, read)


def _read_paragraphs(xml: bytes, read: _Read) -> None:
    for paragraph in _DOCX_PARAGRAPH.findall(xml) or ([xml] if b"<w:t" in xml else []):
        pieces = [match.group(1).decode("utf-8", "replace") if match.group(1) is not None
                  else " " for match in _DOCX_TEXT.finditer(paragraph)]
        read.add(_unescape("".join(pieces)))
        if read.full:
            return


def zip_member_count(payload: bytes) -> int:
    """The members a zip's end-of-central-directory record declares (0 if none is found),
    read before zipfile builds an object per member."""
    end = payload.rfind(b"PK\x05\x06", max(0, len(payload) - 65_557))
    if end == -1 or end + 22 > len(payload):
        return 0
    (count,) = struct.unpack_from("<H", payload, end + 10)
    locator = end - 20
    if count == 0xFFFF and locator >= 0 and payload[locator:locator + 4] == b"PK\x06\x07":
        (record,) = struct.unpack_from("<Q", payload, locator + 8)
        if payload[record:record + 4] == b"PK\x06\x06" and record + 40 <= len(payload):
            (count,) = struct.unpack_from("<Q", payload, record + 32)
    return int(count)


def _pdf(payload: bytes, read: _Read) -> None:
    """pypdf with its resource limits set to ours: no stream inflates past max_inflated."""
    import pypdf  # imported on first use: most mails carry no PDF
    from pypdf.errors import LimitReachedError

    limit = read.limits.max_inflated
    bounded: dict[str, Any] = {name: limit for name in (
        "zlib_maximum_output_length", "lzw_maximum_output_length",
        "run_length_maximum_output_length", "brotli_maximum_output_length",
        "jbig2_maximum_output_length", "array_based_stream_maximum_output_length",
        "image_maximum_buffer_size", "stream_decoding_work_maximum_length")}
    bounded["maximum_declared_stream_length"] = min(limit, read.limits.max_bytes)
    with pypdf.apply_configuration(None, **bounded):
        try:
            reader = pypdf.PdfReader(io.BytesIO(payload))
            if reader.is_encrypted:
                reader.decrypt("")
            for page in reader.pages[:MAX_PDF_PAGES]:
                read.add(page.extract_text() or "")
                if read.full:
                    break
        except LimitReachedError as exc:  # a stream past our inflate limit, a loop, …
            raise LimitReached(f"PDF read only up to pypdf's limits ({str(exc)[:120]})"
                               ) from None


def _txt(payload: bytes, read: _Read) -> None:
    read.add(_decoded_head(payload[:read.limits.max_chars * 4]))


def _decoded_head(head: bytes) -> str:
    for codec in ("utf-8-sig", "gb18030", "utf-16"):
        try:
            return head.decode(codec)
        except UnicodeDecodeError:
            continue
    return head.decode("gb18030", "replace")


def _word(payload: bytes, read: _Read) -> None:
    if not payload.startswith(b"\xd0\xcf\x11\xe0"):  # not an OLE file: maybe a renamed docx
        if payload.startswith(b"PK"):
            _docx(payload, read)
            return
        raise ValueError("not an OLE compound file")
    antiword = shutil.which("antiword")
    if antiword is None:
        raise FileNotFoundError("antiword is not installed")
    with tempfile.TemporaryDirectory(prefix="mailroom-doc-") as folder:
        path = Path(folder) / "attachment.doc"
        path.write_bytes(payload)
        done = subprocess.run([antiword, "-m", "UTF-8.txt", "-w", "0", str(path)],
                              capture_output=True, timeout=read.limits.seconds, check=False)
    if done.returncode < 0:
        raise AntiwordCrashed(f"antiword killed by {_signal_name(-done.returncode)}")
    if done.returncode != 0:
        raise ValueError(done.stderr.decode("utf-8", "replace").strip()[:200] or "antiword")
    read.add(done.stdout[:read.limits.max_chars * 4].decode("utf-8", "replace"))


class AntiwordCrashed(Exception):
    """antiword died of a signal (it segfaults on some malformed files)."""


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
