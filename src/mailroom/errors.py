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


class DecisionError(InvalidInput):
    """An office decision (adopt, unadopt, 批示, assign, review) that cannot be made.

    `code` names the reason for the callers that word it themselves (the Chinese reply to
    a command mail): unknown_number, unknown_channel, ambiguous_channel, no_channels,
    already_adopted, not_adopted, not_counting (adopt / 批示 of an item that does not
    count), still_adopted, no_leader, already_instructed, unknown_unit, not_unassigned,
    review_refused. `facts` are the
    values that wording needs (number, channel, channels, status, first, unit, units…);
    `str(error)` is the English one-line message the CLI prints."""

    def __init__(self, code: str, message: str, **facts: str) -> None:
        super().__init__(message)
        self.code = code
        self.facts: dict[str, str] = facts
