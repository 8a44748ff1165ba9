"""One exception tree: every error mailroom raises on purpose is a MailroomError."""

from __future__ import annotations


class MailroomError(Exception):
    """Base of every error mailroom raises on purpose; the message tells the admin what to do."""


class ConfigError(MailroomError):
    """The config file is missing, unreadable or invalid (CLI exit code 2)."""


class MailboxError(MailroomError):
    """The mailbox (IMAP server or Maildir) could not be reached or used."""


class ConnectError(MailboxError):
    """Connecting or logging in failed; `stage` says where (dns, tcp, tls, login, id, select)."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(message)
        self.stage = stage


class ParseError(MailroomError):
    """A message could not be parsed at all."""


class StoreError(MailroomError):
    """The database or the file store failed."""


class InvalidInput(MailroomError):
    """A command's arguments name something that does not exist or cannot be done (exit 2)."""


class ReviewError(InvalidInput):
    """An office review that cannot be applied (unknown number, a later first report…)."""
