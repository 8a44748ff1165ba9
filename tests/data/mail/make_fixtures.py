"""Writes the parsing fixtures in this folder, byte for byte (run it to rebuild them).

Each fixture is built here from explicit header text and explicitly encoded
bytes (the stdlib is used only for base64 / quoted-printable), so the files show
what real clients send: Foxmail / Outlook RFC 2047 words inside quoted
parameters, RFC 2231 continuations, raw GBK or UTF-8 bytes in headers, GB2312
labels on GBK-only characters. tests/test_parsing.py holds the expectations.
"""

from __future__ import annotations

import base64
import quopri
import urllib.parse
from pathlib import Path

HERE = Path(__file__).parent
CRLF = b"\r\n"

SUBJECT = "自然资源综合执法大队+开展违法用地专项整治行动"
GBK_ONLY_SUBJECT = "自然资源综合执法大队+王喆、李珺参观朱镕基纪念馆"
BODY = "各位领导：\n近日，执法大队开展违法用地专项整治行动。\n报送人：王喆 电话：13800000000\n"
GBK_ONLY_BODY = "报送人：王喆、李珺。\n朱镕基同志曾说：“不管前面是地雷阵还是万丈深渊。”\n"
DOCX = "自然资源综合执法大队+开展违法用地专项整治行动.docx"
PDF = "签字扫描件.pdf"
JPG = "现场照片1.jpg"


def b64word(text: str, charset: str) -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def split_b64words(data: bytes, charset: str, cut: int) -> str:
    """Encoded words of ``cut`` bytes each: multibyte characters get split."""
    chunks = [data[i : i + cut] for i in range(0, len(data), cut)]
    return "\n ".join(f"=?{charset}?B?{base64.b64encode(c).decode()}?=" for c in chunks)


def qword(data: bytes, charset: str) -> str:
    encoded = "".join(
        chr(b) if chr(b).isalnum() and b < 0x80 else "_" if b == 0x20 else f"={b:02X}"
        for b in data
    )
    return f"=?{charset}?Q?{encoded}?="


def pct(data: bytes) -> str:
    return urllib.parse.quote_from_bytes(data, safe="")


def b64body(data: bytes) -> bytes:
    text = base64.b64encode(data)
    return CRLF.join(text[i : i + 76] for i in range(0, len(text), 76))


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("ascii")


def head(subject: str, extra: str = "", content_type: str = "") -> str:
    return (
        "Return-Path: <zhang.san@example.cn>\n"
        "From: =?UTF-8?B?5byg5LiJ?= <Zhang.San@Example.CN>\n"
        "To: office@example.cn\n"
        "Cc: =?gb2312?B?wO7LxA==?= <li.si@example.cn>, wang@example.cn\n"
        f"Subject: {subject}\n"
        "Date: Thu, 09 May 2019 10:30:00 +0800\n"
        "Message-ID: <20190509103000.12345@example.cn>\n"
        "MIME-Version: 1.0\n"
        f"{extra}{content_type}"
    )


def single(name: str, header_text: str, body: bytes) -> None:
    (HERE / name).write_bytes(crlf(header_text) + CRLF + body + CRLF)


def leaf(headers: str, body: bytes) -> bytes:
    return crlf(headers.rstrip("\n")) + CRLF + CRLF + body + CRLF


def multipart(name: str, header_text: str, parts: list[bytes]) -> None:
    boundary = "==BOUNDARY=="
    out = crlf(header_text) + CRLF + b"This is a multi-part message in MIME format." + CRLF
    for part in parts:
        out += b"--" + boundary.encode() + CRLF + part
    out += b"--" + boundary.encode() + b"--" + CRLF
    (HERE / name).write_bytes(out)


def attachment(content_type: str, disposition: str, payload: bytes) -> bytes:
    return leaf(
        f"Content-Type: {content_type}\nContent-Transfer-Encoding: base64\n"
        f"Content-Disposition: {disposition}",
        b64body(payload),
    )


MIXED = 'Content-Type: multipart/mixed; boundary="==BOUNDARY=="\n'


def subjects_and_bodies() -> None:
    single(
        "utf8_base64.eml",
        head(b64word(SUBJECT, "utf-8"),
             content_type="Content-Type: text/plain; charset=utf-8\n"
                          "Content-Transfer-Encoding: base64\n"),
        b64body(BODY.encode("utf-8")),
    )
    single(
        "gb2312_gbk_only_chars.eml",
        head(b64word(GBK_ONLY_SUBJECT, "gbk").replace("gbk", "gb2312"),
             content_type='Content-Type: text/plain; charset="gb2312"\n'
                          "Content-Transfer-Encoding: quoted-printable\n"),
        quopri.encodestring(GBK_ONLY_BODY.encode("gbk").replace(b"\n", b"\r\n")),
    )
    single(
        "gbk_qp_subject_8bit_body.eml",
        head(qword(SUBJECT.encode("gbk"), "GBK"),
             content_type="Content-Type: text/plain; charset=GBK\n"
                          "Content-Transfer-Encoding: 8bit\n"),
        GBK_ONLY_BODY.encode("gbk").replace(b"\n", b"\r\n"),
    )
    gb18030_subject = SUBJECT + "㐀𠀀"  # four-byte GB18030 sequences
    single(
        "gb18030_base64.eml",
        head(split_b64words(gb18030_subject.encode("gb18030"), "gb18030", 13),
             content_type="Content-Type: text/plain; charset=gb18030\n"
                          "Content-Transfer-Encoding: base64\n"),
        b64body((BODY + "㐀𠀀\n").encode("gb18030")),
    )
    for name, codec in (("raw_utf8_headers.eml", "utf-8"), ("raw_gbk_headers.eml", "gbk")):
        header = (
            f'From: "王喆" <wang.zhe@example.cn>\nTo: office@example.cn\n'
            f"Subject: {GBK_ONLY_SUBJECT}\nDate: Thu, 9 May 2019 02:30:00 +0000\n"
            f"Message-ID: <raw-{codec}@example.cn>\nMIME-Version: 1.0\n"
            f"Content-Type: text/plain; charset={codec}\nContent-Transfer-Encoding: 8bit\n"
        )
        body = GBK_ONLY_BODY.encode(codec).replace(b"\n", b"\r\n")
        (HERE / name).write_bytes(header.replace("\n", "\r\n").encode(codec) + CRLF + body)
    single(
        "undeclared_gbk_body.eml",
        head("=?gbk?B?" + base64.b64encode(SUBJECT.encode("gbk")).decode() + "?=",
             content_type="Content-Type: text/plain\nContent-Transfer-Encoding: 8bit\n"),
        BODY.encode("gbk").replace(b"\n", b"\r\n"),
    )


def html_only() -> None:
    html = (
        "<html><head><title>标题</title><style>p {color: red}</style>"
        "<script>alert('x')</script></head><body>"
        "<div>各位领导：</div><div>近日，执法大队开展&lt;违法用地&gt;专项整治&amp;巡查。<br>"
        "报送人：王喆&nbsp;电话：13800000000</div><p>朱镕基纪念馆</p></body></html>"
    )
    single(
        "html_only.eml",
        head(b64word(SUBJECT, "gb2312"),
             content_type='Content-Type: text/html; charset="gb2312"\n'
                          "Content-Transfer-Encoding: quoted-printable\n"),
        quopri.encodestring(html.encode("gbk")),
    )


def rfc2231_names() -> None:
    docx = DOCX.encode("utf-8")
    pdf = PDF.encode("gbk")
    photo = ("王喆" + JPG).encode("gbk")
    parts = [
        leaf("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64",
             b64body(BODY.encode("utf-8"))),
        attachment(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            f"attachment; filename*=UTF-8''{pct(docx)}", b"PK\x03\x04 docx"),
        attachment(
            "application/pdf",
            f"attachment;\n filename*0*=gbk''{pct(pdf[:5])};\n filename*1*={pct(pdf[5:])}",
            b"%PDF-1.4 signed"),
        attachment(  # GB2312 label, GBK-only character, a plain (unencoded) last piece
            "image/jpeg",
            f"attachment;\n filename*0*=gb2312'zh-cn'{pct(photo[:3])};\n"
            f" filename*1*={pct(photo[3:-4])};\n filename*2=\".jpg\"",
            b"\xff\xd8\xff\xe0 jpeg"),
        attachment(  # UTF-8 continuations splitting a character, quoted value
            "application/octet-stream",
            f"attachment;\n filename*0*=\"utf-8''{pct(docx[:7])}\";\n"
            f" filename*1*=\"{pct(docx[7:])}\"",
            b"second copy"),
    ]
    multipart("rfc2231_filenames.eml", head(b64word(SUBJECT, "utf-8"), content_type=MIXED),
              parts)


def rfc2047_names() -> None:
    docx = DOCX.encode("gbk")
    parts = [
        leaf("Content-Type: text/plain; charset=gb2312\nContent-Transfer-Encoding: base64",
             b64body(BODY.encode("gbk"))),
        attachment(  # Outlook: several B words, characters split across them
            f'application/msword;\n name="{split_b64words(docx, "gb2312", 10)}"',
            f'attachment;\n filename="{split_b64words(docx, "gb2312", 10)}"',
            b"doc payload"),
        attachment(  # Q encoding, GBK-only character under a GB2312 label
            f'application/pdf; name="{qword(("王喆" + PDF).encode("gbk"), "gb2312")}"',
            f'attachment; filename="{qword(("王喆" + PDF).encode("gbk"), "gb2312")}"',
            b"%PDF-1.4"),
        attachment(  # name= on Content-Type only; inline disposition without a name
            f'image/jpeg; name="{b64word(JPG, "utf-8")}"', "inline", b"\xff\xd8jpeg"),
        leaf("Content-Type: application/octet-stream; name=\"=?utf-8?B?"
             + base64.b64encode("现场照片2.jpg".encode()).decode() + "?=\"\n"
             "Content-Transfer-Encoding: base64", b64body(b"no disposition")),
        attachment("application/octet-stream", "attachment", b"nameless"),
    ]
    multipart("rfc2047_filenames.eml", head(b64word(SUBJECT, "gb2312"), content_type=MIXED),
              parts)


def raw_names() -> None:
    def part(codec: str, filename: str) -> bytes:
        headers = (
            f'Content-Type: application/octet-stream; name="{filename}"\r\n'
            "Content-Transfer-Encoding: base64\r\n"
            f'Content-Disposition: attachment; filename="{filename}"\r\n'
        ).encode(codec)
        return headers + CRLF + b64body(filename.encode("utf-8")) + CRLF

    parts = [
        leaf("Content-Type: text/plain; charset=gbk\nContent-Transfer-Encoding: base64",
             b64body(BODY.encode("gbk"))),
        part("gbk", DOCX),
        part("gbk", "王喆" + PDF),
        part("utf-8", JPG),
    ]
    multipart("raw_8bit_filenames.eml", head(b64word(SUBJECT, "gbk"), content_type=MIXED), parts)


def forwarded() -> None:
    inner_parts = (
        b"--inner" + CRLF
        + leaf("Content-Type: text/plain; charset=gb2312\nContent-Transfer-Encoding: base64",
               b64body("内层正文：不应出现在外层正文里。\n".encode("gbk")))
        + b"--inner" + CRLF
        + attachment("application/msword", f'attachment; filename="{b64word(DOCX, "gbk")}"',
                     b"inner doc")
        + b"--inner--" + CRLF
    )
    inner = crlf(
        "From: wang@example.cn\nTo: zhang.san@example.cn\n"
        f"Subject: {split_b64words(('转发：' + GBK_ONLY_SUBJECT).encode('gbk'), 'gb2312', 16)}\n"
        "Date: Wed, 08 May 2019 09:00:00 +0800\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="inner"\n'
    ) + CRLF + inner_parts
    parts = [
        leaf("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit",
             "请看转发的邮件。\r\n".encode()),
        leaf('Content-Type: message/rfc822; name="forward.eml"\n'
             'Content-Disposition: attachment; filename="forward.eml"', inner),
        attachment("image/jpeg", f"attachment; filename*=UTF-8''{pct(JPG.encode())}",
                   b"\xff\xd8outer"),
    ]
    multipart("forwarded_message.eml", head(b64word("转发：" + SUBJECT, "utf-8"),
                                            content_type=MIXED), parts)


def alternative() -> None:
    parts = [
        leaf("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable",
             quopri.encodestring(BODY.encode()).replace(b"\n", b"\r\n")),
        leaf("Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64",
             b64body(f"<p>{BODY}</p>".encode())),
    ]
    multipart("alternative.eml",
              head(b64word(SUBJECT, "utf-8"),
                   content_type='Content-Type: multipart/alternative; boundary="==BOUNDARY=="\n'),
              parts)


def main() -> None:
    subjects_and_bodies()
    html_only()
    rfc2231_names()
    rfc2047_names()
    raw_names()
    forwarded()
    alternative()


if __name__ == "__main__":
    main()
