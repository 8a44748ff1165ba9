"""How the desktop mail programs write a message: Outlook 2016, Foxmail 7.2, Thunderbird 60
and an old client that puts raw GBK bytes into the headers (see `clients` for the table)."""

from __future__ import annotations

import html

from mailroom.sample.draft import Attachment, Draft, Written, paragraphs_of, threading_headers
from mailroom.sample.mime import (
    Header,
    Part,
    b64,
    digest,
    digits,
    encode_header,
    qp,
    rfc2231,
    rfc5322_date,
)

# --- Outlook ------------------------------------------------------------------------------

def _outlook_html(text: str) -> str:
    paragraphs = "".join(
        f"<p class=MsoNormal><span style='font-family:宋体'>{html.escape(p) or '&nbsp;'}"
        "<span lang=EN-US><o:p></o:p></span></span></p>" for p in paragraphs_of(text))
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
        *threading_headers(draft),
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
                         for p in paragraphs_of(text))
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
        *threading_headers(draft),
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
        *threading_headers(draft),
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
        *threading_headers(draft),
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
