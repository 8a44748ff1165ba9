"""Turn the labelled set into the mails the reporters' programs send, and a Maildir.

Each item becomes a `Draft` written by its reporter's client (`mailroom.sample.clients`:
Outlook, Foxmail, 126/163 webmail, QQ, Thunderbird, iPhone, an old GBK client), with real
attachments: a .docx (`mailroom.sample.payloads.docx`), a text PDF (reportlab with the
STSong-Light CID font, which pypdf reads back), a .txt (GBK from the old client, else UTF-8
with a BOM, as Notepad writes them), a scanned signed draft (image-only PDF), photos.
Everything is a pure function of the data: the same set gives the same bytes.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from dedupe_set.compose import (
    MAILBOX,
    office_reply_time,
    own_body,
    paragraphs,
    pick,
    signature,
    subject,
    wrapped_body,
)
from dedupe_set.data import Item, LabelledSet
from mailroom.sample.clients import CLIENTS, Attachment, Draft, delivered
from mailroom.sample.mime import digest
from mailroom.sample.payloads import docx, jpeg, legacy_doc, scan_pdf

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HOST = "mailroom-dedupe"
pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))


@dataclass(frozen=True)
class BuiltMail:
    item: Item
    received_at: datetime  # with seconds: the Maildir delivery time
    raw: bytes

    @property
    def maildir_name(self) -> str:
        ts = int(self.received_at.timestamp())
        number = int(digest(self.item.id, 6), 16)
        return f"{ts}.M{number % 1000000}P{2000 + number % 7000}.{HOST},S={len(self.raw)}:2,S"


def text_pdf(title: str, lines: list[str], *, per_line: int = 34) -> bytes:
    """A4, title then paragraphs wrapped at `per_line` characters, as Word's "save as PDF"
    of a short item looks; reportlab's invariant mode keeps the bytes stable."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    page.setTitle(title)
    width, height = A4
    y = height - 80

    def line(text: str, size: int, x: float) -> None:
        nonlocal y
        if y < 72:
            page.showPage()
            y = height - 72
        page.setFont("STSong-Light", size)
        page.drawString(x, y, text)
        y -= size * 1.6

    line(title, 16, 72)
    y -= 10
    for paragraph in lines:
        chunks = [paragraph[i:i + per_line] for i in range(0, len(paragraph), per_line)] or [""]
        for n, chunk in enumerate(chunks):
            line(chunk, 12, 96 if n == 0 else 72)
    page.save()
    return buffer.getvalue()


def _names(item: Item) -> tuple[str, str]:
    unit, title = item.reporter.unit, item.shown_title
    base = (f"{unit}+{title}", f"{unit}+{title}", title)[pick(item.id, "file", 3)]
    return base, unit


def attachments(item: Item, sent: datetime) -> tuple[Attachment, ...]:
    base, _unit = _names(item)
    lines = paragraphs(item) + [signature(item)]
    out: list[Attachment] = []
    photos = 0
    for kind in item.attachments:
        if kind == "docx":
            data = docx(item.shown_title, lines, author=item.reporter.name,
                        created=sent - timedelta(minutes=35))
            out.append(Attachment(f"{base}.docx", DOCX, data))
        elif kind == "doc":
            out.append(Attachment(f"{base}.doc", "application/msword",
                                  legacy_doc(item.shown_title, lines)))
        elif kind == "pdf":
            out.append(Attachment(f"{base}.pdf", "application/pdf",
                                  text_pdf(item.shown_title, lines)))
        elif kind == "txt":
            text = "\r\n".join([item.shown_title, "", *lines]) + "\r\n"
            data = (text.encode("gbk") if item.reporter.client == "legacy"
                    else text.encode("utf-8-sig"))
            out.append(Attachment(f"{base}.txt", "text/plain", data))
        elif kind == "scan":
            name = ("签字稿.pdf", f"{base}（签字稿）.pdf")[pick(item.id, "scan", 2)]
            out.append(Attachment(name, "application/pdf",
                                  scan_pdf(item.id, created=sent - timedelta(minutes=10))))
        else:
            photos += 1
            name = (f"现场照片{photos}.jpg" if item.reporter.client != "iphone"
                    else f"IMG_{item.received_at:%Y%m%d}_{photos:02d}.JPG")
            out.append(Attachment(name, "image/jpeg",
                                  jpeg(f"{item.id}-{photos}", comment=f"{item.id} {name}")))
    return tuple(out)


def _sent_and_received(item: Item) -> tuple[datetime, datetime]:
    received = item.received_at + timedelta(seconds=pick(item.id, "second", 60))
    return received - timedelta(seconds=4 + pick(item.id, "delay", 50)), received


def build_mail(item: Item, labelled: LabelledSet) -> BuiltMail:
    sent, received = _sent_and_received(item)
    quoted = labelled.by_id[item.of] if item.of else None
    if item.wrap and quoted is not None:
        quoted_sent, _ = _sent_and_received(quoted)
        body = wrapped_body(item, quoted, own_body(quoted))
        files = (attachments(quoted, quoted_sent) if item.wrap == "forward"
                 else attachments(item, sent))
    else:
        body, files = own_body(item), attachments(item, sent)
    in_reply_to = ""
    if item.wrap in ("reply", "answer") and quoted is not None:
        in_reply_to = f"<{digest(quoted.id + 'ask', 12)}.{office_reply_time(quoted):%s}" \
                      f".Coremail.{MAILBOX}>"
    r = item.reporter
    draft = Draft(key=f"dedupe-{labelled.variant}-{item.id}", sender=r.address,
                  sender_name=r.name, subject=subject(item, quoted), text=body, sent_at=sent,
                  attachments=files, in_reply_to=in_reply_to,
                  references=(in_reply_to,) if in_reply_to else ())
    written = CLIENTS[r.client](draft)
    raw = delivered(written.raw, envelope_from=r.address, received_at=received,
                    key=f"{labelled.variant}-{item.id}")
    return BuiltMail(item, received, raw)


def build_mails(labelled: LabelledSet) -> list[BuiltMail]:
    return [build_mail(item, labelled) for item in labelled.items]


def write_maildir(mails: list[BuiltMail], path: Path) -> None:
    """A Maildir whose file names start with the delivery time (SPEC "Months")."""
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    for mail in mails:
        target = path / "cur" / mail.maildir_name
        target.write_bytes(mail.raw)
        stamp = mail.received_at.timestamp()
        os.utime(target, (stamp, stamp))
