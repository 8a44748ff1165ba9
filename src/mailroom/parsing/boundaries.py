"""The stdlib parser's multipart boundaries, matched without a regular expression each.

`email.feedparser` compiles a regular expression for every multipart boundary it meets:
`(?P<sep>` + re.escape("--" + boundary) + `)(?P<end>--)?(?P<ws>[ \\t]*)(?P<linesep>…)?$`.
Boundaries are unique per mail, so `re`'s cache never helps, and compiling that pattern
(a long escaped literal) cost a preparing worker about 0.5–0.9 ms a boundary, a sixth of
its work on the bureau's mail (benchmarks/ingest.py). `install()` gives the feedparser
module a `re` whose `compile` recognises exactly that pattern and returns a matcher that
checks the boundary with `str.startswith` and matches the rest with a pattern compiled
once per boundary length: the same `re.Match` (groups, spans) the stdlib pattern gives,
for every line. Any other pattern, or a boundary pattern this Python writes differently,
is compiled by `re` as before.
"""

from __future__ import annotations

import email.feedparser
import re
import types
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

_HEAD = "(?P<sep>"
_TAIL = r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)


class BoundaryMatcher:
    """`re.compile(_HEAD + re.escape(separator) + _TAIL)`, matching the same lines with the
    same match objects (only `match` is offered: all the feedparser calls)."""

    def __init__(self, separator: str) -> None:
        self.separator = separator
        self.pattern = _any_separator(len(separator))

    def match(self, line: str) -> re.Match[str] | None:
        if not line.startswith(self.separator):
            return None
        return self.pattern.match(line)


@lru_cache(maxsize=256)
def _any_separator(length: int) -> re.Pattern[str]:
    """The boundary pattern with any `length` characters in place of the separator (the
    matcher has checked them): one compiled pattern serves every boundary that long."""
    return re.compile(_HEAD + f"[\\s\\S]{{{length}}}" + _TAIL)


def _compile(pattern: Any, flags: int = 0) -> Any:
    """`re.compile`, except a multipart boundary's pattern: a BoundaryMatcher."""
    if (flags == 0 and isinstance(pattern, str) and pattern.startswith(_HEAD)
            and pattern.endswith(_TAIL)):
        escaped = pattern[len(_HEAD):-len(_TAIL)]
        separator = _ESCAPED.sub(r"\1", escaped)
        if re.escape(separator) == escaped:
            return BoundaryMatcher(separator)
    return re.compile(pattern, flags)


_SHIM = types.SimpleNamespace(**{name: getattr(re, name) for name in dir(re)
                                 if not name.startswith("__")})
_SHIM.compile = _compile


def install() -> None:
    """Match the stdlib parser's boundaries this way in this process (idempotent)."""
    email.feedparser.re = _SHIM  # type: ignore[attr-defined]


@contextmanager
def stock() -> Iterator[None]:
    """The stdlib parser as shipped, for the duration (benchmarks: mail-parser's own rate,
    the reference, is measured without this module's help)."""
    before = email.feedparser.re  # type: ignore[attr-defined]
    email.feedparser.re = re  # type: ignore[attr-defined]
    try:
        yield
    finally:
        email.feedparser.re = before  # type: ignore[attr-defined]
