"""The text a sender wrote in a reply, pure: the body's lines before a quoted part or a
signature, as the mail programs the bureau uses write them (SPEC "Office commands by
mail"). A quoted part starts at a `>` line, a forward or reply rule (`-----原始邮件-----`,
QQ's `------------------ 原始邮件 ------------------`, `-----Original Message-----`,
Outlook's `________________________________`), a header block (`发件人:` / `From:` /
`发送时间:` / `Sent:`) or an attribution (`在…写道：`, `…于…写道：`, `On … wrote:`); a
signature at `-- ` (or `--`), `——`, or a phone's or client's footer (`发自我的iPhone`,
`来自网易邮箱大师`, `Sent from my iPhone`). HTML-only mail comes here as the parser's
text of it (parsing/text.py), where a blockquote's attribution line still stands.

dedupe/normalize.py drops the same quotes from anywhere in a submission's text; here the
first one ends what the sender wrote.
"""

from __future__ import annotations

import re

from mailroom.rules.folding import fold

_QUOTE_START = re.compile(
    r"^\s*(?:>"
    r"|-{2,}\s*(?:原始邮件|原邮件|转发邮件信息|邮件原文|Original Message|Forwarded message)"
    r"|_{8,}\s*$"
    r"|(?:发件人|发送时间|From|Sent)\s*:"
    r"|在.{0,100}写道\s*:?\s*$|On .{0,160}wrote:\s*$|.{0,100}于.{0,60}写道\s*:?\s*$)",
    re.IGNORECASE)
_SIGNATURE = re.compile(
    r"^(?:--\s*|——\s*|(?:发自|来自|Sent from)\s*(?:我的|my)?\s*\S{0,20}"
    r"(?:iPhone|iPad|Android|手机|邮箱|客户端|邮箱大师|Mail)\s*)$", re.IGNORECASE)

def own_lines(body: str) -> list[str]:
    """The non-empty lines the sender wrote: the body before a quoted part or a signature."""
    lines: list[str] = []
    for raw in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        folded = fold(raw).strip()
        if _SIGNATURE.match(folded) or _QUOTE_START.match(folded):
            break
        if raw.strip():
            lines.append(raw.strip().replace("\u3000", " ").strip())
    return lines
