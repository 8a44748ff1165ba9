"""Attachment text (R3): .docx, .pdf (CID Chinese font), .txt in GB18030, attached
messages; an unreadable or hostile file gives no text and a note, never an error."""

from __future__ import annotations

import io
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailroom.dedupe.extract import extract_text, kind_of
from mailroom.preparing import prepare
from support.items import ORIGINAL
from support.mail import docx_bytes, make_mail

TEXT = ORIGINAL.text(indent=False)


def pdf_bytes(text: str) -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.setFont("STSong-Light", 10)
    y = 800
    for paragraph in text.split("\n"):
        for start in range(0, len(paragraph), 40):
            page.drawString(40, y, paragraph[start:start + 40])
            y -= 14
    page.save()
    return buffer.getvalue()


def compact(text: str) -> str:
    return "".join(text.split())


def test_docx_paragraphs_in_order() -> None:
    extracted = extract_text("信息.docx", "application/octet-stream", docx_bytes(TEXT))
    assert extracted.note == "" and compact(extracted.text) == compact(TEXT)


def test_pdf_with_a_chinese_cid_font() -> None:
    extracted = extract_text("签字稿.pdf", "application/pdf", pdf_bytes(TEXT))
    assert extracted.note == "" and compact(extracted.text) == compact(TEXT)


def test_txt_in_gb18030_and_utf8() -> None:
    assert extract_text("信息.txt", "text/plain", TEXT.encode("gb18030")).text == TEXT
    assert extract_text("信息.txt", "text/plain", TEXT.encode("utf-8")).text == TEXT


@pytest.mark.parametrize(("name", "payload"), [
    ("坏.docx", b"PK\x03\x04 not really a zip"),
    ("坏.pdf", b"%PDF-1.4 garbage"),
    ("坏.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600),
    ("坏.wps", b"not an OLE file at all"),
])
def test_unreadable_attachments_give_a_note_not_an_error(name: str, payload: bytes) -> None:
    extracted = extract_text(name, "application/octet-stream", payload)
    assert extracted.text == "" and name in extracted.note


def test_photos_and_unknown_types_are_not_read() -> None:
    assert kind_of("IMG_2035.JPG", "image/jpeg") is None
    assert extract_text("IMG_2035.JPG", "image/jpeg", b"\xff\xd8\xff").note == ""


def test_doc_is_read_with_antiword_when_installed() -> None:
    assert shutil.which("antiword") is not None, "scripts/setup installs antiword"
    assert kind_of("信息.doc") == "word" and kind_of("信息.wps") == "word"
    # a .docx saved under a .doc name (common with WPS) is still read
    renamed = extract_text("信息.doc", "application/msword", docx_bytes(TEXT))
    assert compact(renamed.text) == compact(TEXT)


def test_prepare_carries_the_text_of_attachments_and_attached_messages(tmp_path: Path) -> None:
    inner = make_mail(f"耕地保护股+{ORIGINAL.title}", body=TEXT)
    raw = make_mail("转发：" + ORIGINAL.title, body="详见附件", attachments=[
        ("信息.docx", docx_bytes(TEXT)), ("坏.pdf", b"%PDF-1.4 garbage"),
        ("原邮件.eml", inner)])
    prepared = prepare(raw, datetime(2019, 5, 14, tzinfo=UTC), "0" * 64, str(tmp_path))
    texts = prepared.attachment_texts
    assert len(texts) == len(prepared.parts) == 3
    assert compact(texts[0]) == compact(TEXT) and texts[1] == ""
    assert compact(TEXT) in compact(texts[2]) and ORIGINAL.title in texts[2]
    [note] = prepared.text_notes
    assert note.startswith("坏.pdf: unreadable pdf")
