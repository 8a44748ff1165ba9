"""The characters subject rules compare: folded text, brackets, separators, edges.

Matching works on a *folded* copy of the text (full-width ASCII and the ideographic space
mapped to ASCII, one character for one, so indices carry over) and slices the original,
so a title keeps the characters as written. The patterns below are written for folded
text, except ``EDGE``, which is for ``str.strip`` on original text.
"""

from __future__ import annotations

import re

_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20, 0xA0: 0x20}

HAN = r"[\u4e00-\u9fff]"
OPEN = r"[\[【〔(〖「《]"
CLOSE = r"[\]】〕)〗」》]"
SEP_CHARS = r"+\-—–―‐─:|_~"  # inside a character class
SEP = re.compile(rf"\s*[{SEP_CHARS}]+\s*|\s+")
EDGE = " \t\u3000+-—–―‐─:|_~＋－：｜～"


def fold(text: str) -> str:
    """Full-width ASCII and wide spaces to ASCII, one character for one."""
    return text.translate(_FOLD)


def key(text: str) -> str:
    """A roster-comparable form: folded, no whitespace, no wrapping brackets or separators."""
    folded = re.sub(r"\s+", "", fold(text))
    return folded.strip("[]【】〔〕()〖〗「」《》<>\"'“”‘’" + EDGE)
