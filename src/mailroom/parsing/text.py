"""Readable text from HTML mail bodies (stdlib ``html.parser``, no dependencies).

Scripts, styles and titles are dropped; ``<br>`` is a line break, block elements
start a new line (paragraphs and headings leave a blank line), table cells are
separated by a space, entities are unescaped, and white space inside a line
collapses to one space.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = frozenset({"script", "style", "title", "template", "noscript", "xml"})
_PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table"})
_BLOCK = frozenset(
    {
        "address", "article", "aside", "dd", "div", "dl", "dt", "fieldset", "figcaption",
        "figure", "footer", "form", "header", "hr", "li", "main", "nav", "ol", "section",
        "tbody", "thead", "tfoot", "tr", "ul", "center",
    }
)
_CELL = frozenset({"td", "th"})
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0
        self._pre = 0
        self._newlines = 2  # trailing line breaks written so far (start = fresh line)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._skipping = 0  # an unclosed <script> or <title> before it
        elif tag in _SKIP:
            self._skipping += 1
        elif tag == "pre":
            self._pre += 1
        self._separate(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _SKIP:
            self._separate(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
            return
        if tag == "pre":
            self._pre = max(0, self._pre - 1)
        if tag != "br":
            self._separate(tag)

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        if not self._pre:
            data = re.sub(r"\s+", " ", data)
            if self._newlines and not data.strip():
                return
        self.parts.append(data)
        stripped = data.rstrip(" \t")
        self._newlines = len(stripped) - len(stripped.rstrip("\n")) if stripped else self._newlines

    def _separate(self, tag: str) -> None:
        if self._skipping:
            return
        if tag == "br":
            self._write_newlines(1, always=True)
        elif tag in _PARAGRAPH:
            self._write_newlines(2)
        elif tag in _BLOCK:
            self._write_newlines(1)
        elif tag in _CELL:
            self.parts.append(" ")

    def _write_newlines(self, count: int, always: bool = False) -> None:
        missing = count if always else count - self._newlines
        if missing > 0:
            self.parts.append("\n" * missing)
            self._newlines += missing


def html_to_text(html: str) -> str:
    """The readable text of an HTML document or fragment."""
    collector = _TextCollector()
    try:
        collector.feed(html)
        collector.close()
    except (AssertionError, ValueError):  # html.parser's own failures on bad markup
        pass
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(collector.parts).split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
