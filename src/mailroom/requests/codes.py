"""A request's code, `约稿YYYYMM-NN`: the month it was created in (`timezone`) and the
month's sequence (two digits, more after 99). Pure."""

from __future__ import annotations

import re

from mailroom.rules.folding import fold

PREFIX = "约稿"
_CODE = re.compile(r"^(?:约稿)?(\d{4})(0[1-9]|1[0-2])-(\d{1,3})$")
_IN_TEXT = re.compile(r"约稿\s*(\d{4})(0[1-9]|1[0-2])\s*[-－—–]\s*(\d{2,4})(?!\d)")


def format_code(month: str, sequence: int) -> str:
    """`约稿YYYYMM-NN` for the `sequence`-th request of `month` ("YYYY-MM")."""
    return f"{PREFIX}{month.replace('-', '')}-{sequence:02d}"


def parse_code(text: str) -> str | None:
    """A code as a person writes it on the command line — `约稿201905-01` or the short
    `201905-01` (full-width digits too) — in its canonical form, else None."""
    match = _CODE.match(fold(text).strip().replace(" ", ""))
    if match is None:
        return None
    year, month, sequence = match.groups()
    return format_code(f"{year}-{month}", int(sequence))


def codes_in(text: str) -> list[str]:
    """The request codes a subject or body names, canonical, once each, in order. Only
    with the 约稿 prefix: a bare `201905-01` in a mail is too easily something else."""
    found = (format_code(f"{y}-{m}", int(n)) for y, m, n in _IN_TEXT.findall(fold(text)))
    return list(dict.fromkeys(found))
