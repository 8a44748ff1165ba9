"""May we reply to this mail? (RFC 3834, SPEC R6 "never a loop"). One small rule each.

The classifier already keeps bounces, auto-replies and list mail out of the submissions;
these rules are the last guard before anything is queued to a sender, so they check the
same signs again, plus the rate cap and the backlog cut-off. Each rule returns why we
must not reply, or None. Pure: the caller counts what was already sent and passes it in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from mailroom.parsing.letter import Letter

_NO_REPLY_LOCALPART = re.compile(
    r"^(mailer-daemon|mail-daemon|mailerdaemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply"
    r"|bounces?|notifications?-?noreply)([+-].*)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ReplyContext:
    own_addresses: frozenset[str]
    now: datetime
    sent_in_hour: int  # replies already queued to this sender for mail of the hour before
    max_per_hour: int  # [receipts] max_per_sender_per_hour; 0 = no reply at all
    skip_older_than_hours: int  # 0 = off


Rule = Callable[[Letter, ReplyContext], str | None]


def no_sender(letter: Letter, context: ReplyContext) -> str | None:
    return None if "@" in letter.sender else "no usable sender address"


def null_return_path(letter: Letter, context: ReplyContext) -> str | None:
    return "null return path <>" if letter.return_path == "" else None


def own_address(letter: Letter, context: ReplyContext) -> str | None:
    if letter.sender.lower() in context.own_addresses:
        return f"sent from our own address {letter.sender}"
    return None


def no_reply_address(letter: Letter, context: ReplyContext) -> str | None:
    localpart = letter.sender.split("@", 1)[0]
    return f"no-reply address {letter.sender}" if _NO_REPLY_LOCALPART.match(localpart) else None


def list_headers(letter: Letter, context: ReplyContext) -> str | None:
    found = sorted(name for name in letter.headers if name.startswith("list-"))
    return f"list headers: {', '.join(found)}" if found else None


def precedence(letter: Letter, context: ReplyContext) -> str | None:
    value = letter.header("Precedence").strip().lower()
    return f"Precedence: {value}" if value in ("bulk", "junk", "list", "auto_reply") else None


def auto_submitted(letter: Letter, context: ReplyContext) -> str | None:
    value = letter.header("Auto-Submitted").strip().lower()
    if value and value.split(";", 1)[0].strip() != "no":
        return f"Auto-Submitted: {value}"
    return None


def rate_cap(letter: Letter, context: ReplyContext) -> str | None:
    if context.sent_in_hour >= context.max_per_hour:
        return (f"rate cap: {context.sent_in_hour} replies to {letter.sender} within the hour "
                f"(max_per_sender_per_hour = {context.max_per_hour})")
    return None


def too_old(letter: Letter, context: ReplyContext) -> str | None:
    hours = context.skip_older_than_hours
    if hours and context.now - letter.received_at > timedelta(hours=hours):
        return f"received more than {hours} h before processing (skip_older_than_hours)"
    return None


RULES: Sequence[Rule] = (
    no_sender, null_return_path, own_address, no_reply_address, list_headers, precedence,
    auto_submitted, too_old, rate_cap,
)


def why_not_reply(letter: Letter, context: ReplyContext) -> str | None:
    """The first reason not to reply to `letter`, or None when a reply is allowed."""
    for rule in RULES:
        reason = rule(letter, context)
        if reason is not None:
            return reason
    return None
