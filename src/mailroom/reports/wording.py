"""The report's Chinese wording, for the renderers that are not templates (XLSX, DOCX,
text, CSV): the macros of templates/_report_words.j2, called from Python. The wording
itself lives only in that file."""

from __future__ import annotations

from functools import cache
from typing import Any

from mailroom.outbox.compose import environment


@cache
def _macros() -> Any:
    return environment().get_template("_report_words.j2").module


def word(name: str, *args: Any) -> str:
    """Macro `name` of _report_words.j2 called with `args`, as plain text."""
    return str(getattr(_macros(), name)(*args)).strip()
