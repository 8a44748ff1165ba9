"""The typed message mailroom works on, built from raw bytes (see parse_letter)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Attachment:
    filename: str  # decoded original name; "" when the part had none
    content_type: str
    payload: bytes
    sha256: str
    is_message: bool = False  # an attached message/rfc822 (its filename is subject + ".eml")


@dataclass(frozen=True)
class Letter:
    raw_sha256: str
    message_id: str  # without angle brackets; "" when absent
    sender: str  # lower-cased address from From (falls back to Sender / Return-Path); "" if none
    sender_name: str
    recipients: tuple[str, ...]
    subject: str  # decoded, whitespace folded
    date: datetime | None  # the Date header, when parseable
    received_at: datetime  # INTERNALDATE / delivery time; what months are counted by
    body: str  # text body; HTML turned to text when that is all there is
    attachments: tuple[Attachment, ...]
    headers: dict[str, tuple[str, ...]]  # lower-cased header name -> decoded values, in order
    content_type: str  # of the top-level part, lower-case, e.g. "multipart/report"
    return_path: str | None  # None: no Return-Path header; "": the null path <>
    parse_warnings: tuple[str, ...] = field(default=())

    def header(self, name: str) -> str:
        """The first value of a header ("" when absent)."""
        values = self.headers.get(name.lower())
        return values[0] if values else ""

    def has_header(self, name: str) -> bool:
        return name.lower() in self.headers
