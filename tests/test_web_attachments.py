"""How the console serves an attachment (web/item_files.py, pure): images known by their
bytes, the Content-Disposition naming a Chinese file right and letting nothing through."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from mailroom.web.item_files import disposition, image_type

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 "


@pytest.mark.parametrize(("head", "kind"), [
    (PNG, "image/png"), (JPEG, "image/jpeg"), (b"GIF89a\x01\x00", "image/gif"),
    (b"GIF87a\x01\x00", "image/gif"), (WEBP, "image/webp"),
    (b"%PDF-1.4\n", None), (b"PK\x03\x04", None), (b"<svg xmlns=", None),
    (b"<html><script>", None), (b"RIFF\x24\x00\x00\x00WAVE", None), (b"", None)])
def test_images_are_known_by_their_bytes(head: bytes, kind: str | None) -> None:
    assert image_type(head) == kind


def test_a_chinese_name_is_sent_in_utf8_with_an_ascii_fallback() -> None:
    header = disposition("签字稿.pdf")
    assert header == ("attachment; filename=\"attachment.pdf\"; "
                      "filename*=UTF-8''%E7%AD%BE%E5%AD%97%E7%A8%BF.pdf")
    assert unquote(header.split("UTF-8''")[1]) == "签字稿.pdf"
    assert disposition("现场照片1.jpg", inline=True).startswith("inline; ")


@pytest.mark.parametrize("name", ['a"b;\r\nContent-Type: text/html.txt', "../../etc/passwd",
                                  "<script>alert(1)</script>.png", "C:\\temp\\x.doc", ""])
def test_no_name_breaks_out_of_the_header(name: str) -> None:
    header = disposition(name)
    assert "\r" not in header and "\n" not in header
    fallback = header.split('filename="')[1].split('"')[0]
    assert fallback and not set(fallback) & set('"\\/;<>')
    encoded = header.split("UTF-8''")[1]
    assert not set(encoded) & set(" \";/\\<>")
    assert "/" not in unquote(encoded) and "\\" not in unquote(encoded)
