"""Text of an attachment, for matching (R3): .docx, .pdf, .txt, and .doc / .wps through
antiword. Pure apart from running antiword; never raises: an unreadable attachment gives
"" and a note, and never fails the mail.

Choices. DOCX: the paragraphs of word/document.xml read straight from the zip (the text is
all a match needs; python-docx would cost a full object model per file). PDF: pypdf, the
maintained pure-Python reader; it extracts CID-keyed Chinese fonts (STSong-Light and the
like) correctly. .doc and WPS (Kingsoft's .wps is the same OLE Word format): Debian's
`antiword` with its UTF-8 map, under a time limit; when it is not installed the file is
noted as unread. Text is capped: the first few thousand characters decide a match.
"""

from __future__ import annotations

import html
import io
import logging
import re
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MAX_CHARS = 20_000        # text kept per attachment
MAX_BYTES = 30_000_000    # larger files are not read
MAX_PDF_PAGES = 30
ANTIWORD_TIMEOUT = 10.0   # seconds

_DOCX_PARAGRAPH = re.compile(rb"<w:p[ >].*?</w:p>|<w:p/>", re.DOTALL)
_DOCX_TEXT = re.compile(rb"<w:t(?: [^>]*)?>([^<]*)</w:t>|<w:tab/>|<w:br/>")
_TEXT_KINDS = {"docx": "docx", "pdf": "pdf", "txt": "txt", "doc": "word", "wps": "word",
               "dot": "word"}


@dataclass(frozen=True)
class Extracted:
    text: str
    note: str = ""  # why nothing was read ("" when fine)


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


def extract_text(filename: str, content_type: str, payload: bytes) -> Extracted:
    """The text of one attachment; "" (with a note) for what cannot or need not be read."""
    kind = kind_of(filename, content_type)
    if kind is None:
        return Extracted("")
    if len(payload) > MAX_BYTES:
        return Extracted("", f"{filename}: too large to read ({len(payload)} bytes)")
    reader = {"docx": _docx, "pdf": _pdf, "txt": _txt, "word": _word}[kind]
    try:
        return Extracted(reader(payload)[:MAX_CHARS])
    except Exception as exc:  # any malformed file: noted, never fatal
        return Extracted("", f"{filename}: unreadable {kind} ({type(exc).__name__})")


def _unescape(text: str) -> str:
    return html.unescape(text)


def _docx(payload: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        xml = archive.read("word/document.xml")
    lines = []
    for paragraph in _DOCX_PARAGRAPH.findall(xml):
        pieces = []
        for match in _DOCX_TEXT.finditer(paragraph):
            pieces.append(match.group(1).decode("utf-8", "replace") if match.group(1)
                          is not None else " ")
        lines.append(_unescape("".join(pieces)))
    return "\n".join(line for line in lines if line.strip())


def _pdf(payload: bytes) -> str:
    from pypdf import PdfReader  # imported on first use: most mails carry no PDF

    reader = PdfReader(io.BytesIO(payload))
    if reader.is_encrypted:
        reader.decrypt("")
    pages = reader.pages[:MAX_PDF_PAGES]
    texts: list[str] = []
    for page in pages:
        texts.append(page.extract_text() or "")
        if sum(map(len, texts)) > MAX_CHARS:
            break
    return "\n".join(texts)


def _txt(payload: bytes) -> str:
    head = payload[:MAX_CHARS * 4]
    for codec in ("utf-8-sig", "gb18030", "utf-16"):
        try:
            return head.decode(codec)
        except UnicodeDecodeError:
            continue
    return head.decode("gb18030", "replace")


def _word(payload: bytes) -> str:
    if not payload.startswith(b"\xd0\xcf\x11\xe0"):  # not an OLE file: maybe a renamed docx
        if payload.startswith(b"PK"):
            return _docx(payload)
        raise ValueError("not an OLE compound file")
    antiword = shutil.which("antiword")
    if antiword is None:
        raise FileNotFoundError("antiword is not installed")
    with tempfile.TemporaryDirectory(prefix="mailroom-doc-") as folder:
        path = Path(folder) / "attachment.doc"
        path.write_bytes(payload)
        done = subprocess.run([antiword, "-m", "UTF-8.txt", "-w", "0", str(path)],
                              capture_output=True, timeout=ANTIWORD_TIMEOUT, check=False)
    if done.returncode != 0:
        raise ValueError(done.stderr.decode("utf-8", "replace").strip()[:200] or "antiword")
    return done.stdout.decode("utf-8", "replace")
