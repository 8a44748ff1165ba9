"""How the bureau's reporters' mail programs really write a message.

One function per client, each taking a `Draft` (what the reporter wrote) and returning the
raw bytes that program would hand to its SMTP server, with that program's habits:

| client | charset label (real bytes) | body | attachment file names |
| --- | --- | --- | --- |
| `outlook` (2016, zh-CN) | gb2312 (cp936) | QP, text + HTML | RFC 2047 inside quotes |
| `foxmail` (7.2) | GB2312 (GBK) | base64 text, QP HTML | RFC 2047 inside quotes |
| `coremail126` (126.com web) | GBK | base64, text + HTML | one long RFC 2047 word, quoted |
| `coremail163` (163.com web) | UTF-8 | base64, text + HTML | one long RFC 2047 word, quoted |
| `qqmail` (QQ / Exmail web) | gb18030 | base64, text + HTML | RFC 2047 inside quotes |
| `thunderbird` (60) | UTF-8 | 8bit, text only | RFC 2231 `filename*0*=UTF-8''…` |
| `iphone` (iOS 12 Mail) | utf-8 | QP; photos inline; text after | RFC 2231 `filename*=utf-8''…` |
| `legacy` (an old client) | gbk | 8bit, text only | raw GBK bytes in the headers |

Ids and boundaries come from `Draft.key`, so the same draft always gives the same bytes.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from mailroom.sample.mime import (
    Header,
    Part,
    b64,
    digest,
    digits,
    encode_header,
    encoded_words,
    qp,
    rfc2231,
    rfc5322_date,
)

MAILBOX = "ynlyj452@126.com"  # the bureau's submission mailbox (notice of 2019-05-09)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Draft:
    key: str  # a stable seed for Message-ID and boundaries
    sender: str
    sender_name: str
    subject: str
    text: str  # the plain-text body, LF line ends
    sent_at: datetime  # the Date header
    attachments: tuple[Attachment, ...] = ()
    to: str = MAILBOX
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    extra_headers: tuple[Header, ...] = ()

    @property
    def domain(self) -> str:
        return self.sender.rsplit("@", 1)[-1]

    @property
    def local(self) -> str:
        return self.sender.rsplit("@", 1)[0]


@dataclass(frozen=True)
class Written:
    raw: bytes
    message_id: str  # with angle brackets


def _threading(draft: Draft) -> list[Header]:
    headers: list[Header] = []
    if draft.in_reply_to:
        headers.append(("In-Reply-To", draft.in_reply_to))
    if draft.references:
        headers.append(("References", "\n\t".join(draft.references)))
    return headers


def _paragraphs(text: str) -> list[str]:
    return text.split("\n")


# --- Outlook ------------------------------------------------------------------------------

def _outlook_html(text: str) -> str:
    paragraphs = "".join(
        f"<p class=MsoNormal><span style='font-family:宋体'>{html.escape(p) or '&nbsp;'}"
        "<span lang=EN-US><o:p></o:p></span></span></p>" for p in _paragraphs(text))
    return (
        '<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:'
        'office:office" xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://'
        'schemas.microsoft.com/office/2004/12/omml" xmlns="http://www.w3.org/TR/REC-html40">'
        '<head><meta http-equiv=Content-Type content="text/html; charset=gb2312"><meta '
        'name=Generator content="Microsoft Word 15 (filtered medium)"><style><!--\n'
        '/* Font Definitions */\n@font-face\n\t{font-family:宋体;\n\tpanose-1:2 1 6 0 3 1 1 1'
        ' 1 1;}\np.MsoNormal, li.MsoNormal, div.MsoNormal\n\t{margin:0cm;\n\tmargin-bottom:'
        '.0001pt;\n\ttext-align:justify;\n\ttext-justify:inter-ideograph;\n\tfont-size:10.5pt;'
        '\n\tfont-family:等线;}\n--></style></head><body lang=ZH-CN link="#0563C1" '
        "vlink=\"#954F72\" style='text-justify-trim:punctuation'><div class=WordSection1>"
        f"{paragraphs}</div></body></html>\n"
    )


def _outlook_attachment(item: Attachment) -> Part:
    name = encode_header(item.filename, "gb2312", "gbk")
    return Part([
        ("Content-Type", f'{item.content_type};\n\tname="{name}"'),
        ("Content-Transfer-Encoding", "base64"),
        ("Content-Disposition", f'attachment;\n\tfilename="{name}"'),
    ], b64(item.data))


def outlook(draft: Draft) -> Written:
    stamp = digest(draft.key + "outlook", 24).upper()
    message_id = (f"<000001d5{digest(draft.key, 4)}${stamp[:8].lower()}${stamp[8:16].lower()}"
                  f"$@{draft.domain}>")
    outer = f"----=_NextPart_000_{stamp[16:20]}_01D5{stamp[20:24]}.{stamp[:8]}"
    inner = f"----=_NextPart_001_{stamp[16:20]}_01D5{stamp[20:24]}.{stamp[:8]}"
    text = Part([("Content-Type", 'text/plain;\n\tcharset="gb2312"'),
                 ("Content-Transfer-Encoding", "quoted-printable")],
                qp(draft.text.encode("gbk") + b"\n"))
    markup = Part([("Content-Type", 'text/html;\n\tcharset="gb2312"'),
                   ("Content-Transfer-Encoding", "quoted-printable")],
                  qp(_outlook_html(draft.text).encode("gbk")))
    alternative = Part([("Content-Type", f'multipart/alternative;\n\tboundary="{inner}"')],
                       children=[text, markup], boundary=inner, gap=True)
    attachments = [_outlook_attachment(item) for item in draft.attachments]
    headers: list[Header] = [
        ("From", f"{encode_header(draft.sender_name, 'gb2312', 'gbk')} <{draft.sender}>"),
        ("To", f"<{draft.to}>"),
        ("Subject", encode_header(draft.subject, "gb2312", "gbk")),
        ("Date", rfc5322_date(draft.sent_at)),
        ("Message-ID", message_id),
        *_threading(draft),
        ("MIME-Version", "1.0"),
    ]
    tail: list[Header] = [
        ("X-Mailer", "Microsoft Outlook 16.0"),
        ("Thread-Index", "AdUF" + digest(draft.key + "thread", 28)),
        ("Content-Language", "zh-cn"),
        *draft.extra_headers,
    ]
    if attachments:
        top = Part(headers + [("Content-Type", f'multipart/mixed;\n\tboundary="{outer}"')]
                   + tail, children=[alternative, *attachments], boundary=outer,
                   preamble=b"This is a multipart message in MIME format.\n", gap=True)
    else:
        alternative.headers = headers + alternative.headers + tail
        alternative.preamble = b"This is a multipart message in MIME format.\n"
        top = alternative
    return Written(top.render(), message_id)


# --- Foxmail ------------------------------------------------------------------------------

def _foxmail_html(text: str, signature: str) -> str:
    paragraphs = "".join(f"<div><span>{html.escape(p)}</span></div>" if p else "<div><br></div>"
                         for p in _paragraphs(text))
    return (
        '<html><head><meta http-equiv="content-type" content="text/html; charset=GB2312">'
        "<style>body { line-height: 1.5; }body { font-size: 10.5pt; font-family: 微软雅黑; "
        "color: rgb(0, 0, 0); line-height: 1.5; }</style></head><body>\n"
        f"{paragraphs}\n<div><br></div><hr style=\"width: 210px; height: 1px;\" "
        'color="#b5c4df" size="1" align="left">\n<div><span><div style="MARGIN: 10px; '
        f'FONT-FAMILY: verdana; FONT-SIZE: 10pt"><div>{html.escape(signature)}</div></div>'
        "</span></div>\n</body></html>"
    )


def foxmail(draft: Draft) -> Written:
    sent = draft.sent_at
    message_id = f"<{sent:%Y%m%d%H%M%S}{digits(draft.key, 7)}@{draft.domain}>"
    outer = f"----=_001_NextPart{digits(draft.key + 'outer', 12)}_=----"
    inner = f"----=_002_NextPart{digits(draft.key + 'inner', 12)}_=----"
    signature = draft.sender
    plain = f"{draft.text}\n\n\n\n{signature}\n"
    text = Part([("Content-Type", 'text/plain;\n\tcharset="GB2312"'),
                 ("Content-Transfer-Encoding", "base64")], b64(plain.encode("gbk")))
    markup = Part([("Content-Type", 'text/html;\n\tcharset="GB2312"'),
                   ("Content-Transfer-Encoding", "quoted-printable")],
                  qp(_foxmail_html(draft.text, signature).encode("gbk")))
    alternative = Part([("Content-Type", f'multipart/alternative;\n\tboundary="{inner}"')],
                       children=[text, markup], boundary=inner, gap=True)
    attachments = []
    for item in draft.attachments:
        name = encode_header(item.filename, "GB2312", "gbk")
        attachments.append(Part([
            ("Content-Type", f'application/octet-stream;\n\tname="{name}"'),
            ("Content-Transfer-Encoding", "base64"),
            ("Content-Disposition", f'attachment;\n\tfilename="{name}"'),
        ], b64(item.data)))
    headers: list[Header] = [
        ("Date", rfc5322_date(sent)),
        ("From", f"{encode_header(draft.sender_name, 'GB2312', 'gbk')} <{draft.sender}>"),
        ("To", f"{draft.to.split('@')[0]} <{draft.to}>"),
        ("Subject", encode_header(draft.subject, "GB2312", "gbk")),
        *_threading(draft),
        ("X-Priority", "3"),
        ("X-Has-Attach", "yes" if attachments else "no"),
        ("X-Mailer", "Foxmail 7.2.9.156[cn]"),
        ("Mime-Version", "1.0"),
        ("Message-ID", message_id),
        *draft.extra_headers,
    ]
    preamble = b"This is a multi-part message in MIME format.\n"
    if attachments:
        top = Part(headers + [("Content-Type", f'multipart/mixed;\n\tboundary="{outer}"')],
                   children=[alternative, *attachments], boundary=outer, preamble=preamble,
                   gap=True)
    else:
        alternative.headers = headers + alternative.headers
        alternative.preamble = preamble
        top = alternative
    return Written(top.render(), message_id)


# --- Coremail (126.com / 163.com webmail) ---------------------------------------------------

def _coremail_html(text: str) -> str:
    paragraphs = "".join(f"<div>{html.escape(p) or '<br>'}</div>" for p in _paragraphs(text))
    return ('<div style="line-height:1.7;color:#000000;font-size:14px;font-family:Arial">'
            f'{paragraphs}</div><br><br><span title="neteasefooter"><p>&nbsp;</p></span>')


def _coremail(draft: Draft, site: str, label: str) -> Written:
    millis = int(draft.sent_at.timestamp() * 1000)
    message_id = (f"<{digest(draft.key, 8)}.{digest(draft.key + 'b', 4)}.{millis:x}"
                  f".Coremail.{draft.sender}>")
    serial = int(digest(draft.key + "part", 6), 16) % 900000 + 100000
    outer = f"----=_Part_{serial}_{digits(draft.key + 'o', 10)}.{millis}"
    inner = f"----=_Part_{serial + 2}_{digits(draft.key + 'i', 10)}.{millis}"
    codec = "gbk" if label == "GBK" else "utf-8"
    text = Part([("Content-Type", f"text/plain; charset={label}"),
                 ("Content-Transfer-Encoding", "base64")], b64(draft.text.encode(codec)))
    markup = Part([("Content-Type", f"text/html; charset={label}"),
                   ("Content-Transfer-Encoding", "base64")],
                  b64(_coremail_html(draft.text).encode(codec)))
    alternative = Part([("Content-Type", f'multipart/alternative; \n\tboundary="{inner}"')],
                       children=[text, markup], boundary=inner)
    attachments = []
    for item in draft.attachments:
        name = encode_header(item.filename, label, codec, limit=998)
        attachments.append(Part([
            ("Content-Type", f'{item.content_type}; \n\tname="{name}"'),
            ("Content-Transfer-Encoding", "base64"),
            ("Content-Disposition", f'attachment; \n\tfilename="{name}"'),
        ], b64(item.data)))
    name = encode_header(draft.sender_name, label, codec, limit=998)
    headers: list[Header] = [
        ("Date", rfc5322_date(draft.sent_at, zone_comment="CST")),
        ("From", f'"{name}" <{draft.sender}>'),
        ("To", draft.to),
        ("Message-ID", message_id),
        *_threading(draft),
        ("Subject", encode_header(draft.subject, label, codec, limit=998)),
        ("MIME-Version", "1.0"),
    ]
    tail: list[Header] = [
        ("X-Originating-IP", f"[203.0.113.{int(digest(draft.key + 'ip', 2), 16) % 250 + 2}]"),
        ("X-Priority", "3"),
        ("X-Mailer", "Coremail Webmail Server Version SP_ntes V3.5 build 20190401(b5cc4c0e) "
                     f"Copyright (c) 2002-2019 www.mailtech.cn {site}com"),
        ("X-CM-CTRLDATA", digest(draft.key + "ctrl", 32)),
        *draft.extra_headers,
    ]
    if attachments:
        top = Part(headers + [("Content-Type", f'multipart/mixed; \n\tboundary="{outer}"')]
                   + tail, children=[alternative, *attachments], boundary=outer)
    else:
        alternative.headers = headers + alternative.headers + tail
        top = alternative
    return Written(top.render(), message_id)


def coremail126(draft: Draft) -> Written:
    return _coremail(draft, "126", "GBK")


def coremail163(draft: Draft) -> Written:
    return _coremail(draft, "163", "UTF-8")


# --- QQ Mail / Tencent Exmail -------------------------------------------------------------

def qqmail(draft: Draft) -> Written:
    stamp = f"{int(draft.sent_at.timestamp()):08X}"
    tag = digest(draft.key, 16).upper()
    outer = f"----=_NextPart_{stamp}_{tag[:8]}_{tag[8:]}"
    inner = f"----=_NextPart_{stamp}_{tag[8:]}_{tag[:8]}"
    message_id = f"<tencent_{digest(draft.key + 'qq', 24).upper()}@qq.com>"
    markup_text = ('<meta http-equiv="Content-Type" content="text/html; charset=GB18030">'
                   + "".join(f"<div>{html.escape(p) or '<br>'}</div>"
                             for p in _paragraphs(draft.text)))
    text = Part([("Content-Type", 'text/plain;\n\tcharset="gb18030"'),
                 ("Content-Transfer-Encoding", "base64")], b64(draft.text.encode("gb18030")))
    markup = Part([("Content-Type", 'text/html;\n\tcharset="gb18030"'),
                   ("Content-Transfer-Encoding", "base64")], b64(markup_text.encode("gb18030")))
    alternative = Part([("Content-Type", f'multipart/alternative;\n\tboundary="{inner}"')],
                       children=[text, markup], boundary=inner, gap=True)
    attachments = []
    for item in draft.attachments:
        name = encode_header(item.filename, "gb18030", limit=998)
        attachments.append(Part([
            ("Content-Type", f'application/octet-stream;\n\tcharset="gb18030";\n\tname="{name}"'),
            ("Content-Disposition", f'attachment; filename="{name}"'),
            ("Content-Transfer-Encoding", "base64"),
        ], b64(item.data)))
    name = encode_header(draft.sender_name, "gb18030")
    to_name = encoded_words(draft.to.split("@")[0], "gb18030")[0]  # QQ encodes even ASCII
    content_type = (f'multipart/mixed;\n\tboundary="{outer}"' if attachments
                    else f'multipart/alternative;\n\tboundary="{inner}"')
    headers: list[Header] = [
        ("From", f'"{name}" <{draft.sender}>'),
        ("To", f'"{to_name}" <{draft.to}>'),
        ("Subject", encode_header(draft.subject, "gb18030")),
        *_threading(draft),
        ("Mime-Version", "1.0"),
        ("Content-Type", content_type),
        ("Content-Transfer-Encoding", "8Bit"),
        ("Date", rfc5322_date(draft.sent_at)),
        ("X-Priority", "3"),
        ("Message-ID", message_id),
        ("X-QQ-MIME", "TCMime 1.0 by Tencent"),
        ("X-Mailer", "QQMail 2.x"),
        ("X-QQ-Mailer", "QQMail 2.x"),
        *draft.extra_headers,
    ]
    preamble = b"This is a multi-part message in MIME format.\n"
    if attachments:
        top = Part(headers, children=[alternative, *attachments], boundary=outer,
                   preamble=preamble, gap=True)
    else:
        alternative.headers = headers
        alternative.preamble = preamble
        top = alternative
    return Written(top.render(), message_id)


# --- Thunderbird --------------------------------------------------------------------------

def thunderbird(draft: Draft) -> Written:
    key = digest(draft.key + "tb", 32)
    message_id = f"<{key[:8]}-{key[8:12]}-{key[12:16]}-{key[16:20]}-{key[20:]}@{draft.domain}>"
    boundary = "------------" + digest(draft.key + "tbb", 24).upper()
    for line in draft.text.split("\n"):
        assert len(line.encode("utf-8")) < 998, "an 8bit line must stay under 998 octets"
    text = Part([("Content-Type", "text/plain; charset=utf-8; format=flowed"),
                 ("Content-Transfer-Encoding", "8bit"),
                 ("Content-Language", "zh-CN")], draft.text.encode("utf-8") + b"\n")
    attachments = []
    for item in draft.attachments:
        if item.filename.isascii():
            type_name, disposition = f'name="{item.filename}"', f'filename="{item.filename}"'
        else:
            type_name = f'name="{encode_header(item.filename, "UTF-8", fold=chr(10) + " ")}"'
            disposition = ";\n ".join(rfc2231("filename", item.filename))
        attachments.append(Part([
            ("Content-Type", f"{item.content_type};\n {type_name}"),
            ("Content-Transfer-Encoding", "base64"),
            ("Content-Disposition", f"attachment;\n {disposition}"),
        ], b64(item.data)))
    headers: list[Header] = [
        ("To", draft.to),
        ("From", f"{encode_header(draft.sender_name, 'UTF-8', fold=chr(10) + ' ')} "
                 f"<{draft.sender}>"),
        ("Subject", encode_header(draft.subject, "UTF-8", fold="\n ")),
        ("Message-ID", message_id),
        *_threading(draft),
        ("Date", rfc5322_date(draft.sent_at)),
        ("User-Agent", "Mozilla/5.0 (Windows NT 10.0; WOW64; rv:60.0) Gecko/20100101\n"
                       " Thunderbird/60.6.1"),
        ("MIME-Version", "1.0"),
        *draft.extra_headers,
    ]
    if attachments:
        text.headers = text.headers[:2]
        top = Part(headers + [("Content-Type", f'multipart/mixed;\n boundary="{boundary}"'),
                              ("Content-Language", "zh-CN")],
                   children=[text, *attachments], boundary=boundary,
                   preamble=b"This is a multi-part message in MIME format.\n")
    else:
        text.headers = headers + text.headers
        top = text
    return Written(top.render(), message_id)


# --- iPhone Mail --------------------------------------------------------------------------

def iphone(draft: Draft) -> Written:
    key = digest(draft.key + "apple", 32).upper()
    uuid = f"{key[:8]}-{key[8:12]}-{key[12:16]}-{key[16:20]}-{key[20:]}"
    message_id = f"<{uuid}@{draft.domain}>"
    boundary = f"Apple-Mail-{digest(draft.key + 'amb', 32).upper()[:8]}-{uuid[9:]}"
    signature = "发自我的iPhone"
    headers: list[Header] = [
        ("From", f"{encode_header(draft.sender_name, 'utf-8')} <{draft.sender}>"),
        ("Mime-Version", "1.0 (1.0)"),
        ("Date", rfc5322_date(draft.sent_at)),
        ("Subject", encode_header(draft.subject, "utf-8")),
        ("Message-Id", message_id),
        *_threading(draft),
        ("To", draft.to),
        ("X-Mailer", "iPhone Mail (16E227)"),
        *draft.extra_headers,
    ]
    if not draft.attachments:
        body = f"{draft.text}\n\n{signature}".encode()
        top = Part([("Content-Type", "text/plain;\n\tcharset=utf-8"),
                    ("Content-Transfer-Encoding", "quoted-printable"), *headers], qp(body))
        return Written(top.render(), message_id)
    children = [Part([("Content-Type", "text/plain;\n\tcharset=utf-8"),
                      ("Content-Transfer-Encoding", "quoted-printable")],
                     qp(draft.text.encode() + b"\n"))]
    for number, item in enumerate(draft.attachments):
        part_url = f"{digest(draft.key + str(number), 8).upper()}-{uuid[9:]}"
        if item.filename.isascii():
            type_name, disposition = f"name={item.filename}", f"filename={item.filename}"
        else:
            type_name = f'name="{encode_header(item.filename, "utf-8", limit=998)}"'
            disposition = rfc2231("filename", item.filename, charset="utf-8", width=998)[0]
        children.append(Part([
            ("Content-Type", f"{item.content_type};\n\t{type_name};\n\t"
                             f"x-apple-part-url={part_url}"),
            ("Content-Disposition", f"inline;\n\t{disposition}"),
            ("Content-Transfer-Encoding", "base64"),
        ], b64(item.data)))
    children.append(Part([("Content-Type", "text/plain;\n\tcharset=utf-8"),
                          ("Content-Transfer-Encoding", "base64")],
                         b64(f"\n\n{signature}".encode())))
    top = Part([("Content-Type", f"multipart/mixed; boundary={boundary}"),
                ("Content-Transfer-Encoding", "7bit"), *headers],
               children=children, boundary=boundary, gap=True)
    return Written(top.render(), message_id)


# --- an old client that writes raw GBK into the headers ------------------------------------

def legacy(draft: Draft) -> Written:
    """Subject, display name and file names as raw 8-bit GBK, body 8bit GBK."""
    message_id = f"<{draft.sent_at:%Y%m%d%H%M%S}.{digest(draft.key, 6).upper()}@{draft.domain}>"
    boundary = f"=_{digest(draft.key + 'legacy', 20)}"
    text = Part([("Content-Type", 'text/plain; charset="gbk"'),
                 ("Content-Transfer-Encoding", "8bit")], draft.text.encode("gbk") + b"\n")
    attachments = []
    for item in draft.attachments:
        name = item.filename.encode("gbk")
        attachments.append(Part([
            ("Content-Type", item.content_type.encode() + b'; name="' + name + b'"'),
            ("Content-Transfer-Encoding", "base64"),
            ("Content-Disposition", b'attachment; filename="' + name + b'"'),
        ], b64(item.data)))
    headers: list[Header] = [
        ("From", b'"' + draft.sender_name.encode("gbk") + b'" <' + draft.sender.encode() + b">"),
        ("To", draft.to),
        ("Subject", draft.subject.encode("gbk")),
        ("Date", rfc5322_date(draft.sent_at)),
        ("Message-ID", message_id),
        *_threading(draft),
        ("MIME-Version", "1.0"),
        *draft.extra_headers,
    ]
    if attachments:
        top = Part(headers + [("Content-Type", f'multipart/mixed; boundary="{boundary}"')],
                   children=[text, *attachments], boundary=boundary)
    else:
        text.headers = headers + text.headers
        top = text
    return Written(top.render(), message_id)


CLIENTS: dict[str, Callable[[Draft], Written]] = {
    "outlook": outlook,
    "foxmail": foxmail,
    "coremail126": coremail126,
    "coremail163": coremail163,
    "qqmail": qqmail,
    "thunderbird": thunderbird,
    "iphone": iphone,
    "legacy": legacy,
}


def delivered(raw: bytes, *, envelope_from: str, received_at: datetime, key: str,
              relay: tuple[str, datetime] | None = None) -> bytes:
    """Prepend what the receiving 126.com server adds: Return-Path and Received.
    `relay` = (host, time) adds the sender's own server hop first (e.g. a delayed relay)."""
    ip = f"198.51.100.{int(digest(key + 'mx', 2), 16) % 250 + 2}"
    smtp_id = digest(key + "smtpid", 20)
    lines = [
        b"Return-Path: <" + envelope_from.encode() + b">\n",
        (f"Received: from {relay[0] if relay else 'mail.example.cn'} (unknown [{ip}])\n"
         f"\tby mx{int(digest(key + 'n', 2), 16) % 40 + 1} (Coremail) with SMTP id "
         f"{smtp_id};\n\t{rfc5322_date(received_at, zone_comment='CST')}\n").encode(),
    ]
    if relay:
        host, when = relay
        lines.append((f"Received: from [203.0.113.77] by {host} with ESMTPSA;\n"
                      f"\t{rfc5322_date(when)}\n").encode())
    return b"".join(lines) + raw

