"""What a reporter wrote (`Draft`, its `Attachment`s) and what a mail program made of it
(`Written`), with the few habits every client shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailroom.sample.mime import Header

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


def threading_headers(draft: Draft) -> list[Header]:
    """In-Reply-To and References, when the draft answers a mail."""
    headers: list[Header] = []
    if draft.in_reply_to:
        headers.append(("In-Reply-To", draft.in_reply_to))
    if draft.references:
        headers.append(("References", "\n\t".join(draft.references)))
    return headers


def paragraphs_of(text: str) -> list[str]:
    return text.split("\n")

