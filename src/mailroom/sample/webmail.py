"""How the webmail services write a message: Coremail (126.com, 163.com) and QQ Mail /
Tencent Exmail (see `clients` for the table)."""

from __future__ import annotations

import html

from mailroom.sample.draft import Draft, Written, paragraphs_of, threading_headers
from mailroom.sample.mime import (
    Header,
    Part,
    b64,
    digest,
    digits,
    encode_header,
    encoded_words,
    rfc5322_date,
)

# --- Coremail (126.com / 163.com webmail) ---------------------------------------------------

def _coremail_html(text: str) -> str:
    paragraphs = "".join(f"<div>{html.escape(p) or '<br>'}</div>" for p in paragraphs_of(text))
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
        *threading_headers(draft),
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
                             for p in paragraphs_of(draft.text)))
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
        *threading_headers(draft),
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

