"""Small but real attachment files: a .docx, a scanned-looking .pdf, a .jpg, an old .doc.

Everything is built from the arguments alone (no clock, no randomness, no compression
library whose output could change between versions), so the same call gives the same bytes
on every machine:

- `jpeg`: a baseline JPEG made of flat 8×8 blocks (DC coefficients only), a mosaic any
  viewer opens; a COM segment carries a caption so every photo differs.
- `docx`: a minimal WordprocessingML package, stored (not deflated) in the zip.
- `scan_pdf`: a one-page PDF whose page is a grey JPEG, as a copier's scan-to-mail makes
  (no text layer: the signed draft is an image).
- `legacy_doc`: an OLE2-looking Word 97 file; only its header is real, the text is stored
  UTF-16LE so a text extractor that greps can find it.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Sequence
from datetime import datetime
from xml.sax.saxutils import escape

# --- JPEG ---------------------------------------------------------------------------------

_DC_BITS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)  # the standard luminance DC table
_DC_VALUES = tuple(range(12))
_AC_BITS = (1,) + (0,) * 15  # one code, "0", for EOB: every block is flat
_AC_VALUES = (0x00,)


def _huffman_codes(bits: Sequence[int], values: Sequence[int]) -> dict[int, tuple[int, int]]:
    codes: dict[int, tuple[int, int]] = {}
    code, k = 0, 0
    for length, count in enumerate(bits, start=1):
        for _ in range(count):
            codes[values[k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    return codes


_DC_CODES = _huffman_codes(_DC_BITS, _DC_VALUES)
_EOB = _huffman_codes(_AC_BITS, _AC_VALUES)[0x00]


class _BitWriter:
    def __init__(self) -> None:
        self.out = bytearray()
        self.acc = 0
        self.count = 0

    def write(self, value: int, length: int) -> None:
        for shift in range(length - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> shift) & 1)
            self.count += 1
            if self.count == 8:
                self.out.append(self.acc)
                if self.acc == 0xFF:
                    self.out.append(0x00)  # byte stuffing
                self.acc, self.count = 0, 0

    def flush(self) -> bytes:
        if self.count:
            self.write((1 << (8 - self.count)) - 1, 8 - self.count)  # pad with 1-bits
        return bytes(self.out)


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload


def _block_colours(seed: str, cols: int, rows: int, gray: bool) -> list[list[tuple[int, ...]]]:
    """A landscape-ish mosaic: sky on top, field below, a little noise from the seed."""
    digest = hashlib.sha256(seed.encode()).digest()
    grid: list[list[tuple[int, ...]]] = []
    for row in range(rows):
        line: list[tuple[int, ...]] = []
        for col in range(cols):
            noise = digest[(row * cols + col) % len(digest)] % 24
            if gray:
                line.append((228 - noise - (18 if (row + col) % 5 == 0 else 0),))
            elif row < rows // 2:
                line.append((150 + noise, 185 + noise // 2, 225))
            else:
                line.append((70 + noise * 2, 120 + noise, 45 + noise))
        grid.append(line)
    return grid


def _ycbcr(rgb: tuple[int, ...]) -> tuple[int, ...]:
    if len(rgb) == 1:
        return rgb
    r, g, b = rgb
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b
    cr = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b
    return tuple(max(0, min(255, round(v))) for v in (y, cb, cr))


def jpeg(seed: str, *, width: int = 64, height: int = 48, gray: bool = False,
         comment: str = "") -> bytes:
    """A valid baseline JPEG of flat 8×8 blocks; `seed` picks the colours."""
    cols, rows = (width + 7) // 8, (height + 7) // 8
    ncomp = 1 if gray else 3
    quant = bytes([8] + [1] * 63)  # DC step 8 makes the DC coefficient equal mean - 128
    header = bytearray(b"\xff\xd8")
    header += _segment(0xE0, b"JFIF\x00\x01\x01\x01\x00\x48\x00\x48\x00\x00")
    if comment:
        header += _segment(0xFE, comment.encode("utf-8"))
    header += _segment(0xDB, b"\x00" + quant)
    components = b"".join(bytes((i + 1, 0x11, 0)) for i in range(ncomp))
    header += _segment(0xC0, b"\x08" + height.to_bytes(2, "big") + width.to_bytes(2, "big")
                       + bytes((ncomp,)) + components)
    header += _segment(0xC4, b"\x00" + bytes(_DC_BITS) + bytes(_DC_VALUES))
    header += _segment(0xC4, b"\x10" + bytes(_AC_BITS) + bytes(_AC_VALUES))
    scan_components = b"".join(bytes((i + 1, 0x00)) for i in range(ncomp))
    header += _segment(0xDA, bytes((ncomp,)) + scan_components + b"\x00\x3f\x00")
    bits = _BitWriter()
    previous = [0] * ncomp
    for line in _block_colours(seed, cols, rows, gray):
        for colour in line:
            for index, sample in enumerate(_ycbcr(colour)):
                dc = sample - 128
                diff = dc - previous[index]
                previous[index] = dc
                size = abs(diff).bit_length()
                bits.write(*_DC_CODES[size])
                if size:
                    bits.write(diff if diff > 0 else diff + (1 << size) - 1, size)
                bits.write(*_EOB)
    return bytes(header) + bits.flush() + b"\xff\xd9"


# --- DOCX ---------------------------------------------------------------------------------

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/><Override PartName="/docProps/'
    'core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
    'core-properties" Target="docProps/core.xml"/></Relationships>'
)
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _paragraph(text: str, *, title: bool = False) -> str:
    if title:
        props = ('<w:pPr><w:jc w:val="center"/><w:spacing w:after="240"/></w:pPr>'
                 '<w:r><w:rPr><w:rFonts w:ascii="方正小标宋简体" w:eastAsia="方正小标宋简体"/>'
                 '<w:sz w:val="44"/></w:rPr>')
    else:
        props = ('<w:pPr><w:spacing w:line="560" w:lineRule="exact"/><w:ind w:firstLineChars='
                 '"200" w:firstLine="640"/></w:pPr><w:r><w:rPr><w:rFonts w:ascii="仿宋_GB2312" '
                 'w:eastAsia="仿宋_GB2312"/><w:sz w:val="32"/></w:rPr>')
    return f"<w:p>{props}<w:t>{escape(text)}</w:t></w:r></w:p>"


def docx(title: str, paragraphs: Sequence[str], *, author: str, created: datetime) -> bytes:
    """A minimal .docx that Word, WPS and LibreOffice open: the title and the paragraphs."""
    body = _paragraph(title, title=True) + "".join(_paragraph(p) for p in paragraphs)
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<w:document xmlns:w="{_W}"><w:body>{body}<w:sectPr><w:pgSz w:w="11906" '
        'w:h="16838"/><w:pgMar w:top="2098" w:right="1474" w:bottom="1984" w:left="1588" '
        'w:header="851" w:footer="992" w:gutter="0"/></w:sectPr></w:body></w:document>'
    )
    stamp = created.strftime("%Y-%m-%dT%H:%M:00Z")
    core = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://'
        'purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape(title)}</dc:title><dc:creator>{escape(author)}</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        "</cp:coreProperties>"
    )
    members = [("[Content_Types].xml", _CONTENT_TYPES), ("_rels/.rels", _RELS),
               ("docProps/core.xml", core), ("word/document.xml", document)]
    buffer = io.BytesIO()
    when = (created.year, created.month, created.day, created.hour, created.minute, 0)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, text in members:
            info = zipfile.ZipInfo(name, date_time=when)
            info.create_system = 0
            info.external_attr = 0
            archive.writestr(info, text.encode("utf-8"))
    return buffer.getvalue()


# --- PDF ----------------------------------------------------------------------------------

def scan_pdf(seed: str, *, created: datetime, producer: str = "Canon iR-ADV C5235") -> bytes:
    """A one-page A4 PDF whose only content is a grey scanned image (DCTDecode)."""
    image = jpeg(seed, width=40, height=56, gray=True)
    stamp = created.strftime("D:%Y%m%d%H%M%S+08'00'")
    content = b"q 595 0 0 842 0 0 cm /Im0 Do Q\n"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /XObject /Subtype /Image /Width 40 /Height 56 /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Filter /DCTDecode /Length " + str(len(image)).encode()
        + b" >>\nstream\n" + image + b"\nendstream",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content
        + b"endstream",
        f"<< /Producer ({producer}) /CreationDate ({stamp}) >>".encode("ascii"),
    ]
    return pdf_file(objects, info=True)


def pdf_file(objects: list[bytes], *, version: str = "1.4", info: bool = False) -> bytes:
    """A PDF from numbered object bodies (1-based: the first the catalog; with `info`, the
    last the document information), with a correct xref table."""
    out = bytearray(f"%PDF-{version}\n".encode() + b"%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    info_ref = f" /Info {len(objects)} 0 R" if info else ""
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info_ref} >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


# --- old Word -----------------------------------------------------------------------------

def legacy_doc(title: str, paragraphs: Sequence[str]) -> bytes:
    """A Word 97-2003 look-alike: the OLE2 signature and header, then the text in UTF-16LE."""
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    header[24:34] = b"\x3e\x00\x03\x00\xfe\xff\x09\x00\x06\x00"
    text = "\r".join([title, *paragraphs]).encode("utf-16-le")
    padding = (-len(text)) % 512
    return bytes(header) + text + b"\x00" * padding
