"""Hostile mail, built deterministically as raw bytes (tests/test_hostile.py runs them).

Every builder returns the exact bytes a hostile or broken client could deliver: no
`email` package in the way (it would fold, re-encode or refuse what we want to send),
CRLF line ends, fixed Message-IDs and dates, seeded randomness. The 50 MB mail is built
from one seeded block repeated, base64-encoded once: about a second and ~120 MB.
"""

from __future__ import annotations

import base64
import random
import urllib.parse
from collections.abc import Callable, Iterable, Sequence

CRLF = b"\r\n"
SENDER = "zfdd@example.cn"  # a registered reporter of 自然资源综合执法大队 (tests/conftest.py)
UNIT = "自然资源综合执法大队"
MAILBOX = "ynlyj452@126.com"
SEED = 20190509

Header = tuple[str, str | bytes]


# --- raw MIME, by hand ------------------------------------------------------------------


def encoded_word(text: str, charset: str = "utf-8", data: bytes | None = None) -> str:
    """One RFC 2047 B-word (of `data` when given, else of `text` in `charset`)."""
    payload = data if data is not None else text.encode(charset)
    return f"=?{charset}?B?{base64.b64encode(payload).decode('ascii')}?="


def encoded_words(text: str, chunk: int = 15) -> str:
    """A long text as folded RFC 2047 words of `chunk` characters each (≤ 75 octets)."""
    words = [encoded_word(text[i:i + chunk]) for i in range(0, len(text), chunk)]
    return "\r\n ".join(words)


def rfc2231(name: str | bytes, charset: str = "utf-8") -> str:
    """`filename*=charset''percent-encoded` (RFC 2231) of a str or raw bytes."""
    data = name if isinstance(name, bytes) else name.encode(charset)
    return f"{charset}''{urllib.parse.quote_from_bytes(data, safe='')}"


def _bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def fields(headers: Iterable[Header]) -> bytes:
    return b"".join(_bytes(name) + b": " + _bytes(value) + CRLF for name, value in headers)


def part(headers: Iterable[Header], body: bytes) -> bytes:
    return fields(headers) + CRLF + body


def multipart(headers: Iterable[Header], parts: Sequence[bytes], boundary: str,
              subtype: str = "mixed") -> bytes:
    delimiter = b"--" + boundary.encode("ascii")
    head = [*headers, ("Content-Type", f'multipart/{subtype}; boundary="{boundary}"')]
    body = b"".join(delimiter + CRLF + p + CRLF for p in parts) + delimiter + b"--" + CRLF
    return fields(head) + CRLF + body


# each case its own title and body, so that no two are first-report look-alikes (R3)
TITLES = {
    "big": ("森林防火宣传影像资料汇总", "随信附上今年春季森林防火宣传的全部影像资料压缩包。"),
    "attachments": ("违法用地巡查照片", "五月上旬违法用地动态巡查，现场照片逐张附后。"),
    "nested": ("耕地保护专项检查情况", "耕地保护专项检查已覆盖全部乡镇，问题清单见附件。"),
    "traversal": ("不动产登记窗口服务月报", "不动产登记窗口本月受理业务量同比增长。"),
    "date9999": ("地质灾害隐患点排查进展", "汛前地质灾害隐患点排查已完成百分之八十。"),
    "date0001": ("国土空间规划公众参与活动", "规划草案公示期间收到群众意见四十余条。"),
    "dategarbage": ("矿产资源执法检查通报", "对辖区内三家采石场开展了执法检查。"),
    "recipients": ("植树造林义务劳动安排", "请各单位于周六上午到南山参加义务植树。"),
    "longname": ("测绘成果保密自查报告", "测绘地理信息成果保密管理自查未发现问题。"),
    "longaddress": ("林业有害生物防治工作", "松材线虫病春季普查工作已经启动。"),
}


def envelope(name: str, subject: str | bytes | None = None, *,
             sender: str | bytes = SENDER, date: str = "Wed, 08 May 2019 09:30:00 +0800",
             extra: Sequence[Header] = ()) -> list[Header]:
    """The top-level headers of a case: From, To, Subject (RFC 2047 of "单位+the case's
    title" unless given), Date, a Message-ID naming the case, MIME-Version."""
    if subject is None:
        subject = encoded_word(f"{UNIT}+{TITLES[name][0]}")
    return [("From", sender), ("To", MAILBOX), ("Subject", subject), ("Date", date),
            ("Message-ID", f"<hostile.{name}@example.cn>"), ("MIME-Version", "1.0"),
            *extra]


def text_part(text: str = "正文内容，详见附件。", charset: str = "utf-8") -> bytes:
    return part([("Content-Type", f"text/plain; charset={charset}"),
                 ("Content-Transfer-Encoding", "base64")],
                base64.encodebytes(text.encode(charset)))


def attachment(disposition: str, payload: bytes,
               content_type: str = "application/octet-stream") -> bytes:
    """An attachment part; `disposition` is everything after "attachment; "."""
    return part([("Content-Type", content_type),
                 ("Content-Disposition", f"attachment; {disposition}"),
                 ("Content-Transfer-Encoding", "base64")], base64.encodebytes(payload))


def simple(name: str, *, subject: str | bytes | None = None, sender: str | bytes = SENDER,
           date: str = "Wed, 08 May 2019 09:30:00 +0800", extra: Sequence[Header] = (),
           body: str | None = None) -> bytes:
    """A one-part UTF-8 mail with the case's headers (and its body, unless given)."""
    headers = [*envelope(name, subject, sender=sender, date=date, extra=extra),
               ("Content-Type", "text/plain; charset=utf-8"),
               ("Content-Transfer-Encoding", "base64")]
    text = body if body is not None else TITLES[name][1]
    return part(headers, base64.encodebytes(text.encode("utf-8")))


# --- the cases ----------------------------------------------------------------------------


def empty() -> bytes:
    """A 0-byte file (a crashed delivery agent, a truncated copy)."""
    return b""


def random_bytes(size: int = 4096, seed: int = SEED) -> bytes:
    """Seeded random bytes with no header section at all (a misdelivered binary)."""
    data = bytearray(random.Random(seed).randbytes(size))
    data[0:1] = b"\x89"  # never a header name, whatever the seed: 0x89 is not a field char
    return bytes(data)


def headerless_text() -> bytes:
    """Plain text with no header section (a note saved into the Maildir by hand)."""
    return "这不是一封邮件，只是一段文字。\r\n没有信头。\r\n".encode()


def big(size: int = 50 * 1024 * 1024, seed: int = SEED) -> bytes:
    """A mail of about `size` bytes: one base64 attachment (a 37.5 MB .zip)."""
    return multipart(envelope("big"), [
        text_part(TITLES["big"][1]),
        attachment(f'filename="{UNIT}+大附件.zip"', big_payload(size), "application/zip"),
    ], "big-boundary")


def big_payload(size: int = 50 * 1024 * 1024, seed: int = SEED) -> bytes:
    """The attachment of `big(size)`: one seeded 768 KiB block repeated."""
    block = random.Random(seed).randbytes(3 * 2**18)
    return block * (size * 3 // 4 // len(block))


def many_attachments(count: int = 2000) -> bytes:
    """`count` small attachments, their names in RFC 2231, RFC 2047 and plain ASCII."""
    parts = [text_part(TITLES["attachments"][1])]
    for number, name in enumerate(many_attachment_names(count), start=1):
        parts.append(attachment(_encoded_name(number, name), f"附件内容 {number}\n".encode()))
    return multipart(envelope("attachments"), parts, "many-boundary")


def many_attachment_names(count: int = 2000) -> list[str]:
    """The decoded names `many_attachments` carries, in order."""
    return [f"照片{n:04d}.png" if n % 3 == 1 else f"说明{n:04d}.txt" if n % 3 == 2
            else f"scan-{n:04d}.png" for n in range(1, count + 1)]


def _encoded_name(number: int, name: str) -> str:
    if number % 3 == 1:
        return f"filename*={rfc2231(name)}"
    if number % 3 == 2:
        return f'filename="{encoded_word(name)}"'
    return f'filename="{name}"'


def nested(depth: int = 200) -> bytes:
    """A MIME tree `depth` multiparts deep, with text and an attachment at the bottom."""
    inner = multipart([], [text_part("最深处的正文。"),
                           attachment('filename="deep.txt"', b"deep")], f"level-{depth}")
    for level in range(depth - 1, 1, -1):
        inner = multipart([], [inner], f"level-{level}")
    return multipart(envelope("nested"), [text_part(TITLES["nested"][1]), inner], "level-1")


NUL_SUBJECT_TITLE = "含\x00空字符的标题"
NUL_FILE_NAME = f"{UNIT}+报告\x00.docx"


def nul_headers() -> bytes:
    """NUL in the Subject (inside an encoded word and raw), in the From display name,
    and in two attachment names (RFC 2231 %00 and a raw NUL in a quoted name)."""
    subject = encoded_word(f"{UNIT}+{NUL_SUBJECT_TITLE}") + " tail\x00end"
    return multipart(envelope("nul", subject, sender=f"Zhang\x00San <{SENDER}>"), [
        text_part("正文里没有空字符，信头和附件名里有。"),
        attachment(f"filename*={rfc2231(NUL_FILE_NAME)}", b"PK\x03\x04 docx"),
        attachment('filename="scan\x00.pdf"', b"%PDF-1.4 scan"),
    ], "nul-boundary")


TRAVERSAL_NAMES = ["../../etc/passwd", "..\\..\\boot.ini", "/abs/name.docx",
                   "../\x00../evil.sh"]


def traversal() -> bytes:
    """Attachments named to escape a folder: POSIX and Windows traversal, an absolute
    path, a name with a NUL. Both quoted names and RFC 2231 (which may hold %00)."""
    parts = [text_part(TITLES["traversal"][1])]
    for index, name in enumerate(TRAVERSAL_NAMES):
        disposition = (f'filename="{name}"' if index % 2 == 0 and "\x00" not in name
                       else f"filename*={rfc2231(name)}")
        parts.append(attachment(disposition, f"traversal {index}\n".encode()))
    return multipart(envelope("traversal"), parts, "traversal-boundary")


UNKNOWN_CHARSET_TITLE = "未知字符集的报送"
UNKNOWN_CHARSET_FILE = "情况说明.txt"


def unknown_charsets() -> bytes:
    """GBK bytes labelled with charsets nobody has: the body `x-unknown-2019`, the
    Subject and a file name as `=?x-foo?B?…?=` words."""
    gbk = "gb18030"
    subject = encoded_word("", "x-foo", f"{UNIT}+{UNKNOWN_CHARSET_TITLE}".encode(gbk))
    name = encoded_word("", "x-foo", UNKNOWN_CHARSET_FILE.encode(gbk))
    body = part([("Content-Type", 'text/plain; charset="x-unknown-2019"'),
                 ("Content-Transfer-Encoding", "8bit")],
                "正文用未知字符集标注，实际是国标码。\r\n".encode(gbk))
    return multipart(envelope("charset", subject), [
        body, attachment(f'filename="{name}"', "说明文字".encode(gbk), "text/plain"),
    ], "charset-boundary")


def invalid_rfc2047() -> bytes:
    """Encoded words that are not: bad base64, an unknown encoding letter, unterminated
    words, in the Subject and in file names."""
    subject = (f"{encoded_word(f'{UNIT}+')} =?utf-8?B?!!!notbase64?= =?utf-8?X?abc?= "
               "编码错误 =?utf-8?Q?unterminated")
    return multipart(envelope("rfc2047", subject.encode("utf-8")), [
        text_part("主题和附件名里的编码字不合规范。"),
        attachment('filename="=?utf-8?B?!!!notbase64?=.docx"', b"PK\x03\x04 one"),
        attachment('filename="=?utf-8?B?5oql5ZGK"', b"two"),
        attachment('filename="=?gb2312?Q?=D6=D0=CE=C4"', b"three"),
    ], "rfc2047-boundary")


def date_9999() -> bytes:
    """The last second of year 9999, west of UTC: the instant is past datetime.max UTC."""
    return simple("date9999", date="Fri, 31 Dec 9999 23:59:59 -1200")


def date_0001() -> bytes:
    """The first second of year 1, east of UTC: the instant is before datetime.min UTC."""
    return simple("date0001", date="Mon, 01 Jan 0001 00:00:00 +1400")


def date_garbage() -> bytes:
    return simple("dategarbage", date="next Tuesday-ish, 32/13/20x9 25:61 ZZZ")


def many_recipients(count: int = 500) -> bytes:
    """`count` recipients: three fifths in To, the rest in Cc, folded one per line."""
    to_count = count * 3 // 5
    addresses = [f"收件人{n} <r{n:03d}@example.cn>" for n in range(count)]
    to, cc = addresses[:to_count], addresses[to_count:]
    extra = [("Cc", ",\r\n ".join(cc))]
    mail = simple("recipients", extra=extra)
    return mail.replace(f"To: {MAILBOX}\r\n".encode(),
                        f"To: {MAILBOX},\r\n ".encode() + ",\r\n ".join(to).encode() + CRLF)


LONG_TITLE_UNIT = "关于森林防火工作的很长很长的标题"


def long_subject(size: int = 100 * 1024) -> bytes:
    """A Subject of `size` UTF-8 bytes once decoded, as folded RFC 2047 words."""
    prefix = f"{UNIT}+"
    repeats = (size - len(prefix.encode())) // len(LONG_TITLE_UNIT.encode()) + 1
    return simple("subject", subject=encoded_words(prefix + LONG_TITLE_UNIT * repeats),
                  body="主题有十万字节长。")


def long_display_name(length: int = 300) -> bytes:
    """A valid From: a `length`-character display name before a registered address."""
    name = ("Zhang San of the Forest Farm " * 20)[:length]
    return simple("longname", sender=f'"{name}" <{SENDER}>')


def long_address(length: int = 400) -> bytes:
    """A From whose address alone is `length` characters (past VARCHAR(320))."""
    return simple("longaddress", sender=long_address_text(length))


def long_address_text(length: int = 400) -> str:
    domain = "@example.cn"
    return "a" * (length - len(domain)) + domain


# name -> builder; the order is the delivery order
CASES: dict[str, Callable[[], bytes]] = {
    "empty": empty,
    "random_bytes": random_bytes,
    "headerless_text": headerless_text,
    "big_50mb": big,
    "attachments_2000": many_attachments,
    "nested_200": nested,
    "nul_headers": nul_headers,
    "traversal_names": traversal,
    "unknown_charsets": unknown_charsets,
    "invalid_rfc2047": invalid_rfc2047,
    "date_9999": date_9999,
    "date_0001": date_0001,
    "date_garbage": date_garbage,
    "recipients_500": many_recipients,
    "subject_100kb": long_subject,
    "from_long_name": long_display_name,
    "from_long_address": long_address,
}
