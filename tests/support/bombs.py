"""Attachments built to cost: zip bombs, PDF bombs, a .doc antiword cannot finish, and the
mails that carry them (tests/test_bounded.py runs small ones, benchmarks/hostile.py the
full-size ones). Deterministic bytes; sizes are parameters so a test can build a small one.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator

from mailroom.sample.payloads import pdf_file
from support import hostile

_DOCX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
_DOCX_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w='
              '"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
_DOCX_TAIL = "</w:body></w:document>"
BOMB_PARAGRAPH = "<w:p><w:r><w:t>森林防火检查</w:t></w:r></w:p>"  # repeated to the size asked
MEMBERS_TEXT = "乡镇森林防火检查情况通报"  # the one paragraph of `docx_many_members`


def _paragraph(text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"


def zip_bomb_docx(inflated: int = 400 * 2**20, level: int = 9) -> bytes:
    """A valid .docx whose word/document.xml inflates to about `inflated` bytes of one
    paragraph repeated (deflate's best case, ~1000:1: 400 MiB fit in ~1.2 MB; `level` 1
    builds faster into a larger file)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        archive.writestr("[Content_Types].xml", _DOCX_TYPES)
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(_DOCX_HEAD.encode())
            for chunk in _repeated(BOMB_PARAGRAPH.encode(), inflated):
                member.write(chunk)
            member.write(_DOCX_TAIL.encode())
    return buffer.getvalue()


def _repeated(unit: bytes, total: int, chunk: int = 4 * 2**20) -> Iterator[bytes]:
    block = unit * max(1, chunk // len(unit))
    for _ in range(max(1, total // len(block))):
        yield block


def docx_many_members(members: int = 100_000) -> bytes:
    """A .docx with a real document.xml and `members` tiny XML members beside it
    (a zip's central directory costs memory per member, whatever their size)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", _DOCX_TYPES)
        archive.writestr("word/document.xml",
                         _DOCX_HEAD + _paragraph(MEMBERS_TEXT) + _DOCX_TAIL)
        for number in range(members):
            archive.writestr(f"customXml/item{number}.xml", "<a/>")
    return buffer.getvalue()


def _pdf(objects: list[bytes]) -> bytes:
    return pdf_file(objects, version="1.7")


def _stream(data: bytes, extra: str = "") -> bytes:
    return (f"<< /Length {len(data)} {extra}>>\nstream\n".encode() + data
            + b"\nendstream")


def pdf_flate_bomb(inflated: int = 600 * 2**20, level: int = 9) -> bytes:
    """One page whose content stream is FlateDecode of `inflated` bytes of blanks
    (`level` 1 builds four times faster, into a stream four times larger)."""
    compressor = zlib.compressobj(level)
    data = b"".join(compressor.compress(chunk) for chunk in _repeated(b" ", inflated))
    data += compressor.flush()
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        _stream(data, "/Filter /FlateDecode "),
    ])


def pdf_object_loop() -> bytes:
    """Loops everywhere a reader follows references: the page tree lists itself as its own
    kid, a form XObject draws itself, and an object is a reference to itself."""
    form = _stream(b"/Fm1 Do", "/Type /XObject /Subtype /Form /BBox [0 0 10 10] "
                   "/Resources << /XObject << /Fm1 5 0 R >> >> ")
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R /Outlines 6 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /XObject << /Fm1 5 0 R >> >> >>",
        _stream(b"/Fm1 Do"),
        form,
        b"<< /Type /Outlines /First 6 0 R /Last 6 0 R /Next 6 0 R /Count 7 0 R >>",
        b"7 0 R",
    ])


def mail_with(name: str, filename: str, payload: bytes, content_type: str,
              title: str) -> bytes:
    """A submission from the registered reporter carrying one attachment."""
    subject = hostile.encoded_word(f"{hostile.UNIT}+{title}")
    headers = [("From", hostile.SENDER), ("To", hostile.MAILBOX), ("Subject", subject),
               ("Date", "Wed, 08 May 2019 10:00:00 +0800"),
               ("Message-ID", f"<bomb.{name}@example.cn>"), ("MIME-Version", "1.0")]
    return hostile.multipart(headers, [
        hostile.text_part(f"{title}，详见附件。"),
        hostile.attachment(f'filename="{filename}"', payload, content_type),
    ], f"{name}-boundary")


_END, _FREE, _FAT = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD


def _ole_entry(name: str, kind: int, start: int, size: int, child: int = _FREE) -> bytes:
    encoded = name.encode("utf-16-le") + b"\0\0"
    return (encoded.ljust(64, b"\0") + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", _FREE, _FREE, child) + bytes(36)
            + struct.pack("<II", start, size) + bytes(4))


def doc_antiword_crash() -> bytes:
    """An OLE2 file with a Word 6 FIB whose text range (fcMin..fcMac) lies past the end of
    a WordDocument stream whose sector chain loops: antiword 0.37 dies of SIGSEGV on it."""
    header = bytearray(512)
    header[0:8] = bytes.fromhex("D0CF11E0A1B11AE1")
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIII", header, 0x2C, 1, 1, 0, 4096, _END, 0, _END)
    struct.pack_into("<I", header, 0x4C, 0)  # the FAT is sector 0
    for index in range(1, 109):
        struct.pack_into("<I", header, 0x4C + 4 * index, _FREE)
    fat = struct.pack("<4I", _FAT, _END, 3, 2).ljust(512, b"\xff")  # 2 → 3 → 2 → …
    directory = (_ole_entry("Root Entry", 5, _END, 0, child=1)
                 + _ole_entry("WordDocument", 2, 2, 0x100000)).ljust(512, b"\0")
    fib = bytearray(512)
    struct.pack_into("<HH", fib, 0, 0xA5DC, 0x65)  # Word 6
    struct.pack_into("<II", fib, 0x18, 0x200, 0x1000)  # fcMin, fcMac
    text = ("矿产资源执法检查".encode("gb18030") * 64)[:512]
    return bytes(header) + fat + directory + bytes(fib) + text
