"""The source protocol every mailbox implements, and the fetched mail it yields."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class MailKey:
    """Where a mail sits: the mailbox, its UIDVALIDITY (0 for Maildir) and the mail's UID.

    For IMAP `uid` is the message UID as text; for Maildir it is the file's unique name.
    """

    mailbox: str
    uidvalidity: int
    uid: str


@dataclass(frozen=True)
class FetchedMail:
    key: MailKey
    raw: bytes
    received_at: datetime  # IMAP INTERNALDATE / Maildir delivery time, timezone-aware
    sort_uid: int = 0  # the numeric UID, for ordering within one INTERNALDATE


class MailSource(Protocol):
    """A mailbox that hands out unprocessed mail and files it away afterwards."""

    name: str  # stable identity of the mailbox, stored with every message

    def fetch(self, batch_size: int = 50) -> Iterator[list[FetchedMail]]:
        """Yield batches of the mail waiting in the inbox, each sorted by (received_at, uid)."""
        ...

    def mark_processed(self, keys: Sequence[MailKey]) -> None:
        """Move these mails to the processed folder (never delete)."""
        ...

    def mark_failed(self, keys: Sequence[MailKey]) -> None:
        """Move these mails to the failed folder (never delete)."""
        ...

    def supports_idle(self) -> bool:
        """Whether wait_for_mail can block until mail arrives (IMAP IDLE)."""
        ...

    def wait_for_mail(self, timeout: float) -> bool:
        """Block until new mail may be there (IMAP IDLE) or `timeout`; False when the
        source cannot wait for mail, so the caller polls at its interval instead."""
        ...

    def close(self) -> None: ...
