"""What kind of mail is this? One small rule per kind, tried in SPEC order; first match wins.

Kinds (SPEC "Kinds"): own, bounce, auto-reply, list, command, roster, submission. The
kind `failed` is given by the pipeline, never by a rule. Rules are pure: they look at the
parsed Letter and a ClassifyContext and return a reason string when they match.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mailroom.parsing.letter import Letter
from mailroom.rules import automatic
from mailroom.rules.commands import COMMAND_WORDS, command_word
from mailroom.rules.confirmation import find_codes, request_ids

__all__ = ["COMMAND_WORDS", "Classification", "ClassifyContext", "classify", "command_word"]

OWN_HEADER = "X-Mailroom"
SUBMISSION = "submission"


@dataclass(frozen=True)
class ClassifyContext:
    own_addresses: frozenset[str]
    office_addresses: frozenset[str]
    is_roster_subject: bool  # from the subject rules (R7)


@dataclass(frozen=True)
class Classification:
    kind: str
    reason: str  # why the rule matched, for the record


Rule = Callable[[Letter, ClassifyContext], str | None]

_BOUNCE_SUBJECT = re.compile(
    r"^(undeliverable|undelivered mail|delivery status notification|delivery failure|"
    r"mail delivery failed|returned mail|failure notice|系统退信|邮件投递失败|投递失败)",
    re.IGNORECASE,
)
_AUTO_REPLY_SUBJECT = re.compile(
    r"^(自动回复|自动答复|auto(matic)?[ -]?reply|auto:|autoreply|out of (the )?office|"
    r"外出|休假自动)",
    re.IGNORECASE,
)


def own_mail(letter: Letter, context: ClassifyContext) -> str | None:
    if letter.has_header(OWN_HEADER):
        return f"carries the {OWN_HEADER} header mailroom puts on what it sends"
    if letter.message_id.startswith("mailroom.") and letter.sender in context.own_addresses:
        return "Message-ID and sender are mailroom's own"
    return None


def bounce(letter: Letter, context: ClassifyContext) -> str | None:
    report_type = letter.header("Content-Type").lower()
    if letter.content_type == "multipart/report" or "report-type=delivery-status" in report_type:
        return "multipart/report (delivery status notification)"
    reason = automatic.null_return_path(letter) or automatic.daemon_address(letter.sender)
    if reason:
        return reason
    if _BOUNCE_SUBJECT.match(letter.subject.strip()):
        return "delivery failure subject"
    return None


def auto_reply(letter: Letter, context: ClassifyContext) -> str | None:
    reason = automatic.auto_submitted(letter) or automatic.auto_reply_headers(letter)
    if reason:
        return reason
    if _AUTO_REPLY_SUBJECT.match(letter.subject.strip()):
        return "auto-reply subject"
    return None


def mailing_list(letter: Letter, context: ClassifyContext) -> str | None:
    return automatic.list_headers(letter) or automatic.bulk_precedence(letter)


def office_command(letter: Letter, context: ClassifyContext) -> str | None:
    """A command (the subject starts with a command word, after Re:/回复：), or the reply
    confirming a held command mail: it carries a 确认码 or answers our confirmation
    request. Only from an office address."""
    if letter.sender not in context.office_addresses:
        return None
    word = command_word(letter.subject)
    if word:
        return f"office command {word}"
    if request_ids(letter.header("In-Reply-To")):
        return "reply to a command confirmation request"
    if find_codes(letter.subject) or find_codes(letter.body):
        return "carries a command confirmation code (确认码)"
    return None


def roster(letter: Letter, context: ClassifyContext) -> str | None:
    return "subject names 信息员" if context.is_roster_subject else None


RULES: Sequence[tuple[str, Rule]] = (
    ("own", own_mail),
    ("bounce", bounce),
    ("auto-reply", auto_reply),
    ("list", mailing_list),
    ("command", office_command),
    ("roster", roster),
)


def classify(letter: Letter, context: ClassifyContext) -> Classification:
    for kind, rule in RULES:
        reason = rule(letter, context)
        if reason is not None:
            return Classification(kind, reason)
    return Classification(SUBMISSION, "")
