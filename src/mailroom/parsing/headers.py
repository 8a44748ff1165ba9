"""A mail's header fields: raw and decoded values, addresses, sender, recipients, date, ids.

Values are decoded by ``decode.HeaderDecoder`` (charsets, encoded words, raw 8-bit bytes).
From mail-parser this uses the parts that are right and hardened: the address parser
(``mailparser.utils.get_addresses``: no mailbox invented from an ambiguous header) and the
date parser (``mailparser.dates.parse_mail_date``: obsolete syntax, zones, comments),
falling back to ``email.utils`` for dates. Every oddity is noted in the decoder's notes.
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime, timedelta, timezone
from email.message import Message

from mailparser.dates import parse_mail_date
from mailparser.utils import get_addresses

from mailroom.parsing.decode import HeaderDecoder, fold_spaces, unfold

RawHeaders = dict[str, list[str]]  # lower-cased name -> values as in the mail, in order
Headers = dict[str, tuple[str, ...]]  # lower-cased name -> decoded values, in order

_ANGLE = re.compile(r"<([^<>]*)>")
MIN_YEAR, MAX_YEAR = 1970, 2999  # plausible years of a Date header
_ZONE = re.compile(r"\s*(?:GMT|UTC)?\s*([+-]\d\d):?(\d\d)(?=\s*(?:\(.*\))?$)")  # "GMT+08:00"
_WORD_CHARSET = re.compile(r"=\?([^?*\s]+)[^?\s]*\?[bBqQ]\?")
_ATOMS = r"[^\s<>()\[\]\",;:@]+"
_LOOSE_ADDRESS = re.compile(rf"{_ATOMS}@{_ATOMS}\.{_ATOMS}")
_LOCAL_ONLY = re.compile(r"<?[A-Za-z0-9][A-Za-z0-9._-]*>?")


def raw_headers(message: Message) -> RawHeaders:
    found: RawHeaders = {}
    for name, value in message.raw_items():
        found.setdefault(name.lower(), []).append(str(value))
    return found


def declared_charset(message: Message) -> str | None:
    """A hint for raw 8-bit header bytes: the first text part's charset, else
    the charset of the first encoded word in the header block."""
    for part in message.walk():
        if part.get_content_maintype() == "text":
            charset = part.get_param("charset")
            if isinstance(charset, str):
                return charset
            break
    for _, value in message.raw_items():
        match = _WORD_CHARSET.search(str(value))
        if match:
            return match.group(1)
    return None


def decoded_headers(message: Message, decoder: HeaderDecoder) -> Headers:
    decoded: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        decoded.setdefault(name.lower(), []).append(decoder.header(str(value), name))
    if not decoded:
        decoder.notes.append("no header fields")
    return {name: tuple(values) for name, values in decoded.items()}


def first(headers: Headers, name: str) -> str:
    """The first value of a (lower-case) header, "" when absent."""
    values = headers.get(name)
    return values[0] if values else ""


def subject(headers: Headers) -> str:
    return fold_spaces(first(headers, "subject"))


def message_id(headers: Headers) -> str:
    value = first(headers, "message-id")
    match = _ANGLE.search(value)
    return (match.group(1) if match else value).strip()


def return_path(headers: Headers) -> str | None:
    """None: no Return-Path header; "": the null path <>."""
    if "return-path" not in headers:
        return None
    value = first(headers, "return-path")
    match = _ANGLE.search(value)
    return (match.group(1) if match else value).strip()


def _addresses(value: str, decoder: HeaderDecoder, where: str = "") -> list[tuple[str, str]]:
    """(decoded display name, lower-cased address) pairs of a raw address header.

    mail-parser's structural parser first; when it finds nothing, a header with
    exactly one thing shaped like an address (``Big Bug bb@bug.com``) gives that,
    and a lone local part (``MAILER-DAEMON``) is kept as it is.
    """
    text = decoder.text(unfold(value), where)
    pairs = [
        (fold_spaces(decoder.words(name, where)), address.strip().lower())
        for name, address in get_addresses(text)
        if address.strip()
    ]
    if pairs or not text.strip():
        return pairs
    loose = set(_LOOSE_ADDRESS.findall(text))
    if len(loose) == 1:
        decoder.note(where, "address recovered from a malformed header")
        return [("", loose.pop().lower())]
    if _LOCAL_ONLY.fullmatch(text.strip()):  # "MAILER-DAEMON", as some MTAs write it
        decoder.note(where, "address without a domain")
        return [("", text.strip().strip("<>").lower())]
    return []


def sender(raw: RawHeaders, decoder: HeaderDecoder) -> tuple[str, str]:
    """(address, display name) from From, else Sender, else Return-Path; ("", "") if none."""
    for header in ("From", "Sender", "Return-Path"):
        values = raw.get(header.lower())
        for name, address in _addresses(values[0] if values else "", decoder, header):
            if header != "From":
                decoder.notes.append(f"no From address; sender taken from {header}")
            return address, name
    decoder.notes.append("no sender address")
    return "", ""


def recipients(raw: RawHeaders, decoder: HeaderDecoder) -> tuple[str, ...]:
    found: list[str] = []
    for header in ("To", "Cc"):
        for value in raw.get(header.lower(), []):
            found.extend(address for _, address in _addresses(value, decoder, header))
    return tuple(dict.fromkeys(found))


def date(raw: RawHeaders, decoder: HeaderDecoder) -> datetime | None:
    """The first Date header, timezone-aware in the sender's offset, or None."""
    values = raw.get("date")
    if not values:
        return None
    value = _ZONE.sub(r" \1\2", decoder.text(unfold(values[0]), "Date").strip())
    parsed = _parsed_date(value, decoder)
    if parsed is None or _plausible(parsed, value):
        return parsed
    decoder.notes.append(f"implausible Date ignored: {value[:60]!r}")
    return None


def _parsed_date(value: str, decoder: HeaderDecoder) -> datetime | None:
    result = parse_mail_date(value)
    if result.value is not None:
        offset = timedelta(minutes=round(float(result.timezone) * 60))
        try:
            return result.value.astimezone(timezone(offset))  # type: ignore[no-any-return]
        except (OverflowError, ValueError):
            _note_unparseable(value, decoder)
            return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        _note_unparseable(value, decoder)
        return None
    if parsed.tzinfo is None:
        decoder.notes.append("Date without a time zone; UTC assumed")
        return parsed.replace(tzinfo=UTC)
    return parsed


def _note_unparseable(value: str, decoder: HeaderDecoder) -> None:
    decoder.notes.append(f"unparseable Date: {value[:60]!r}")


_YEAR_TOKEN = re.compile(r"(?<![+\-\d:])\b(\d{4})\b(?!:)")


def _plausible(parsed: datetime, value: str) -> bool:
    """A date the database can hold as UTC, whose year is the one written (the date
    parser reads "0001" as 2001): anything else is a sender's nonsense, not a time."""
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        return False
    try:
        parsed.astimezone(UTC)
    except OverflowError:
        return False
    years = _YEAR_TOKEN.findall(value)
    return not years or str(parsed.year) in years
