"""Charsets, encoded words and file names: bytes from the wire to ``str``.

Chinese mail labelled GB2312 (or GBK, CP936, x-gbk, ...) routinely carries
characters that only GBK has (镕, 喆, 珺); a strict GB2312 decode fails on them and
mail-parser 4.8 then garbles the whole text. Every GB label is read as GB18030, a
superset of both. Two mechanisms make that hold:

* ``decode_bytes`` normalises the charset name itself before decoding; all of
  mailroom's own decoding goes through it and never raises;
* ``install_codec_search`` puts a codec search function *in front of* the
  standard one (the encodings module and the interpreter both cache look-ups, so
  registering it behind would never be consulted for ``gb2312``), so third-party
  code calling ``bytes.decode("gb2312")`` (the stdlib ``email`` package,
  mail-parser) gets GB18030 as well. ``mailroom.parsing`` installs it at import.

Header text parsed by the stdlib with ``policy=compat32`` from bytes keeps
undecodable octets as lone surrogates (``surrogateescape``); ``HeaderDecoder``
turns them back into the original bytes and reads those as UTF-8, else the
message's own charset, else GB18030. It also decodes RFC 2047 encoded words
(joining split words as bytes) and RFC 2231 parameters, for file names.
"""

from __future__ import annotations

import binascii
import codecs
import encodings
import functools
import re
import urllib.parse
from collections.abc import Iterable, Mapping

GB_FAMILY = frozenset(
    {
        "gb2312", "gbk", "cp936", "ms936", "x_gbk", "gb_2312_80", "gb2312_80", "gb_2312",
        "gb2312_1980", "euc_cn", "euccn", "x_euc_cn", "eucgb2312_cn", "csgb2312", "csgbk",
        "csiso58gb231280", "chinese", "iso_ir_58", "windows_936", "936", "x_cp936",
        "cn_gb", "x_mac_simp_chinese", "x_gb2312",
    }
)
_NOT_A_CHARSET = frozenset({"unknown_8bit", "x_unknown", "unknown", "default", "none", ""})
_ASCII_LABELS = frozenset({"us_ascii", "ascii", "us", "ansi_x3_4_1968", "iso646_us"})
_FALLBACKS = ("utf-8", "gb18030")
_SURROGATES = re.compile("[\udc80-\udcff]")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])|\r?\n$")
_WHITESPACE = re.compile(r"\s+")

_installed = False


def normalise_charset(name: str) -> str:
    """Lower-case a charset label and turn punctuation runs into ``_``."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().strip("\"'").lower()).strip("_")


def _search(name: str) -> codecs.CodecInfo | None:
    if normalise_charset(name) in GB_FAMILY:
        return encodings.search_function("gb18030")
    return None


def install_codec_search() -> None:
    """Make every GB label decode as GB18030 process-wide (idempotent).

    ``codecs.unregister`` clears the interpreter's look-up cache, and ours is
    registered before the standard search function so it wins for those names.
    """
    global _installed
    if _installed:
        return
    codecs.unregister(encodings.search_function)
    try:
        codecs.register(_search)
    finally:
        codecs.register(encodings.search_function)
    _installed = True


@functools.lru_cache(maxsize=256)
def codec_name(charset: str | None) -> str | None:
    """The Python codec for a MIME charset label, or None when unusable."""
    if charset is None:
        return None
    label = normalise_charset(charset)
    if label in _NOT_A_CHARSET:
        return None
    if label in GB_FAMILY:
        return "gb18030"
    if label in _ASCII_LABELS:
        return "ascii"
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError, TypeError):
        return None
    try:
        b"\x00".decode(info.name)  # text encodings only (not "base64", "zlib", ...)
    except LookupError:
        return None
    except (UnicodeError, ValueError, TypeError):
        pass  # a text encoding that wants more than one NUL byte
    return info.name


def _strict(data: bytes, codec: str) -> str | None:
    try:
        text = data.decode(codec)
        text.encode("utf-8")  # some codecs can produce lone surrogates
    except (UnicodeError, LookupError, ValueError, TypeError):
        return None
    return text


def _lenient(data: bytes, codec: str) -> str | None:
    """Decode with replacement characters when the text is mostly right, else None.

    "Mostly right": at least four well-formed non-ASCII characters per bad spot,
    so text in another charset (GBK read as UTF-8) is rejected, and a UTF-8 or
    GBK text with a truncated character is kept.
    """
    try:
        text = data.decode(codec, "replace")
        text.encode("utf-8")
    except (UnicodeError, LookupError, ValueError, TypeError):
        return None
    bad = text.count("\ufffd")
    good = len(text) - len(text.encode("ascii", "ignore")) - bad  # well-formed non-ASCII
    return text if good >= 4 * bad else None


def decode_bytes_noted(data: bytes, charset: str | None = None) -> tuple[str, str | None]:
    """Decode ``data`` (never raises) and say how, when not as declared.

    Order: the declared charset (GB labels as GB18030); the declared charset with
    a few replacement characters; UTF-8, then GB18030; those with a few
    replacements; Latin-1 (lossless) as the last resort.
    """
    declared = codec_name(charset)
    if declared == "ascii" and not data.isascii():
        declared = None  # "us-ascii" on 8-bit text is a default, not a statement
    if declared is not None:
        text = _strict(data, declared) or _lenient(data, declared)
        if text is not None:
            return text, None if "\ufffd" not in text else f"bad bytes for {charset}"
    others = [codec for codec in _FALLBACKS if codec != declared]
    for decode in (_strict, _lenient):
        for codec in others:
            text = decode(data, codec)
            if text is not None:
                return text, _fallback_note(charset, declared, codec)
    return data.decode("latin-1"), _fallback_note(charset, declared, "latin-1")


def _fallback_note(charset: str | None, declared: str | None, used: str) -> str | None:
    undeclared = charset is None or normalise_charset(charset) in _NOT_A_CHARSET
    if undeclared or (declared is None and codec_name(charset) == "ascii"):
        return None if used == "utf-8" else f"undeclared charset read as {used}"
    if declared is None:
        return f"unknown charset {charset!r} read as {used}"
    return f"text not valid {charset} read as {used}"


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Decode bytes from mail: declared charset, else UTF-8, GB18030, Latin-1."""
    return decode_bytes_noted(data, charset)[0]


def unfold(value: str) -> str:
    """Remove header folding (CRLF before whitespace) and trailing line ends."""
    return _FOLD.sub("", value)


def fold_spaces(text: str) -> str:
    """Collapse every whitespace run to one space and strip."""
    return _WHITESPACE.sub(" ", text).strip()


_BASE64 = re.compile(rb"[A-Za-z0-9+/]*")


def _word_bytes(encoding: str, text: str) -> bytes | None:
    data = text.encode("ascii", "replace")
    try:
        if encoding in "bB":
            # RFC 2047 §6.3: a word that is not base64 is shown as it is, never guessed
            # at; only missing or extra padding is forgiven (mail programs get that wrong)
            data = data.rstrip(b"=")
            if not _BASE64.fullmatch(data):
                return None
            if len(data) % 4 == 1:
                data = data[:-1]
            return binascii.a2b_base64(data + b"=" * (-len(data) % 4))
        return binascii.a2b_qp(data, header=True)
    except (binascii.Error, ValueError):
        return None


class HeaderDecoder:
    """Decodes the header values of one message and notes what was odd.

    ``fallback_charset`` (the charset the message declares for its text) is
    tried for raw 8-bit header bytes after UTF-8 and before GB18030.
    """

    def __init__(self, fallback_charset: str | None = None) -> None:
        codec = codec_name(fallback_charset)
        self.fallback = codec if codec not in (None, "ascii", "utf-8") else None
        self.notes: list[str] = []

    def note(self, where: str, note: str) -> None:
        self.notes.append(f"{where}: {note}" if where else note)

    def text(self, value: str, where: str = "") -> str:
        """Surrogate-escaped raw octets turned back into text."""
        if not _SURROGATES.search(value):
            return value
        raw = value.encode("utf-8", "surrogateescape")
        text = _strict(raw, "utf-8")  # RFC 6532: raw UTF-8 is allowed
        if text is None and self.fallback:
            text = _strict(raw, self.fallback)
            if text is not None:
                self.note(where, f"raw 8-bit bytes read as {self.fallback}")
        if text is None:
            text, how = decode_bytes_noted(raw)
            self.note(where, f"raw 8-bit bytes: {how or 'read as utf-8'}")
        return text

    def words(self, value: str, where: str = "") -> str:
        """Decode RFC 2047 encoded words and raw 8-bit octets.

        Adjacent words in one charset are joined as bytes before decoding, so a
        character split across two words (Foxmail, Outlook) survives.
        """
        if "=?" not in value:
            return self.text(value, where)
        out: list[str] = []
        pending = bytearray()
        charset = ""
        position = 0
        for match in _ENCODED_WORD.finditer(value):
            between = value[position : match.start()]
            word_charset = match.group(1).split("*", 1)[0].lower()
            data = _word_bytes(match.group(2), match.group(3))
            if data is None:
                self.note(where, f"undecodable encoded word {match.group(0)[:60]!r}")
                data, word_charset = match.group(0).encode("ascii", "replace"), "ascii"
            adjacent = position > 0 and not between.strip()
            if not adjacent or word_charset != charset:
                out.append(self._flush(pending, charset, where))
                if not adjacent:  # white space between encoded words is not text
                    out.append(self.text(between, where))
                charset = word_charset
            pending += data
            position = match.end()
        out.append(self._flush(pending, charset, where))
        out.append(self.text(value[position:], where))
        return "".join(out)

    def _flush(self, pending: bytearray, charset: str, where: str) -> str:
        if not pending:
            return ""
        text, how = decode_bytes_noted(bytes(pending), charset)
        if how:
            self.note(where, f"encoded word: {how}")
        pending.clear()
        return text

    def header(self, value: str, where: str = "") -> str:
        """A header value as text: unfolded, encoded words and 8-bit bytes decoded."""
        return self.words(unfold(value), where).strip()

    def param(self, params: Mapping[str, str], name: str) -> str | None:
        """A parameter's text: RFC 2231 (with continuations), RFC 2047, raw 8-bit."""
        if f"{name}*" in params:
            data, charset = _rfc2231_bytes(params[f"{name}*"], first=True)
            return self.words(self._decode(data, charset, name), name).strip()
        pieces = _continuations(params, name)
        if pieces:
            data, charset = _join_continuations(pieces)
            return self.words(self._decode(data, charset, name), name).strip()
        if name in params:
            return self.words(params[name], name).strip()
        return None

    def _decode(self, data: bytes, charset: str | None, where: str) -> str:
        text, how = decode_bytes_noted(data, charset)
        if how:
            self.note(where, how)
        return text

    def filename(self, disposition: str | None, content_type: str | None) -> str:
        """The decoded file name of a MIME part ("" when none).

        ``filename`` on Content-Disposition wins over ``name`` on Content-Type.
        """
        for header, key in ((disposition, "filename"), (content_type, "name")):
            if header:
                text = self.param(header_params(header), key)
                if text:
                    return text
        return ""


def decode_header(value: str) -> str:
    """A header value as text (see ``HeaderDecoder.header``)."""
    return HeaderDecoder().header(value)


def attachment_filename(disposition: str | None, content_type: str | None) -> str:
    """A MIME part's decoded file name (see ``HeaderDecoder.filename``)."""
    return HeaderDecoder().filename(disposition, content_type)


# --- MIME parameters and file names -------------------------------------------------

_PARAM = re.compile(
    r"""\s*([^\s=;"]+)\s*     # name
        (?:=\s*("(?:[^"\\]|\\.)*"?|[^;]*))?  # = quoted-string (maybe unterminated) | token
        \s*(?:;|$)""",
    re.VERBOSE | re.DOTALL,
)


def header_params(value: str) -> dict[str, str]:
    """The parameters of a Content-Type / Content-Disposition value.

    Names lower-cased; quoted values unquoted (``\\"`` and ``\\\\`` unescaped);
    the first occurrence of a name wins. Tolerates unquoted values with spaces.
    """
    value = unfold(value)
    _, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for match in _PARAM.finditer(rest):
        name, raw = match.group(1).lower(), (match.group(2) or "").strip()
        if raw.startswith('"'):
            raw = re.sub(r"\\([\\\"])", r"\1", raw[1:-1] if raw.endswith('"') else raw[1:])
        params.setdefault(name, raw)
    return params


def _rfc2231_bytes(value: str, first: bool) -> tuple[bytes, str | None]:
    charset: str | None = None
    if first and value.count("'") >= 2:
        charset, _, value = value.split("'", 2)
    raw = value.encode("utf-8", "surrogateescape")
    return urllib.parse.unquote_to_bytes(raw), charset or None


def _continuations(params: Mapping[str, str], name: str) -> list[tuple[str, bool]]:
    pieces: list[tuple[str, bool]] = []
    for index in range(1000):
        if f"{name}*{index}*" in params:
            pieces.append((params[f"{name}*{index}*"], True))
        elif f"{name}*{index}" in params:
            pieces.append((params[f"{name}*{index}"], False))
        else:
            break
    return pieces


def _join_continuations(pieces: list[tuple[str, bool]]) -> tuple[bytes, str | None]:
    data = bytearray()
    charset: str | None = None
    for index, (piece, encoded) in enumerate(pieces):
        if encoded:
            chunk, piece_charset = _rfc2231_bytes(piece, first=index == 0)
            charset = piece_charset if index == 0 else charset
            data += chunk
        else:
            data += piece.encode("utf-8", "surrogateescape")
    return bytes(data), charset


def first_values(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-cased header name -> first raw value."""
    found: dict[str, str] = {}
    for name, value in items:
        found.setdefault(name.lower(), str(value))
    return found
