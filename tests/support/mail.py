"""Building test mail as bytes, and writing it into a Maildir."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

_counter = iter(range(1, 1_000_000))


def make_mail(
    subject: str,
    *,
    sender: str = "zfdd@example.cn",
    body: str = "正文内容。",
    date: datetime | None = None,
    attachments: Sequence[tuple[str, bytes]] = (),
    headers: dict[str, str] | None = None,
    to: str = "ynlyj452@126.com",
) -> bytes:
    """A UTF-8 mail as a modern client sends it; attachments as (file name, bytes)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<test.{next(_counter)}@example.cn>"
    if date is not None:
        message["Date"] = format_datetime(date)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for filename, payload in attachments:
        maintype, subtype = _guess_type(filename)
        message.add_attachment(payload, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def _guess_type(filename: str) -> tuple[str, str]:
    extension = filename.rsplit(".", 1)[-1].lower()
    return {
        "pdf": ("application", "pdf"),
        "jpg": ("image", "jpeg"),
        "png": ("image", "png"),
        "docx": ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
    }.get(extension, ("application", "octet-stream"))


def deliver(maildir: Path, raw: bytes, received_at: datetime, name: str | None = None) -> Path:
    """Drop a mail into `maildir/new` named by its delivery time, as an MTA would."""
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    seconds = int(received_at.timestamp())
    path = maildir / "new" / (name or f"{seconds}.M{next(_counter)}P1.test")
    path.write_bytes(raw)
    os.utime(path, (seconds, seconds))
    return path


def maildir_files(maildir: Path, folder: str = "") -> list[Path]:
    """The mails in the inbox (folder "") or a Maildir++ subfolder like ".mailroom.processed"."""
    root = maildir / folder if folder else maildir
    return sorted(p for sub in ("new", "cur") if (root / sub).is_dir()
                  for p in (root / sub).iterdir())


def docx_bytes(text: str) -> bytes:
    """A real .docx (python-docx), one paragraph a line."""
    from docx import Document

    document = Document()
    for line in text.split("\n"):
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
