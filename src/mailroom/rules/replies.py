"""May we reply to this mail? (RFC 3834, SPEC R6 "never a loop"). One small rule each.

The classifier already keeps bounces, auto-replies and list mail out of the submissions;
these rules are the last guard before anything is queued to a sender, so they check the
same signs again (``automatic``: the one definition of each), plus our own address, the
rate cap and the backlog cut-off. Each rule returns why we
must not reply, or None. Pure: the caller counts what was already sent and passes it in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from mailroom.parsing.letter import Letter
from mailroom.rules import automatic


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
    return automatic.null_return_path(letter)


def own_address(letter: Letter, context: ReplyContext) -> str | None:
    if letter.sender.lower() in context.own_addresses:
        return f"sent from our own address {letter.sender}"
    return None


def no_reply_address(letter: Letter, context: ReplyContext) -> str | None:
    return automatic.no_reply_address(letter.sender)


def list_mail(letter: Letter, context: ReplyContext) -> str | None:
    return automatic.list_headers(letter) or automatic.bulk_precedence(letter)


def auto_reply(letter: Letter, context: ReplyContext) -> str | None:
    return automatic.auto_submitted(letter) or automatic.auto_reply_headers(letter)


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
    no_sender, null_return_path, own_address, no_reply_address, list_mail, auto_reply,
    too_old, rate_cap,
)


def why_not_reply(letter: Letter, context: ReplyContext) -> str | None:
    """The first reason not to reply to `letter`, or None when a reply is allowed."""
    for rule in RULES:
        reason = rule(letter, context)
        if reason is not None:
            return reason
    return None
