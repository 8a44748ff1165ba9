"""The confirmation code of a held command mail (SPEC "Office commands by mail"), pure:
its alphabet, how a reply's text carries it (`确认码 XXXXXXXX`), and how a reply names our
confirmation request (In-Reply-To). Making a code (secrets) is the handler's."""

from __future__ import annotations

import re

from mailroom.rules.folding import fold

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud, typed again
CODE_LENGTH = 8
CODE_WORD = "确认码"
_CODE = re.compile(rf"{CODE_WORD}\s*[:：]?\s*([A-Za-z0-9]{{{CODE_LENGTH}}})(?![A-Za-z0-9])")

REQUEST_PURPOSE = "confirm-request"  # the request's outbox purpose, X-Mailroom, Message-ID


def request_ids(in_reply_to: str) -> list[str]:
    """The Message-IDs of our confirmation requests an In-Reply-To names (compose.message_id
    makes them `mailroom.confirm-request.…@domain`)."""
    return [ref for ref in re.findall(r"<([^<>\s]+)>", in_reply_to)
            if ref.startswith(f"mailroom.{REQUEST_PURPOSE}.")]


def find_codes(text: str) -> list[str]:
    """The confirmation codes `text` names after the word 确认码, upper-cased, in order,
    once each (a reply quotes the request, so the same code comes twice)."""
    found = (match.group(1).upper() for match in _CODE.finditer(fold(text)))
    return list(dict.fromkeys(code for code in found if _is_code(code)))


def _is_code(text: str) -> bool:
    return len(text) == CODE_LENGTH and all(c in CODE_ALPHABET for c in text)
