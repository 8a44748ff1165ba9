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

Each lives with its kind of program: `desktop` (Outlook, Foxmail, Thunderbird, legacy),
`webmail` (Coremail, QQ Mail) and `phone` (iPhone Mail); the `Draft` they take is in
`draft`. Ids and boundaries come from `Draft.key`, so the same draft always gives the same
bytes. `delivered` adds what the bureau's receiving server writes on top.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from mailroom.sample.desktop import foxmail, legacy, outlook, thunderbird
from mailroom.sample.draft import MAILBOX, Attachment, Draft, Written
from mailroom.sample.mime import digest, rfc5322_date
from mailroom.sample.phone import iphone
from mailroom.sample.webmail import coremail126, coremail163, qqmail

__all__ = ["CLIENTS", "MAILBOX", "Attachment", "Draft", "Written", "delivered"]

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
