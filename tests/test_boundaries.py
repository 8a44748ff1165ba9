"""The stdlib parser's boundaries matched without a regex each (parsing/boundaries.py): the
same messages, part for part, as the stdlib parser as shipped."""

from __future__ import annotations

import email
import email.feedparser
import re
from email.message import Message
from email.policy import compat32
from pathlib import Path

import pytest

from mailroom.parsing import boundaries
from mailroom.sample.generate import iter_generated_mails

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
TAIL = r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"


def _shape(message: Message) -> list[object]:
    """Everything the parse decided, part by part."""
    return [(part.get_content_type(), part.items(), part.preamble, part.epilogue,
             [type(d).__name__ for d in part.defects],
             None if part.is_multipart() else part.get_payload())
            for part in message.walk()]


def _both(raw: bytes) -> tuple[list[object], list[object]]:
    boundaries.install()
    assert email.feedparser.re is not re  # type: ignore[attr-defined]
    ours = _shape(email.message_from_bytes(raw, policy=compat32))
    with boundaries.stock():
        stock = _shape(email.message_from_bytes(raw, policy=compat32))
    return ours, stock


@pytest.mark.parametrize("separator", [
    "--simple", "----=_Part_12_34.5678", "--a b\t=_?.+*()[]{}|^$\\é边界", "--", "--x" * 30])
@pytest.mark.parametrize("line", [
    "{s}\n", "{s}--\n", "{s}--", "{s}  \t\r\n", "{s}\r", "{s}x\n", "{s} --\n", "{s}--  \n",
    "{s}\n\n", "x{s}\n", "{s}", "", "{s}-\n", "{s}--\r\n"])
def test_a_boundary_line_matches_as_the_stdlib_pattern_does(separator: str, line: str) -> None:
    text = line.format(s=separator)
    expected = re.compile("(?P<sep>" + re.escape(separator) + TAIL).match(text)
    got = boundaries._compile("(?P<sep>" + re.escape(separator) + TAIL).match(text)
    assert (got is None) == (expected is None)
    if got is not None and expected is not None:
        assert got.span() == expected.span() and got.groupdict() == expected.groupdict()


def test_other_patterns_are_compiled_by_re() -> None:
    assert isinstance(boundaries._compile(r"(\r\n|\r|\n)\Z"), re.Pattern)
    assert isinstance(boundaries._compile("(?P<sep>--a" + TAIL, re.IGNORECASE), re.Pattern)
    assert isinstance(boundaries._compile("(?P<sep>--a" + TAIL), re.Pattern)  # not escaped
    assert isinstance(boundaries._compile("(?P<sep>" + re.escape("--a") + TAIL),
                      boundaries.BoundaryMatcher)


def test_the_corpus_and_generated_mail_parse_the_same() -> None:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared mail corpus is missing: {CORPUS}")
    raws = [path.read_bytes() for path in sorted(CORPUS.rglob("*")) if path.is_file()
            and path.suffix in (".eml", ".txt", "") and path.name != "README.md"]
    raws += [raw for raw, _ in iter_generated_mails(60, seed=7)]
    assert len(raws) > 100
    multipart = 0
    for raw in raws:
        ours, stock = _both(raw)
        assert ours == stock
        multipart += len(ours) > 1
    assert multipart > 50
