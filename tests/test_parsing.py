"""The parsing layer: charsets, encoded words, file names, HTML, parse_letter.

Fixtures: tests/data/mail/*.eml (built by tests/data/mail/make_fixtures.py) and
the shared real-world corpus in ../shared/corpus (every message file must parse).
"""

from __future__ import annotations

import base64
import hashlib
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from mailroom.parsing.decode import (
    HeaderDecoder,
    attachment_filename,
    codec_name,
    decode_bytes,
    decode_bytes_noted,
    decode_header,
    header_params,
)
from mailroom.parsing.letter import Letter, not_a_message, parse_letter
from mailroom.parsing.text import html_to_text
from mailroom.sample.payloads import jpeg, scan_pdf

MAIL = Path(__file__).parent / "data" / "mail"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
NOT_MAIL = {"README.md", "LICENSE", "LICENSE.txt", "NOTICE.txt", "MIT-LICENSE", ".gitattributes"}
RECEIVED = datetime(2019, 5, 9, 3, 0, tzinfo=UTC)

SUBJECT = "自然资源综合执法大队+开展违法用地专项整治行动"
GBK_ONLY_SUBJECT = "自然资源综合执法大队+王喆、李珺参观朱镕基纪念馆"
BODY = "各位领导：\n近日，执法大队开展违法用地专项整治行动。\n报送人：王喆 电话：13800000000\n"
GBK_ONLY_BODY = "报送人：王喆、李珺。\n朱镕基同志曾说：“不管前面是地雷阵还是万丈深渊。”\n"
DOCX = "自然资源综合执法大队+开展违法用地专项整治行动.docx"
GBK_ONLY = "王喆李珺朱镕基"


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name not in NOT_MAIL)


def parse(path: Path) -> Letter:
    return parse_letter(path.read_bytes(), RECEIVED)


def fixture(name: str) -> Letter:
    return parse(MAIL / name)


def corpus(name: str) -> Letter:
    return parse(CORPUS / name)


def names(letter: Letter) -> list[str]:
    return [a.filename for a in letter.attachments]


# --- charsets ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "label", ["gb2312", "GB2312", "gbk", "cp936", "x-gbk", "X-GBK", "gb_2312-80", "euc-cn"]
)
def test_gb_labels_decode_gbk_only_characters(label: str) -> None:
    data = GBK_ONLY.encode("gbk")
    assert data.decode(label) == GBK_ONLY  # the process-wide codec search
    assert decode_bytes(data, label) == GBK_ONLY  # our own helper


def test_codec_search_wins_over_an_already_cached_gb2312() -> None:
    script = (
        "import codecs\n"
        "b'x'.decode('gb2312'); codecs.lookup('gbk')  # fill both caches first\n"
        "import mailroom.parsing\n"
        f"data = {GBK_ONLY!r}.encode('gbk')\n"
        f"assert data.decode('gb2312') == {GBK_ONLY!r}\n"
        "assert codecs.lookup('gb2312').name == 'gb18030'\n"
        "assert codecs.lookup('utf-8').name == 'utf-8'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("GB2312", "gb18030"),
        ('"x-gbk"', "gb18030"),
        ("UTF8", "utf-8"),
        ("iso-8859-1", "iso8859-1"),
        ("unknown-8bit", None),
        ("x-unknown", None),
        ("base64", None),  # a codec, but not a text encoding
        ("no-such-charset", None),
        (None, None),
    ],
)
def test_codec_name(label: str | None, expected: str | None) -> None:
    assert codec_name(label) == expected


@pytest.mark.parametrize(
    ("data", "charset", "text", "noted"),
    [
        ("王喆".encode("gbk"), None, "王喆", True),  # undeclared: UTF-8 fails, GB18030
        ("王喆".encode(), "gb2312", "鐜嬪枂", False),  # declared wins when it decodes
        ("报送人".encode("gbk"), "utf-8", "报送人", True),  # mislabelled GBK
        ("报送人：王喆".encode() + b"\xe5", "utf-8", "报送人：王喆\ufffd", True),  # truncated
        (b"caf\xe9 \xff", None, "caf\xe9 \xff", True),  # nothing fits: Latin-1
        (b"ok", "x-no-such", "ok", True),  # unknown label, noted
        (b"\xd8\x00\xdc", "utf-16-le", "\xd8\x00\xdc", True),  # truncated UTF-16
    ],
)
def test_decode_bytes_fallbacks(data: bytes, charset: str | None, text: str, noted: bool) -> None:
    decoded, note = decode_bytes_noted(data, charset)
    assert decoded == text
    assert (note is not None) == noted


# --- headers and parameters ---------------------------------------------------------


def test_encoded_words_split_inside_a_character_are_joined() -> None:
    data = SUBJECT.encode("gbk")
    words = [data[i : i + 7] for i in range(0, len(data), 7)]  # odd cuts split characters
    value = "\r\n ".join(f"=?GB2312?B?{base64.b64encode(w).decode()}?=" for w in words)
    assert decode_header(value) == SUBJECT


def test_encoded_words_and_plain_text() -> None:
    value = "Re: =?utf-8?Q?=E6=89=A7=E6=B3=95_?=  =?utf-8?B?5aSn6Zif?= tail =?gbk?B?zfXGtA==?="
    assert decode_header(value) == "Re: 执法 大队 tail 王拼"


def test_raw_8bit_header_bytes() -> None:
    raw_gbk = "王喆".encode("gbk").decode("ascii", "surrogateescape")
    raw_utf8 = "王喆".encode().decode("ascii", "surrogateescape")
    decoder = HeaderDecoder()
    assert decoder.header(raw_utf8, "Subject") == "王喆"
    assert decoder.notes == []  # RFC 6532 UTF-8 is not odd
    assert decoder.header(raw_gbk, "Subject") == "王喆"
    assert decoder.notes == ["Subject: raw 8-bit bytes: undeclared charset read as gb18030"]


def test_header_params() -> None:
    value = 'attachment;\r\n filename="a; b \\"c\\".doc"; size=12; FileName*0*=x; name=un quoted'
    assert header_params(value) == {
        "filename": 'a; b "c".doc',
        "size": "12",
        "filename*0*": "x",
        "name": "un quoted",
    }


@pytest.mark.parametrize(
    ("disposition", "content_type", "expected"),
    [
        ("attachment; filename*=UTF-8''%E7%8E%B0%E5%9C%BA.jpg", None, "现场.jpg"),
        ("attachment; filename*=gb2312''%CD%F5%86%B4.pdf", None, "王喆.pdf"),
        ("attachment; filename*0*=utf-8''%E7%8E; filename*1*=%B0.jpg", None, "现.jpg"),
        ('attachment; filename*0="a"; filename*1="b.txt"', None, "ab.txt"),
        ('attachment; filename="=?gb2312?B?zfWGtC5wZGY=?="', None, "王喆.pdf"),
        ('attachment; filename="=?utf-8?Q?=E7=8E=8B_1.pdf?="', None, "王 1.pdf"),
        ("inline", 'image/png; name="=?utf-8?B?546L5ZaGLnBuZw==?="', "王喆.png"),
        ("attachment", "application/pdf", ""),
        (None, None, ""),
    ],
)
def test_attachment_filename(
    disposition: str | None, content_type: str | None, expected: str
) -> None:
    assert attachment_filename(disposition, content_type) == expected


# --- HTML ---------------------------------------------------------------------------


def test_html_to_text() -> None:
    html = (
        "<html><head><title>T</title><style>p{}</style><script>var a = 1;</script></head>"
        "<body><div>第一行</div><div>第二行<br>第三行</div><p>A &amp; B&nbsp;&lt;C&gt;</p>"
        "<table><tr><td>甲</td><td>乙</td></tr></table></body></html>"
    )
    assert html_to_text(html) == "第一行\n第二行\n第三行\n\nA & B <C>\n\n甲 乙"


def test_html_to_text_tolerates_broken_markup() -> None:
    assert html_to_text("<p>unclosed <b>bold <script>x") == "unclosed bold"
    assert html_to_text("<title>never closed<body>text") == "text"
    assert html_to_text("") == ""


# --- fixtures: subjects, bodies, names ----------------------------------------------


@pytest.mark.parametrize(
    ("name", "subject", "body"),
    [
        ("utf8_base64.eml", SUBJECT, BODY),
        ("gb2312_gbk_only_chars.eml", GBK_ONLY_SUBJECT, GBK_ONLY_BODY + "\n"),
        ("gbk_qp_subject_8bit_body.eml", SUBJECT, GBK_ONLY_BODY + "\n"),
        ("gb18030_base64.eml", SUBJECT + "㐀𠀀", BODY + "㐀𠀀\n"),
        ("raw_utf8_headers.eml", GBK_ONLY_SUBJECT, GBK_ONLY_BODY),
        ("raw_gbk_headers.eml", GBK_ONLY_SUBJECT, GBK_ONLY_BODY),
        ("undeclared_gbk_body.eml", SUBJECT, BODY + "\n"),
        ("alternative.eml", SUBJECT, BODY),
    ],
)
def test_subject_and_body(name: str, subject: str, body: str) -> None:
    letter = fixture(name)
    assert letter.subject == subject
    assert letter.body == body


def test_html_only_body_is_turned_into_text() -> None:
    letter = fixture("html_only.eml")
    assert letter.content_type == "text/html"
    assert letter.body == (
        "各位领导：\n近日，执法大队开展<违法用地>专项整治&巡查。\n"
        "报送人：王喆 电话：13800000000\n\n朱镕基纪念馆"
    )


def test_addresses_dates_and_ids() -> None:
    letter = fixture("utf8_base64.eml")
    assert letter.sender == "zhang.san@example.cn"
    assert letter.sender_name == "张三"
    assert letter.recipients == ("office@example.cn", "li.si@example.cn", "wang@example.cn")
    assert letter.date == datetime(2019, 5, 9, 10, 30, tzinfo=timezone(timedelta(hours=8)))
    assert letter.date is not None and letter.date.utcoffset() == timedelta(hours=8)
    assert letter.message_id == "20190509103000.12345@example.cn"
    assert letter.return_path == "zhang.san@example.cn"
    assert letter.received_at == RECEIVED
    assert letter.raw_sha256 == hashlib.sha256((MAIL / "utf8_base64.eml").read_bytes()).hexdigest()
    assert letter.headers["subject"] == (SUBJECT,)
    assert letter.headers["cc"] == ("李四 <li.si@example.cn>, wang@example.cn",)
    assert letter.header("Message-ID") == "<20190509103000.12345@example.cn>"
    assert letter.parse_warnings == ()


CST = timezone(timedelta(hours=8))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Thu, 9 May 2019 10:30:00 +0800 (CST)", datetime(2019, 5, 9, 10, 30, tzinfo=CST)),
        ("Thu, 09 May 2019 10:30:00 GMT+08:00", datetime(2019, 5, 9, 10, 30, tzinfo=CST)),
        ("9 May 2019 10:30 +0800", datetime(2019, 5, 9, 10, 30, tzinfo=CST)),
        ("Thu, 09 May 2019 02:30:00 -0000", datetime(2019, 5, 9, 2, 30, tzinfo=UTC)),
        ("Thu, 09 May 2019 02:30:00", datetime(2019, 5, 9, 2, 30, tzinfo=UTC)),
        ("2019-05-09 10:30:00", None),
        ("", None),
    ],
)
def test_date_header(value: str, expected: datetime | None) -> None:
    letter = parse_letter(f"Date: {value}\r\n\r\nbody".encode(), RECEIVED)
    assert letter.date == expected
    if expected is not None:
        assert letter.date is not None and letter.date.utcoffset() == expected.utcoffset()


def test_raw_gbk_display_name_and_warning() -> None:
    letter = fixture("raw_gbk_headers.eml")
    assert (letter.sender, letter.sender_name) == ("wang.zhe@example.cn", "王喆")
    assert letter.return_path is None
    assert "Subject: raw 8-bit bytes read as gb18030" in letter.parse_warnings


def test_rfc2231_file_names() -> None:
    letter = fixture("rfc2231_filenames.eml")
    assert names(letter) == [DOCX, "签字扫描件.pdf", "王喆现场照片1.jpg", DOCX]
    assert [a.payload for a in letter.attachments] == [
        b"PK\x03\x04 docx", b"%PDF-1.4 signed", b"\xff\xd8\xff\xe0 jpeg", b"second copy"
    ]
    assert letter.body == BODY


def test_rfc2047_file_names_name_only_and_nameless() -> None:
    letter = fixture("rfc2047_filenames.eml")
    assert names(letter) == [DOCX, "王喆签字扫描件.pdf", "现场照片1.jpg", "现场照片2.jpg", ""]
    assert letter.attachments[0].content_type == "application/msword"
    assert letter.attachments[-1].payload == b"nameless"
    assert letter.body == BODY  # gb2312 label, GBK-only 喆


def test_raw_8bit_file_names() -> None:
    letter = fixture("raw_8bit_filenames.eml")
    assert names(letter) == [DOCX, "王喆签字扫描件.pdf", "现场照片1.jpg"]
    for attachment in letter.attachments:  # each payload is its own name in UTF-8
        assert attachment.payload.decode() == attachment.filename


def test_attachment_hashes() -> None:
    for attachment in fixture("rfc2047_filenames.eml").attachments:
        assert attachment.sha256 == hashlib.sha256(attachment.payload).hexdigest()
        assert not attachment.is_message


def test_forwarded_message_is_one_attachment() -> None:
    raw = (MAIL / "forwarded_message.eml").read_bytes()
    letter = parse_letter(raw, RECEIVED)
    assert letter.subject == "转发：" + SUBJECT
    assert letter.body == "请看转发的邮件。\n"  # not the attached message's text
    forwarded, photo = letter.attachments
    assert forwarded.is_message and forwarded.content_type == "message/rfc822"
    assert forwarded.filename == f"转发：{GBK_ONLY_SUBJECT}.eml"
    assert forwarded.payload.startswith(b"From: wang@example.cn\r\n")
    assert forwarded.payload.endswith(b"--inner--\r\n")
    assert forwarded.payload in raw  # the attached bytes as they were sent
    assert photo.filename == "现场照片1.jpg"
    assert forwarded.sha256 == hashlib.sha256(forwarded.payload).hexdigest()


INNER = (
    "From: a@example.cn\r\nSubject: =?gbk?B?"
    + base64.b64encode("签字扫描件".encode("gbk")).decode()
    + "?=\r\n\r\nhello\r\n"
).encode()


def test_base64_encoded_attached_message() -> None:
    raw = (
        b"Subject: outer\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n"
        b"--X\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
        b"--X\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(INNER).replace(b"\n", b"\r\n")
        + b"--X--\r\n"
    )
    letter = parse_letter(raw, RECEIVED)
    assert [(a.filename, a.payload) for a in letter.attachments] == [("签字扫描件.eml", INNER)]
    assert letter.body == "body"
    assert "attached message in base64 (RFC 2046 forbids it)" in letter.parse_warnings


def test_top_level_attached_message() -> None:
    raw = b"Subject: wrapper\r\nContent-Type: message/rfc822\r\n\r\n" + INNER
    letter = parse_letter(raw, RECEIVED)
    assert [(a.filename, a.payload, a.is_message) for a in letter.attachments] == [
        ("签字扫描件.eml", INNER, True)
    ]
    assert letter.body == ""


# --- the real-world corpus ----------------------------------------------------------


def test_corpus_is_complete() -> None:
    assert len(corpus_files()) == 183


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: str(p.relative_to(CORPUS)))
def test_every_corpus_message_parses(path: Path) -> None:
    raw = path.read_bytes()
    letter = parse_letter(raw, RECEIVED)
    assert letter.raw_sha256 == hashlib.sha256(raw).hexdigest()
    assert not any(w.startswith("could not parse") for w in letter.parse_warnings)
    assert letter.content_type == letter.content_type.lower()
    assert "\n" not in letter.subject
    assert letter.date is None or letter.date.tzinfo is not None
    for attachment in letter.attachments:
        assert attachment.sha256 == hashlib.sha256(attachment.payload).hexdigest()


def test_corpus_gbk_charset() -> None:
    letter = corpus("php-imap/gbk_charset.eml")
    assert (letter.subject, letter.body, letter.sender) == ("Nuu", "Hi\n", "from@there.com")
    assert letter.parse_warnings == ()


def test_corpus_encoded_filename() -> None:
    letter = corpus("php-imap/attachment_encoded_filename.eml")
    assert names(letter) == ["Prostřeno_2014_poslední volné termíny.xls"]
    assert letter.attachments[0].payload.startswith(b"\xd0\xcf\x11\xe0")  # OLE2 (xls)


def test_corpus_long_filenames() -> None:
    letter = corpus("php-imap/attachment_long_filename.eml")
    tail = "@Z-" + "-".join(["0123456789", "qwertyuiopasdfghjklzxcvbnmopqrstuvz"] * 3) + ".txt"
    assert names(letter) == [
        "Buchungsbestätigung- Rechnung-Geschäftsbedingungen-Nr.B123-45 - XXXXX "
        "xxxxxxxxxxxxxxxxx XxxX, Lüxxxxxxxxxx - VM Klaus XXXXXX - xxxxxxxx.pdf",
        "01_A€àä????" + tail,  # ISO-8859-15 continuations
        "02_A€àäąбيد" + tail,
    ]


def test_corpus_four_nested_emails() -> None:
    raw = (CORPUS / "php-imap/four_nested_emails.eml").read_bytes()
    letter = parse_letter(raw, RECEIVED)
    assert letter.subject == "3-third-subject"
    assert letter.body == "3-third-content"
    (attached,) = letter.attachments  # the inner messages are not listed
    assert attached.is_message and attached.filename == "2-second-subject.eml"
    assert attached.payload in raw
    assert b"Subject: 1-first-subject" in attached.payload
    assert b"Subject: 0-zero-subject" in attached.payload


def test_corpus_mixed_filename() -> None:
    letter = corpus("php-imap/mixed_filename.eml")
    assert letter.subject == "Свежий прайс-лист"
    assert (letter.sender, letter.sender_name) == ("support@part-kom.ru", "Прайсы || ПартКом")
    assert names(letter) == ["Price4VladDaKar.xlsx"]
    assert letter.date == datetime(2018, 2, 2, 22, 23, 6, tzinfo=timezone(timedelta(hours=3)))


@pytest.mark.parametrize(
    ("name", "subject", "body_start", "attachments"),
    [
        ("japanese.eml", "まみむめも", "かきくえこ\n\n-- \n", []),
        ("japanese_attachment.eml", "testing", "testing\n", ["てすと.txt"]),
        ("japanese_attachment_long_name.eml", "まみむめも" * 10, "", ["かきくけこ" * 5 + ".txt"]),
        ("japanese_iso_2022.eml", "まみむめも", "すみません。", []),
        ("japanese_shift_jis.eml", "test", "あいうえお\n\nこのメールはテスト用のメールです。", []),
        ("ks_c_5601-1987.eml", "test", "스티해", []),
    ],
)
def test_corpus_multi_charset(
    name: str, subject: str, body_start: str, attachments: list[str]
) -> None:
    letter = corpus(f"mikel-mail/multi_charset/{name}")
    assert letter.subject == subject
    assert letter.body.startswith(body_start)
    assert names(letter) == attachments
    assert letter.parse_warnings == ()


def test_corpus_latin1_raw_subject_uses_the_declared_charset() -> None:
    letter = corpus("mikel-mail/error_emails/invalid_subject_characters.eml")
    assert letter.subject.startswith("Formação FrenetikPolis: Mega Campanha Final Verão")


def test_corpus_bounce_lists_the_returned_message() -> None:
    letter = corpus("mikel-mail/multipart_report_emails/multi_address_bounce1.eml")
    assert letter.content_type == "multipart/report"
    assert names(letter) == ["Test of bounce email.eml"]
    raw = (CORPUS / "mikel-mail/multipart_report_emails/multi_address_bounce1.eml").read_bytes()
    assert letter.attachments[0].payload in raw  # exact slice despite re-folded headers


# --- malformed input ----------------------------------------------------------------


def test_empty_bytes() -> None:
    letter = parse_letter(b"", RECEIVED)
    assert (letter.subject, letter.sender, letter.body, letter.attachments) == ("", "", "", ())
    assert letter.headers == {} and letter.return_path is None and letter.date is None
    assert "no header fields" in letter.parse_warnings


def test_headers_only() -> None:
    raw = b"From: a@example.cn\r\nSubject: =?utf-8?B?5rWL6K+V?=\r\nReturn-Path: <>\r\n"
    letter = parse_letter(raw, RECEIVED)
    assert (letter.subject, letter.sender, letter.body) == ("测试", "a@example.cn", "")
    assert letter.return_path == ""


def random_bytes(rng: random.Random, size: int) -> bytes:
    return bytes(rng.randrange(256) for _ in range(size))


def header_end(raw: bytes) -> int:
    """Where the header block ends (the first blank line), for bytes that have one."""
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    assert ends, "a corpus message without a body separator"
    return min(ends) + 2


def test_binary_garbage() -> None:
    rng = random.Random(20190509)
    for _ in range(20):
        raw = random_bytes(rng, rng.randrange(1, 3000))
        assert not_a_message(raw) is not None
        letter = parse_letter(raw, RECEIVED)
        assert not letter.parse_failed  # the stdlib read it; our own reading did not raise
        assert "no header fields" in letter.parse_warnings
        assert "no sender address" in letter.parse_warnings
        assert (letter.subject, letter.sender, letter.message_id) == ("", "", "")
        assert letter.headers == {} and letter.date is None


def test_garbage_after_a_header_line_is_the_body() -> None:
    raw = b"Subject: x\r\n" + random_bytes(random.Random(3), 300)
    letter = parse_letter(raw, RECEIVED)
    assert not letter.parse_failed and letter.subject == "x"
    assert "MissingHeaderBodySeparatorDefect in text/plain" in letter.parse_warnings
    assert "text/plain: undeclared charset read as latin-1" in letter.parse_warnings


def corpus_messages() -> list[Path]:
    return [path for path in corpus_files() if not_a_message(path.read_bytes()) is None]


def test_mutilated_corpus_messages() -> None:
    rng = random.Random(5)
    tried = 0
    for path in corpus_messages()[::9]:
        raw = path.read_bytes()
        original = parse_letter(raw, RECEIVED)
        end = header_end(raw)
        if len(raw) - end < 2:
            continue
        tried += 1
        body = bytearray(raw)
        for _ in range(30):  # the header block survives: everything it gives must too
            body[rng.randrange(end, len(raw))] = rng.randrange(256)
        halved = raw[: max(end, len(raw) // 2)]
        for mutilated in (bytes(body), halved):
            letter = parse_letter(mutilated, RECEIVED)
            assert not letter.parse_failed, (path, letter.parse_warnings)
            assert (letter.subject, letter.sender, letter.sender_name, letter.message_id,
                    letter.date, letter.recipients) == (
                original.subject, original.sender, original.sender_name, original.message_id,
                original.date, original.recipients), path
        anywhere = bytearray(raw)
        for _ in range(30):  # the header block too: still a Letter, read by the stdlib
            anywhere[rng.randrange(len(raw))] = rng.randrange(256)
        letter = parse_letter(bytes(anywhere), RECEIVED)
        assert not letter.parse_failed, (path, letter.parse_warnings)
        assert "\n" not in letter.subject
    assert tried >= 18


def test_not_a_message() -> None:
    assert not_a_message(b"") == "empty file"
    assert not_a_message(b"\r\n \r\n") == "only white space"
    assert not_a_message(random_bytes(random.Random(7), 2000)) == "no header section"
    assert not_a_message(jpeg("现场照片")) == "no header section (a JPEG image)"
    pdf = scan_pdf("签字稿", created=RECEIVED)
    assert not_a_message(pdf) == "no header section (a PDF document)"
    assert not_a_message(b"\r\nSubject: x\r\n") == (
        "no header section (it starts with a blank line)")
    assert not_a_message(b"Dear all,\nSubject: x\n\nbody") == "no header section"
    assert not_a_message(b"Subject: x") is None
    assert not_a_message(b"From someone@example.cn Thu May  9 10:00:00 2019\nSubject: x\n") is None
    assert not_a_message(b"Subject : obsolete syntax\r\n\r\nbody") is None


def test_every_corpus_message_is_a_message() -> None:
    verdicts = {str(path.relative_to(CORPUS)): not_a_message(path.read_bytes())
                for path in corpus_files()}
    # not RFC 5322 but an Outlook .msg (an OLE2 compound file) in mail-parser's test mails
    assert verdicts.pop("mail-parser/mail_outlook_1") == (
        "no header section (an OLE2 file: an Outlook .msg, .doc or .xls)")
    assert set(verdicts.values()) == {None}
    assert len(verdicts) == 182


def nested(depth: int) -> bytes:
    return b"Subject: deep\r\n" + b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    ) + b"\r\ntext\r\n"


def test_nesting_too_deep_for_the_stdlib_parser() -> None:
    letter = parse_letter(nested(3000), RECEIVED)  # RecursionError inside email.feedparser
    assert letter.parse_failed
    assert letter.subject == "deep"
    assert letter.parse_warnings[0].startswith("could not parse: RecursionError")


def test_nesting_deeper_than_we_read() -> None:
    letter = parse_letter(nested(100), RECEIVED)
    assert "MIME nesting deeper than 40 levels not read" in letter.parse_warnings


def test_odd_headers() -> None:
    raw = (
        b"From: MAILER-DAEMON\r\nDate: yesterday\r\nMessage-ID: no-angles@x\r\n"
        b"Content-Type: text/plain; charset=utf-16\r\n\r\nabc"
    )
    letter = parse_letter(raw, RECEIVED)
    assert letter.sender == "mailer-daemon"
    assert letter.date is None
    assert letter.message_id == "no-angles@x"
    assert letter.body == "abc"
    assert "unparseable Date: 'yesterday'" in letter.parse_warnings
    assert "text/plain: text not valid utf-16 read as utf-8" in letter.parse_warnings


@pytest.mark.parametrize(
    ("headers", "sender", "warning"),
    [
        (b"From: Big Bug bb@bug.example\r\n", "bb@bug.example", "From: address recovered"),
        (b"From: a@x.example b@x.example\r\nSender: s@x.example\r\n", "s@x.example",
         "no From address; sender taken from Sender"),
        (b"Return-Path: <rp@x.example>\r\n", "rp@x.example",
         "no From address; sender taken from Return-Path"),
        (b"From: undisclosed-recipients:;\r\nReturn-Path: <>\r\n", "", "no sender address"),
    ],
)
def test_sender_fallbacks(headers: bytes, sender: str, warning: str) -> None:
    letter = parse_letter(headers + b"\r\nbody", RECEIVED)
    assert letter.sender == sender
    assert any(w.startswith(warning) for w in letter.parse_warnings)


def test_repeated_headers_keep_order() -> None:
    raw = b"Received: one\r\nReceived: two\r\n (folded)\r\nX-Empty:\r\n\r\nbody"
    letter = parse_letter(raw, RECEIVED)
    assert letter.headers["received"] == ("one", "two (folded)")
    assert letter.headers["x-empty"] == ("",)
    assert letter.has_header("X-EMPTY") and not letter.has_header("subject")
