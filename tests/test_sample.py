"""The bundled sample mailbox and the mail generator (mailroom.sample).

Decoding here uses only the stdlib `email` package, with the aliases every real parser
needs for Chinese mail (a gb2312 label means GBK bytes; raw 8-bit headers are UTF-8 or
GBK), so these tests say the sample is well-formed without depending on mailroom's parser.
"""

from __future__ import annotations

import email
import io
import re
import zipfile
from collections import Counter
from datetime import datetime, timedelta, timezone
from email import policy
from email.header import decode_header
from email.message import Message
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from mailroom.config import load_settings
from mailroom.sample.generate import (
    SAMPLE_DIR,
    SampleMail,
    bureau_mail,
    iter_generated_mails,
    main,
    sample_mails,
    write_maildir,
)

CST = timezone(timedelta(hours=8))
COMMITTED = SAMPLE_DIR / "maildir"
_CHARSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030"}


def _bytes_to_text(data: bytes, charset: str | None) -> str:
    if charset and charset.lower() not in ("unknown-8bit", "us-ascii"):
        name = charset.lower()
        return data.decode(_CHARSETS.get(name, name))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def decode(value: object) -> str:
    """A header value or parameter as text: RFC 2047 words, or raw 8-bit bytes."""
    text = str(value) if not isinstance(value, str) else value
    if any("\udc80" <= char <= "\udcff" for char in text):
        return _bytes_to_text(text.encode("ascii", "surrogateescape"), None)
    pieces = decode_header(value)  # type: ignore[arg-type]
    return "".join(_bytes_to_text(piece, charset) if isinstance(piece, bytes) else piece
                   for piece, charset in pieces)


def filename(part: Message) -> str | None:
    """The decoded file name; raw 8-bit bytes are read from the header as stored, since
    compat32 turns them into U+FFFD once it has parsed the parameter."""
    name = part.get_filename()
    if name is None or "\ufffd" not in name:
        return None if name is None else decode(name)
    for header, value in part.raw_items():
        if header.lower() == "content-disposition":
            found = re.search(r'filename="([^"]*)"', value)
            if found:
                return decode(found.group(1))
    return name


def attachment_names(message: Message) -> list[str]:
    return [name for part in message.walk() if (name := filename(part)) is not None]


def text_parts(message: Message) -> list[str]:
    texts = []
    for part in message.walk():
        if part.get_content_maintype() == "text" and part.get_filename() is None:
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            texts.append(_bytes_to_text(payload, part.get_content_charset()))
    return texts


@pytest.fixture(scope="module")
def mails() -> list[SampleMail]:
    return sample_mails()


def _tree(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes()
            for path in sorted(root.rglob("*")) if path.is_file()}


def test_generation_is_deterministic(tmp_path: Path) -> None:
    assert main([str(tmp_path / "one")]) == 0
    assert main([str(tmp_path / "two")]) == 0
    assert _tree(tmp_path / "one") == _tree(tmp_path / "two")


def test_committed_maildir_is_the_generators_output(tmp_path: Path) -> None:
    write_maildir(tmp_path)
    fresh, committed = _tree(tmp_path), _tree(COMMITTED)
    assert sorted(committed) == sorted(fresh), (
        "src/mailroom/sample/maildir differs from the generator: run "
        "`python -m mailroom.sample.generate src/mailroom/sample/maildir` after removing it")
    assert committed == fresh


def test_maildir_names_carry_the_delivery_time(tmp_path: Path, mails: list[SampleMail]) -> None:
    written = write_maildir(tmp_path)
    assert len(written) == len(mails) >= 24
    for mail, path in zip(mails, written, strict=True):
        name = path.name
        assert name.startswith(f"{mail.timestamp}.M")
        assert f",S={path.stat().st_size}" in name
        assert int(path.stat().st_mtime) == mail.timestamp
        if path.parent.name == "cur":
            assert name.endswith(":2,S")
        else:
            assert path.parent.name == "new" and ":2," not in name
    assert {path.parent.name for path in written} == {"cur", "new"}
    assert (tmp_path / "tmp").is_dir()


def test_the_month_and_its_edges(mails: list[SampleMail]) -> None:
    times = [mail.received_at for mail in mails]
    assert times == sorted(times)
    may = [mail for mail in mails if mail.received_at.astimezone(CST).month == 5]
    june = [mail for mail in mails if mail.received_at.astimezone(CST).month == 6]
    assert min(t.day for t in (m.received_at for m in may)) == 5
    assert max(t.day for t in (m.received_at for m in may)) == 31
    assert len(june) == 1
    late = june[0]
    assert late.received_at == datetime(2019, 6, 1, 0, 5, 3, tzinfo=CST)
    date = parsedate_to_datetime(email.message_from_bytes(late.raw)["Date"])
    assert date == datetime(2019, 5, 31, 23, 58, 12, tzinfo=CST)


def test_the_mix_of_kinds_units_and_forms(mails: list[SampleMail]) -> None:
    kinds = Counter(mail.kind for mail in mails)
    assert kinds["auto-reply"] == 1 and kinds["bounce"] == 1 and kinds["roster"] == 2
    submissions = [mail for mail in mails if mail.kind == "submission"]
    assert len({mail.unit for mail in submissions if mail.unit}) >= 7
    assert [mail.priority for mail in submissions].count("urgent") == 1
    assert [mail.priority for mail in submissions].count("important") == 1
    assert sum(mail.unit is None for mail in submissions) == 1
    subjects = " ".join(mail.subject for mail in mails)
    for form in ("＋", "【国土", "-", "：", "——", "答复: ", "转发：", "自动回复：", "（5月8日）",
                 "重要讲话"):
        assert form in subjects, form
    clients = Counter(mail.client for mail in mails)
    assert set(clients) >= {"outlook", "foxmail", "coremail126", "coremail163", "qqmail",
                            "thunderbird", "iphone", "legacy", "bounce"}


def test_the_config_loads_and_covers_the_sample(mails: list[SampleMail]) -> None:
    settings = load_settings(SAMPLE_DIR / "mailroom.toml")
    assert settings.timezone == "Asia/Shanghai"
    assert settings.imap is None and settings.smtp is None
    assert settings.maildir is not None
    assert Path(settings.maildir.path) == COMMITTED
    assert settings.database.url == f"sqlite:///{SAMPLE_DIR / 'var' / 'mailroom.db'}"
    units = {unit.name: unit for unit in settings.units}
    assert {mail.unit for mail in mails if mail.unit} <= set(units)
    assert "执法大队" in units["自然资源综合执法大队"].aliases
    assert "生态林场" in units["黄河生态林场"].aliases
    officers = {address for unit in settings.units for address in unit.officers}
    roster_senders = {mail.sender for mail in mails if mail.kind == "roster"}
    assert roster_senders and not roster_senders & officers
    assert {channel.name: channel.score for channel in settings.adoption_channels} == {
        "县政府网站": 1, "银川市": 2, "自治区": 3, "国家级": 5, "新闻媒体": 2}


@pytest.mark.parametrize("mail", sample_mails(), ids=lambda mail: mail.key)
def test_each_sample_mail_parses_with_the_stdlib(mail: SampleMail) -> None:
    message = email.message_from_bytes(mail.raw)
    assert not message.defects
    assert decode(message["Subject"]) == mail.subject
    assert attachment_names(message) == list(mail.attachments)
    assert message["Message-ID"].lower() == mail.message_id.lower()
    assert all(not part.defects for part in message.walk())
    assert all("\ufffd" not in text for text in text_parts(message))
    modern = email.message_from_bytes(mail.raw, policy=policy.default)
    assert mail.sender in str(modern["From"]).lower()
    if mail.kind == "bounce":
        assert message["Return-Path"] == "<>"
        assert message.get_content_type() == "multipart/report"
    if mail.kind == "auto-reply":
        assert message["Auto-Submitted"] == "auto-replied"


def test_the_sample_exercises_every_file_name_encoding(mails: list[SampleMail]) -> None:
    raw = b"\n".join(mail.raw for mail in mails)
    assert b"filename*0*=UTF-8''" in raw  # RFC 2231 with continuations (Thunderbird)
    assert b"filename*=utf-8''" in raw or b'filename="=?gb2312?B?' in raw
    assert b'filename="=?gb2312?B?' in raw and b'filename="=?GBK?B?' in raw  # RFC 2047
    assert 'filename="现场照片1.jpg"'.encode("gbk") in raw  # raw 8-bit GBK
    gbk_only = [mail for mail in mails if "喆" in mail.subject]  # not in GB2312, but in GBK
    assert gbk_only and b"Subject: =?GB2312?B?" in gbk_only[0].raw
    assert b"charset=\"GB2312\"" in raw and b"quoted-printable" in raw


def test_attachments_are_real_files(mails: list[SampleMail]) -> None:
    for mail in mails:
        for part in email.message_from_bytes(mail.raw).walk():
            name = filename(part)
            if name is None:
                continue
            data = part.get_payload(decode=True)
            assert isinstance(data, bytes)
            name = name.lower()
            if name.endswith(".docx"):
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    assert archive.testzip() is None
                    document = archive.read("word/document.xml").decode("utf-8")
                assert "<w:t>" in document
            elif name.endswith(".pdf"):
                assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")
            elif name.endswith(".jpg"):
                assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
            elif name.endswith(".doc"):
                assert data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def test_generated_mails_are_deterministic_varied_and_parse() -> None:
    first = list(iter_generated_mails(60, seed=7))
    assert first == list(iter_generated_mails(60, seed=7))
    assert bureau_mail(41, seed=7) == first[41]
    assert first != list(iter_generated_mails(60, seed=8))
    received = [when for _raw, when in first]
    assert received == sorted(received)
    charsets: set[str] = set()
    attachment_counts: Counter[int] = Counter()
    for raw, _when in first:
        message = email.message_from_bytes(raw)
        subject = decode(message["Subject"])
        assert any("\u4e00" <= char <= "\u9fff" for char in subject)
        body = text_parts(message)[0]
        article = sum("\u4e00" <= char <= "\u9fff" for char in body)
        assert 200 <= article <= 2100, article
        charsets.update(str(part.get_content_charset()).lower() for part in message.walk()
                        if part.get_content_maintype() == "text")
        attachment_counts[len(attachment_names(message))] += 1
    assert {"gb2312", "gbk", "utf-8"} <= charsets
    assert set(attachment_counts) == {0, 1, 2, 3}


def test_generated_mails_in_wire_form_use_crlf() -> None:
    raw, _when = bureau_mail(3, seed=1, wire=True)
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
