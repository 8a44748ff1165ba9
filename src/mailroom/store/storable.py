"""Text made storable: what a row may hold, whatever the mail held.

A mail can put anything in a header or a file name; the database cannot take all of it.
PostgreSQL's text types refuse NUL ("text fields cannot contain NUL (0x00) bytes"),
neither database can encode the lone surrogates that `surrogateescape` decoding leaves
for undecodable octets, and PostgreSQL refuses a value longer than its VARCHAR(n) where
SQLite silently keeps it. So the text of a row is cleaned (`text`), bounded to its
column (`bounded`), and the strings inside its JSON values cleaned too (`row`). The raw
mail in the file store keeps the truth, byte for byte; a row holds a readable copy.

The column lengths are read from the models (`LIMITS`), never copied: a migration that
widens a column widens what is kept. Pure: no session, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from sqlalchemy import String, Table

from mailroom.store.models import Base, Message, StoredAttachment, Submission

ELLIPSIS = "…"  # ends a value cut to its column, so a reader sees it was cut

# NUL, which PostgreSQL's text refuses, and surrogates, which no UTF-8 database can take
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_ZWJ = "\u200d"  # ZERO WIDTH JOINER: joins emoji into one picture


def text(value: str) -> str:
    """`value` without the characters a database refuses (NUL, lone surrogates)."""
    return _UNSTORABLE.sub("", value)


def bounded(value: str, limit: int) -> str:
    """`text(value)` cut to at most `limit` characters (VARCHAR(n) counts characters),
    ending in "…" when cut; a base character keeps its combining marks, variation
    selectors and joined characters, or loses them with itself."""
    if limit < 1:
        raise ValueError(f"a column limit must be positive, not {limit}")
    value = text(value)
    if len(value) <= limit:
        return value
    cut = limit - len(ELLIPSIS)
    while cut > 0 and _inside_a_character(value, cut):
        cut -= 1
    return value[:cut] + ELLIPSIS


def _inside_a_character(value: str, index: int) -> bool:
    """Whether a cut before value[index] would split what a reader sees as one character:
    a mark (combining accents, variation selectors: categories M*), a skin-tone modifier,
    or either side of a zero width joiner."""
    following, preceding = value[index], value[index - 1]
    return (unicodedata.category(following).startswith("M")
            or "\U0001f3fb" <= following <= "\U0001f3ff"
            or _ZWJ in (following, preceding))


def json_value(value: Any) -> Any:
    """A JSON value (the `detail` dict, the `warnings` list) with every string in it,
    keys included, made storable; other values unchanged."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, Mapping):
        return {text(key) if isinstance(key, str) else key: json_value(item)
                for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    return value


def row(values: Mapping[str, Any], limits: Mapping[str, int]) -> dict[str, Any]:
    """A row to insert, made storable: each string bounded to its column's limit
    (`limits`, e.g. `MESSAGES`), or cleaned when the column has none; each JSON value
    cleaned throughout; other values as they are."""
    cleaned: dict[str, Any] = {}
    for column, value in values.items():
        if isinstance(value, str):
            limit = limits.get(column)
            cleaned[column] = text(value) if limit is None else bounded(value, limit)
        else:
            cleaned[column] = json_value(value)
    return cleaned


def column_limits(table: Table) -> dict[str, int]:
    """The length of every String(n) column of `table` (Text and String() have none)."""
    return {column.name: column.type.length for column in table.columns
            if isinstance(column.type, String) and column.type.length}


# table name -> column -> its length, for every table of the schema
LIMITS: Mapping[str, Mapping[str, int]] = MappingProxyType({
    name: MappingProxyType(column_limits(table)) for name, table in Base.metadata.tables.items()
})


def limits_of(model: type[Base]) -> Mapping[str, int]:
    return LIMITS[model.__tablename__]


MESSAGES = limits_of(Message)
SUBMISSIONS = limits_of(Submission)
ATTACHMENTS = limits_of(StoredAttachment)
