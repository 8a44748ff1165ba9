"""Bounded cost per mail (issue 14): attachments that cost too much to read, mails too large
to read, too many MIME parts, a text worker that dies or hangs, and a mail that kills the
whole process. Small versions of benchmarks/hostile.py's cases (that one measures memory).

| case | expected |
| --- | --- |
| .docx zip bomb (document.xml inflating far past the limits) | read up to the limit, a note |
| .docx of 20,000 tiny members | "zip of 20002 members … not read" |
| PDF with a FlateDecode stream past the inflate limit | pypdf stops at our limit: no text |
| PDF whose references loop | "unreadable pdf", at once |
| .doc that makes antiword segfault (one run in two) | "antiword killed by SIGSEGV" or no text |
| the text worker out of memory | "attachment text: worker killed (memory limit)", replaced |
| the text worker too slow | "attachment text: worker timed out", replaced |
| mail past max_mail_bytes | a submission from its headers, raw kept, content not read, a warning |
| mail past max_mime_parts | the first parts read, a warning |
| a mail that kills `poll --once` three times | the 4th run files it away, processes the rest |
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from conftest import settings_data
from mailroom.app import App
from mailroom.clock import FixedClock
from mailroom.config import parse_settings
from mailroom.daemon import poll_once
from mailroom.dedupe.extract import TextLimits, extract_text
from mailroom.pipeline import INTERRUPTED, KILL_HOOK
from mailroom.store.database import upgrade
from mailroom.store.models import Message, ProcessingFailure
from mailroom.textworker import TextWorker
from support import bombs, hostile
from support.mail import deliver, docx_bytes, maildir_files

AT = datetime(2019, 5, 8, 2, tzinfo=UTC)
MB = 1_000_000


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    return bombs.zip_bomb_docx(16 * 2**20)


# --- reading one attachment ---------------------------------------------------------------


def test_a_zip_bomb_is_read_only_up_to_the_limits(zip_bomb: bytes) -> None:
    kept = extract_text("情况.docx", "", zip_bomb)  # stops once max_chars are kept
    assert len(kept.text) == 20_000 and kept.note == "" and kept.inflated <= 2**20
    inflated = extract_text("情况.docx", "", zip_bomb, TextLimits(max_inflated=MB,
                                                                 max_chars=10**9))
    assert inflated.inflated == MB and "森林防火检查" in inflated.text
    assert inflated.note == "情况.docx: text read from the first 1000000 inflated bytes only"


def test_a_zip_of_too_many_members_is_not_opened() -> None:
    extracted = extract_text("通报.docx", "", bombs.docx_many_members(20_000))
    assert extracted.text == ""
    assert extracted.note == "通报.docx: zip of 20002 members (more than 10000) not read"
    few = extract_text("通报.docx", "", bombs.docx_many_members(50))
    assert few.text == bombs.MEMBERS_TEXT and few.note == ""


def test_pdf_streams_are_inflated_only_up_to_the_limit() -> None:
    bomb = bombs.pdf_flate_bomb(8 * 2**20)
    extracted = extract_text("扫描件.pdf", "application/pdf", bomb, TextLimits(max_inflated=MB))
    assert extracted.text == ""  # pypdf stopped at our limit and gave no text


def test_a_pdf_whose_references_loop_is_noted_as_unreadable() -> None:
    extracted = extract_text("报告.pdf", "application/pdf", bombs.pdf_object_loop())
    assert extracted.text == "" and extracted.note.startswith("报告.pdf: unreadable pdf")


def test_a_doc_that_crashes_antiword_is_noted() -> None:
    # antiword reads past its buffer: whether that faults depends on the address layout
    # (about one run in two), so both outcomes occur; neither reaches this process
    outcomes = {extract_text("信息.doc", "application/msword", bombs.doc_antiword_crash())
                for _ in range(12)}
    assert {o.text for o in outcomes} == {""}
    assert {o.note for o in outcomes} <= {
        "", "信息.doc: unreadable word (antiword killed by SIGSEGV)"}


# --- the text worker ----------------------------------------------------------------------


def test_a_worker_out_of_memory_ends_only_that_attempt_and_is_replaced() -> None:
    worker = TextWorker(memory_bytes=60 * MB, timeout=60)
    try:
        # limits set far above the worker's memory: keeping the text of 32 MiB of
        # paragraphs needs more than 60 MB of address space
        bomb = bombs.zip_bomb_docx(32 * 2**20, level=1)
        died = worker.extract("情况.docx", "", bomb,
                              TextLimits(max_inflated=2**31, max_chars=10**10))
        assert died.text == ""
        assert died.note == "情况.docx: attachment text: worker killed (memory limit)"
        again = worker.extract("信息.docx", "", docx_bytes("第二个附件照常读取。"), TextLimits())
        assert again.text == "第二个附件照常读取。" and again.note == ""
    finally:
        worker.close()


def test_a_worker_that_takes_too_long_is_killed_and_replaced(zip_bomb: bytes) -> None:
    worker = TextWorker(memory_bytes=500 * MB, timeout=0.2)
    try:
        slow = worker.extract("情况.docx", "", zip_bomb,
                              TextLimits(max_inflated=2**31, max_chars=10**9))
        assert slow.text == ""
        assert slow.note == "情况.docx: attachment text: worker timed out (more than 0.2 s)"
        worker.timeout = 30
        assert worker.extract("a.docx", "", docx_bytes("照常。"), TextLimits()).text == "照常。"
    finally:
        worker.close()


# --- through the pipeline -----------------------------------------------------------------


@pytest.fixture
def limited_app(tmp_path: Path) -> Iterator[App]:
    settings = parse_settings(settings_data(tmp_path, limits={
        "max_mail_bytes": MB, "max_mime_parts": 50,
        "max_inflated_bytes_per_attachment": MB, "max_inflated_bytes_per_mail": 2 * MB,
        "max_text_chars": 1_000_000}))
    app = App.build(settings, FixedClock(datetime(2019, 6, 2, tzinfo=UTC)))
    upgrade(app.engine)
    yield app
    app.close()


def _message(app: App, message_id: str) -> Message:
    with app.sessions() as session:
        message = session.scalars(select(Message).options(selectinload(
            Message.attachments)).where(Message.message_id == message_id)).one()
        session.expunge(message)
        return message


def test_limits_hold_through_the_pipeline(limited_app: App, zip_bomb: bytes,
                                          tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    big = hostile.big(2 * MB)
    mails = {
        "bomb": bombs.mail_with("zipbomb", "情况汇报.docx", zip_bomb,
                                "application/octet-stream", "森林防火检查情况汇报"),
        "big": big,
        "parts": hostile.many_attachments(200),
    }
    for index, raw in enumerate(mails.values()):
        deliver(inbox, raw, AT + timedelta(minutes=index))
    report = poll_once(limited_app)
    assert report.count("processed") == 3 and maildir_files(inbox) == []

    bomb = _message(limited_app, "bomb.zipbomb@example.cn")
    assert bomb.kind == "submission"
    assert bomb.detail["unread_attachments"] == [
        "情况汇报.docx: text read from the first 1000000 inflated bytes only"]

    large = _message(limited_app, "hostile.big@example.cn")
    assert large.kind == "submission" and large.raw_size == len(big)
    assert limited_app.files.read(large.raw_path) == big  # never dropped
    note = (f"content not read: the mail is {len(big)} bytes, more than [limits] "
            "max_mail_bytes = 1000000")
    assert note in large.detail["parse_warnings"]
    assert not large.attachments

    parts = _message(limited_app, "hostile.attachments@example.cn")
    assert "more than 50 MIME parts: the rest not read" in parts.detail["parse_warnings"]
    assert len(parts.attachments) == 48  # parts: the multipart itself, the text, 48 files


# --- a mail that kills the process ------------------------------------------------------


def test_a_mail_that_kills_the_process_is_filed_away_after_three_attempts(
    tmp_path: Path, make_app: Callable[..., App]
) -> None:
    inbox = tmp_path / "inbox"
    killer = hostile.simple("date9999")  # its Message-ID names it: <hostile.date9999@…>
    for index, raw in enumerate([hostile.simple("recipients"), killer,
                                 hostile.simple("longname")]):
        deliver(inbox, raw, AT + timedelta(minutes=index))
    config = tmp_path / "mailroom.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "mailroom.db"}"\n'
                      f'[storage]\npath = "{tmp_path / "store"}"\n'
                      f'[outbox]\npath = "{tmp_path / "sent"}"\n'
                      f'[maildir]\npath = "{inbox}"\n'
                      f'[[units]]\nname = "{hostile.UNIT}"\nofficers = ["{hostile.SENDER}"]\n',
                      encoding="utf-8")
    env = {**os.environ, KILL_HOOK: "hostile.date9999@example.cn"}
    command = [sys.executable, "-m", "mailroom", "--config", str(config), "poll", "--once"]
    app = make_app()
    for attempt in (1, 2, 3):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == -9, done.stderr[-2000:]  # SIGKILL, as the OOM killer does
        with app.sessions() as session:
            failure = session.scalars(select(ProcessingFailure)).one()
            assert (failure.attempts, failure.last_error) == (attempt, INTERRUPTED)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert maildir_files(inbox) == []
    [failed] = maildir_files(inbox, ".mailroom.failed")
    assert failed.read_bytes() == killer
    assert len(maildir_files(inbox, ".mailroom.processed")) == 2
    with app.sessions() as session:
        kinds = {m.message_id: (m.kind, m.reason) for m in session.scalars(select(Message))}
    assert kinds["hostile.recipients@example.cn"][0] == "submission"
    assert kinds["hostile.longname@example.cn"][0] == "submission"
    assert kinds["hostile.date9999@example.cn"] == (
        "failed", f"{INTERRUPTED} (killed: out of memory, a crash or a signal), 3 times")


# --- large base64 bodies set aside before the parse ---------------------------------------


def _forwarded(inner: bytes) -> bytes:
    return hostile.multipart(hostile.envelope("big"), [
        hostile.text_part("转发一封带大附件的邮件。"),
        hostile.part([("Content-Type", "message/rfc822")], inner),
    ], "outer-boundary")


@pytest.mark.parametrize("line_end", [b"\r\n", b"\n"])
def test_large_bodies_set_aside_decode_as_the_stdlib_would(line_end: bytes) -> None:
    import email
    from email.policy import compat32

    from mailroom.parsing.letter import parse_letter

    payload = hostile.big_payload(2**20)  # 768 KiB: past aside.MIN_SIZE
    inner = bombs.mail_with("inner", "照片.zip", payload, "application/zip", "森林防火照片")
    for raw in (inner, _forwarded(inner)):
        raw = raw.replace(b"\r\n", b"\n").replace(b"\n", line_end)
        letter = parse_letter(raw, AT)
        attachment = letter.attachments[-1]
        if attachment.is_message:  # the attached message: its exact bytes, bodies put back
            assert attachment.payload == inner.replace(b"\r\n", b"\n").replace(b"\n", line_end)
            attachment = parse_letter(attachment.payload, AT).attachments[-1]
        stdlib = email.message_from_bytes(raw, policy=compat32)
        assert attachment.payload == payload
        assert letter.body.strip() == next(
            p for p in stdlib.walk() if p.get_content_type() == "text/plain"
        ).get_payload(decode=True).decode().strip()


# --- the [limits] section -----------------------------------------------------------------


def test_limits_are_checked(tmp_path: Path) -> None:
    from mailroom.config.loading import load_settings
    from mailroom.errors import ConfigError
    from mailroom.health import _probe_limits

    path = tmp_path / "mailroom.toml"
    path.write_text('[maildir]\npath = "x"\n[limits]\nmax_text_bytes_per_attachment = 5_000_000\n'
                    "max_text_bytes_per_mail = 1_000_000\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"max_text_bytes_per_mail \(1000000\) is below "
                                          r"max_text_bytes_per_attachment \(5000000\)"):
        load_settings(path)
    path.write_text('[maildir]\npath = "x"\n[limits]\nmax_mime_parts = 0\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="max_mime_parts"):
        load_settings(path)
    path.write_text('[maildir]\npath = "x"\n[limits]\nmax_mail_byte = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="max_mail_byte"):
        load_settings(path)
    path.write_text('[maildir]\npath = "x"\n', encoding="utf-8")
    assert _probe_limits(load_settings(path).limits) == (
        "mails up to 64000000 bytes read; text worker ok within 256 MB and 5 s an attachment")
