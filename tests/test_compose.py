"""Composing outgoing mail with attachments (the monthly bulletin's CSV / XLSX / DOCX): the
bytes parse back, with the stdlib and with mailroom's own parser, to the same file names
and contents; without attachments the bytes are what receipts have always been."""

from __future__ import annotations

import email
import email.policy
import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from email.header import decode_header, make_header
from email.message import EmailMessage, Message

import pytest

from mailroom.outbox.compose import Attachment, Envelope, Thread, compose
from mailroom.parsing.letter import parse_letter

CST = timezone(timedelta(hours=8))
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RECEIPT = Envelope(
    sender="office@example.cn", recipients=("a@b.cn", "c@d.cn"),
    subject="回执 201905-0001：已计数｜开展执法检查" * 2,
    message_id="mailroom.receipt.abc@example.cn", date=datetime(2019, 5, 8, 9, 31, tzinfo=CST),
    auto_submitted="auto-replied", purpose="receipt",
    thread=Thread("orig@x.cn", "<older@x.cn> junk <o2@x.cn>"))
TEXT, HTML = "文本\n第二行 " * 50, "<p>网页</p>" * 30
# sha256 of RECEIPT composed by compose(): no attachments, the bytes they have always been
# but for the Subject's fold (its first encoded word on the Subject line since issue 10)
RECEIPT_SHA256 = "06cdddfe2e7cceb89ffb43b805353ed28ea8699aeffdd76ef67c88efa5aa8fb2"
BULLETIN = replace(RECEIPT, recipients=("office@example.cn",), thread=None,
                   subject="永宁县自然资源局2019年5月信息报送情况通报",
                   message_id="mailroom.bulletin.0a1b@example.cn",
                   auto_submitted="auto-generated", purpose="bulletin")
FILES = (
    Attachment("永宁县自然资源局2019年5月信息报送情况通报.docx", DOCX, b"PK\x03\x04 docx \x00\xff"),
    Attachment("2019年5月 各单位统计表（含疑似重复，已采用）.xlsx", XLSX, b"PK\x03\x04 xlsx"),
    Attachment("关于进一步加强和规范全县自然资源系统信息报送工作、提高信息质量和时效性的"
               "通知（征求意见稿）附件一：各股室、站所、中心、生态林场、执法大队信息员名单"
               "（2019年5月更新）.docx", DOCX,
               bytes(range(256)) * 40),
    Attachment("bulletin-2019-05.csv", "text/csv",
               "单位,计数\r\n执法大队,2\r\n".encode("utf-8-sig")),
    Attachment('an "ASCII" name with spaces and a quote.txt', "text/plain", b"plain\r\n"),
    Attachment("x" * 85 + ".csv", "text/csv", b""),
)


def parts_of(raw: bytes) -> list[EmailMessage]:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return [part for part in message.iter_attachments() if isinstance(part, EmailMessage)]


def test_without_attachments_the_bytes_are_todays() -> None:
    raw = compose(RECEIPT, TEXT, HTML)
    assert hashlib.sha256(raw).hexdigest() == RECEIPT_SHA256
    assert compose(RECEIPT, TEXT, HTML, ()) == raw and compose(RECEIPT, TEXT, HTML, []) == raw
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"


def test_attachments_follow_the_alternative_part_and_parse_back_with_the_stdlib() -> None:
    raw = compose(BULLETIN, TEXT, HTML, FILES)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert message.get_content_type() == "multipart/mixed"
    first, *files = message.iter_parts()
    assert first.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in first.iter_parts()] == ["text/plain", "text/html"]
    body = message.get_body(("plain",))
    assert body is not None and body.get_content() == TEXT
    # exactly, no blank before it: the fold starts with an encoded word on the Subject line
    assert message["Subject"] == BULLETIN.subject
    assert raw.split(b"\r\nSubject: ", 1)[1].startswith(b"=?utf-8?")
    assert [(p.get_filename(), p.get_content_type(), p.get_payload(decode=True))
            for p in files] == [(f.filename, f.content_type, f.data) for f in FILES]
    assert all(p.get_content_disposition() == "attachment" for p in files)
    assert all(p["Content-Transfer-Encoding"] == "base64" for p in files)


def test_outlook_and_foxmail_find_the_name_as_rfc2047_on_content_type() -> None:
    """They read `name=` on Content-Type, RFC 2047 encoded words, and not RFC 2231."""
    message = email.message_from_bytes(compose(BULLETIN, TEXT, HTML, FILES))  # compat32
    files = [part for part in message.walk() if part.get_content_disposition() == "attachment"]
    for part, attachment in zip(files, FILES, strict=True):
        name = part.get_param("name")
        assert isinstance(name, str)
        assert str(make_header(decode_header(name))) == attachment.filename
        assert name.startswith("=?utf-8?b?") == (not attachment.filename.isascii()
                                                 or len(attachment.filename) > 60)


def test_file_names_are_rfc2231_with_continuations_and_lines_stay_short() -> None:
    raw = compose(BULLETIN, TEXT, HTML, FILES)
    headers = [block.split(b"\r\n\r\n")[0] for block in raw.split(b"\r\n--=_")]
    docx, xlsx, long_docx, csv, ascii_txt, long_csv = (
        block for block in headers if b"Content-Disposition: attachment" in block)
    assert b"filename*0*=utf-8''%E6%B0%B8%E5%AE%81%E5%8E%BF" in docx
    assert b"filename*1*=" in docx and b"filename*2*=" in docx
    assert b"filename*=" not in docx and b" filename=" not in docx  # one form on the disposition
    assert b"filename*10*=" in long_docx
    assert b'Content-Disposition: attachment; filename="bulletin-2019-05.csv"' in csv
    assert b'filename="an \\"ASCII\\" name with spaces and a quote.txt"' in ascii_txt
    assert b"filename*0*=utf-8''xxxx" in long_csv  # too long for one quoted line
    for block in (docx, xlsx, long_docx, csv, ascii_txt, long_csv):
        for line in block.split(b"\r\n"):
            long_type = line.startswith(b"Content-Type: application/vnd.openxmlformats")
            assert len(line) <= (998 if long_type else 78), line  # a MIME type cannot fold


@pytest.mark.parametrize("attachment", FILES, ids=lambda a: a.filename[:12])
def test_mailroom_reads_what_mailroom_sends(attachment: Attachment) -> None:
    raw = compose(BULLETIN, TEXT, HTML, (attachment,))
    letter = parse_letter(raw, datetime(2019, 5, 28, tzinfo=UTC))
    [found] = letter.attachments
    assert (found.filename, found.content_type, found.payload) == \
        (attachment.filename, attachment.content_type, attachment.data)
    assert letter.body == TEXT
    assert letter.subject == BULLETIN.subject and letter.parse_warnings == ()


def test_the_same_inputs_give_the_same_bytes_and_each_mail_its_own_boundaries() -> None:
    raw = compose(BULLETIN, TEXT, HTML, FILES)
    assert compose(BULLETIN, TEXT, HTML, list(FILES)) == raw
    other = compose(replace(BULLETIN, message_id="mailroom.bulletin.ffff@example.cn"),
                    TEXT, HTML, FILES)
    boundaries = {p.get_boundary() for p in email.message_from_bytes(raw).walk()
                  if isinstance(p, Message) and p.is_multipart()}
    assert len(boundaries) == 2
    assert not any(boundary.encode() in other for boundary in boundaries if boundary)


@pytest.mark.parametrize(("filename", "content_type"), [
    ("", "text/csv"), ("a\r\nBcc: x@y.cn.csv", "text/csv"), ("a.csv", "text/csv; charset=gbk"),
    ("a.csv", "csv"), ("a.csv", "text/"),
])
def test_an_attachment_that_would_break_the_headers_is_refused(
    filename: str, content_type: str
) -> None:
    with pytest.raises(ValueError, match="attachment"):
        Attachment(filename, content_type, b"")
