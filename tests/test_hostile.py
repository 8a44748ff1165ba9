"""Hostile mail through the real pipeline (`poll_once`), on SQLite and on PostgreSQL.

Every mail of tests/support/hostile.py is delivered into one Maildir and polled until a
pass finds nothing (at most `MAX_PASSES`: a mail that raises is retried, then recorded
as failed after 3 attempts). Then, for every mail and both databases, the contract:

* never a crash: no pass raises;
* never a lost mail: it is recorded in `messages` (once) with a kind, or as `failed` with
  a reason, and moved out of the inbox into the processed folder (the failed folder for
  `failed`);
* the raw bytes are stored byte for byte under their SHA-256 (`raw/ab/abcd….eml`);
* no file is written outside the store, and attachments are stored under generated
  names (their SHA-256) whatever the mail called them;
* the stored text is storable: no NUL, no lone surrogate, every string within its
  column's length (`store/storable.LIMITS`), strings in `detail` / `warnings` too, in
  the message, its submission, its attachments and the replies it caused (`outbox`);

and per mail:

| mail | recorded as | and |
| --- | --- | --- |
| `empty` (0 bytes) | `failed`: "not a mail message" | failed folder, no number |
| `random_bytes` (seeded) | `failed`: "not a mail message" | failed folder, no number |
| `headerless_text` | `failed`: "not a mail message" | failed folder, no number |
| `big_50mb` | submission | its 37.5 MB attachment stored byte for byte |
| `attachments_2000` | submission | 2,000 names decoded (RFC 2231, 2047, plain), in order |
| `nested_200` | submission | a parse warning: nesting past `MAX_DEPTH` not read |
| `nul_headers` | submission | subject, title, sender, file names without NUL |
| `traversal_names` | submission | names kept as data (NUL removed), files under generated names |
| `unknown_charsets` | submission | subject, name read as GB18030, unit found, charsets named |
| `invalid_rfc2047` | submission | invalid words kept as they are (RFC 2047 6.3), unit found |
| `date_9999` | submission | past datetime.max in UTC: no Date stored, a Date warning |
| `date_0001` | submission | before datetime.min in UTC: no Date stored, a Date warning |
| `date_garbage` | submission | no Date stored, "unparseable Date" |
| `recipients_500` | submission | the receipt goes to the sender only |
| `subject_100kb` | submission | the subject stored whole (a Text column) |
| `from_long_name` | submission | a 300-character display name: sender = the address |
| `from_long_address` | submission | 400 characters: sender cut to 320, ending in "…" |

Every submission is numbered in the month it was received (May 2019), never by its Date.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import settings_data
from mailroom.app import App
from mailroom.clock import FixedClock
from mailroom.config import parse_settings
from mailroom.daemon import poll_once
from mailroom.parsing.mime import MAX_DEPTH
from mailroom.store import storable
from mailroom.store.database import upgrade
from mailroom.store.models import Base, Message, OutgoingMail, Submission
from mailroom.vocabulary import Kind, month_of
from support import hostile
from support.mail import deliver, maildir_files
from support.postgres import PostgresServer

MAX_PASSES = 4  # three attempts at a mail that raises, and one to find the inbox empty
FIRST_DELIVERY = datetime(2019, 5, 6, 1, 0, tzinfo=UTC)
PROCESSED, FAILED = ".mailroom.processed", ".mailroom.failed"
NOT_MAIL = ("empty", "random_bytes", "headerless_text")
ABSOLUTE_NAME = Path("/abs/name.docx")  # one of the traversal names


@dataclass
class Run:
    """One database's run of the whole hostile set."""

    app: App
    root: Path
    raws: dict[str, bytes]
    absolute_existed: bool
    crashes: list[str] = field(default_factory=list)
    passes: int = 0

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    def sha(self, case: str) -> str:
        return hashlib.sha256(self.raws[case]).hexdigest()


@pytest.fixture(scope="module", params=[
    "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[Run]:
    """Deliver every hostile mail and poll until a pass finds nothing: once per database."""
    root = tmp_path_factory.mktemp(f"hostile-{request.param}")
    database = {}
    if request.param == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres")
        database = {"database": {"url": server.create_database("hostile")}}
    settings = parse_settings(settings_data(
        root, receipts={"max_per_sender_per_hour": 100}, **database))
    app = App.build(settings, FixedClock(datetime(2019, 6, 2, tzinfo=UTC)))
    upgrade(app.engine)
    raws = {case: build() for case, build in hostile.CASES.items()}
    for index, (case, raw) in enumerate(raws.items()):
        at = FIRST_DELIVERY + timedelta(minutes=index)
        deliver(root / "inbox", raw, at, name=f"{int(at.timestamp())}.M{index}P1.{case}")
    result = Run(app, root, raws, absolute_existed=ABSOLUTE_NAME.exists())
    working = root / "cwd" / "a" / "b"  # a name like ../../x written by mistake lands in cwd/
    working.mkdir(parents=True)
    with contextlib.chdir(working):
        while result.passes < MAX_PASSES:
            result.passes += 1
            try:
                if poll_once(app).fetched == 0:
                    break
            except Exception as exc:  # the contract says never; record it for the test
                result.crashes.append(f"pass {result.passes}: {type(exc).__name__}: {exc}")
    yield result
    app.close()


# --- what holds for every mail -----------------------------------------------------------


def test_no_pass_crashes_and_the_inbox_empties(run: Run) -> None:
    assert run.crashes == []
    left = [path.name for path in maildir_files(run.inbox)]
    assert left == [], f"still in the inbox after {run.passes} passes"


def test_nothing_is_written_outside_the_store(run: Run) -> None:
    allowed = ("store", "inbox", "sent")  # and the SQLite database beside them
    stray = [path for path in run.root.rglob("*") if path.is_file()
             and path.relative_to(run.root).parts[0] not in allowed
             and not path.name.startswith("mailroom.db")]
    assert stray == []
    assert run.absolute_existed or not ABSOLUTE_NAME.exists()
    store = run.root / "store"
    kinds = {path.relative_to(store).parts[0] for path in store.rglob("*") if path.is_file()}
    assert kinds <= {"raw", "attachments", ".outbox.lock", ".pass.lock", ".schema.lock"}


@pytest.mark.parametrize("case", list(hostile.CASES))
def test_hostile_mail(run: Run, case: str) -> None:
    with run.app.sessions() as session:
        message = _recorded(session, run, case)
        _assert_filed_away(run, case, message.kind)
        _assert_raw_kept(run, case, message)
        _assert_attachments_inside_the_store(run, message)
        replies = session.scalars(
            select(OutgoingMail).where(OutgoingMail.source_pk == message.id)).all()
        _assert_storable([message, *message.attachments, message.submission, *replies])
        EXPECTED[case](run, session, message)


def _recorded(session: Session, run: Run, case: str) -> Message:
    found = session.scalars(select(Message).where(Message.raw_sha256 == run.sha(case))).all()
    assert len(found) == 1, f"{case}: recorded {len(found)} times"
    [message] = found
    assert message.kind in set(Kind)
    if message.kind == Kind.FAILED:
        assert message.reason
    return message


def _assert_filed_away(run: Run, case: str, kind: str) -> None:
    sha = run.sha(case)

    def holding(folder: str) -> list[Path]:
        return [path for path in maildir_files(run.inbox, folder)
                if path.stat().st_size == len(run.raws[case])
                and hashlib.sha256(path.read_bytes()).hexdigest() == sha]

    expected, other = (FAILED, PROCESSED) if kind == Kind.FAILED else (PROCESSED, FAILED)
    assert (len(holding(expected)), holding(other), holding("")) == (1, [], [])


def _assert_raw_kept(run: Run, case: str, message: Message) -> None:
    sha = run.sha(case)
    assert message.raw_path == f"raw/{sha[:2]}/{sha}.eml"
    assert message.raw_size == len(run.raws[case])
    assert run.app.files.read(message.raw_path) == run.raws[case]


def _assert_attachments_inside_the_store(run: Run, message: Message) -> None:
    root = run.app.files.root.resolve()
    for attachment in message.attachments:
        relative = Path(attachment.stored_path)
        assert relative.parts[:2] == ("attachments", attachment.sha256[:2])
        assert relative.name.split(".")[0] == attachment.sha256  # a generated name
        path = run.app.files.path_of(attachment.stored_path)
        assert path.is_relative_to(root)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == attachment.sha256
        assert path.stat().st_size == attachment.size


def _assert_storable(rows: list[Base | None]) -> None:
    for row in rows:
        if row is None:
            continue
        limits = storable.LIMITS[row.__tablename__]
        for column in row.__table__.columns:
            value = getattr(row, column.key)
            where = f"{row.__tablename__}.{column.key}"
            assert storable.json_value(value) == value, f"{where} holds NUL or surrogates"
            if isinstance(value, str) and column.key in limits:
                assert len(value) <= limits[column.key], f"{where}: {len(value)} characters"


# --- what each mail must give ------------------------------------------------------------


def _submission(run: Run, message: Message) -> Submission:
    assert message.kind == Kind.SUBMISSION, f"recorded as {message.kind}: {message.reason}"
    submission = message.submission
    assert submission is not None
    month = month_of(message.received_at, run.app.settings.zone)
    assert submission.month == month == "2019-05"  # by receipt, never by the Date header
    assert re.fullmatch(rf"{month.replace('-', '')}-\d{{4}}", submission.number)
    return submission


def _warnings(message: Message) -> list[str]:
    return list(message.detail.get("parse_warnings", []))


def _names(message: Message) -> list[str]:
    return [attachment.filename for attachment in message.attachments]


def not_a_message(run: Run, session: Session, message: Message) -> None:
    assert message.kind == Kind.FAILED, f"recorded as {message.kind}"
    assert "not a mail message" in (message.reason or "")
    assert message.submission is None
    numbered = session.scalars(select(Submission).where(Submission.message_pk == message.id))
    assert numbered.all() == []


def big_50mb(run: Run, session: Session, message: Message) -> None:
    submission = _submission(run, message)
    assert submission.unit == hostile.UNIT
    payload = hostile.big_payload()
    [attachment] = message.attachments
    assert attachment.filename == f"{hostile.UNIT}+大附件.zip"
    assert attachment.size == len(payload)
    assert attachment.sha256 == hashlib.sha256(payload).hexdigest()


def attachments_2000(run: Run, session: Session, message: Message) -> None:
    _submission(run, message)
    assert _names(message) == hostile.many_attachment_names(2000)
    assert [a.position for a in message.attachments] == list(range(1, 2001))
    assert len({a.stored_path for a in message.attachments}) == 2000


def nested_200(run: Run, session: Session, message: Message) -> None:
    submission = _submission(run, message)
    assert submission.title == hostile.TITLES["nested"][0]
    assert f"MIME nesting deeper than {MAX_DEPTH} levels not read" in _warnings(message)


def nul_headers(run: Run, session: Session, message: Message) -> None:
    submission = _submission(run, message)
    title = storable.text(hostile.NUL_SUBJECT_TITLE)
    assert message.subject == f"{hostile.UNIT}+{title} tailend"
    assert submission.unit == hostile.UNIT and submission.title == f"{title} tailend"
    assert message.sender == submission.sender == hostile.SENDER
    assert _names(message) == [storable.text(hostile.NUL_FILE_NAME), "scan.pdf"]


def traversal_names(run: Run, session: Session, message: Message) -> None:
    _submission(run, message)
    assert _names(message) == [storable.text(name) for name in hostile.TRAVERSAL_NAMES]
    for attachment in message.attachments:
        assert not {"..", "etc", "passwd", "abs"} & set(Path(attachment.stored_path).parts)


def unknown_charsets(run: Run, session: Session, message: Message) -> None:
    submission = _submission(run, message)
    assert submission.unit == hostile.UNIT
    assert submission.title == hostile.UNKNOWN_CHARSET_TITLE
    assert _names(message) == [hostile.UNKNOWN_CHARSET_FILE]
    warnings = " ".join(_warnings(message))
    assert "'x-foo'" in warnings and "'x-unknown-2019'" in warnings


def invalid_rfc2047(run: Run, session: Session, message: Message) -> None:
    submission = _submission(run, message)
    assert submission.unit == hostile.UNIT
    for word in ("=?utf-8?B?!!!notbase64?=", "=?utf-8?X?abc?=", "编码错误",
                 "=?utf-8?Q?unterminated"):
        assert word in submission.title
    assert _names(message) == ["=?utf-8?B?!!!notbase64?=.docx", "=?utf-8?B?5oql5ZGK",
                               "=?gb2312?Q?=D6=D0=CE=C4"]
    assert any(w.startswith("Subject:") for w in _warnings(message))


def out_of_range_date(run: Run, session: Session, message: Message) -> None:
    _submission(run, message)
    assert message.date_header is None
    assert any("Date" in warning for warning in _warnings(message)), _warnings(message)


def date_garbage(run: Run, session: Session, message: Message) -> None:
    _submission(run, message)
    assert message.date_header is None
    assert any(w.startswith("unparseable Date") for w in _warnings(message))


def recipients_500(run: Run, session: Session, message: Message) -> None:
    _submission(run, message)
    replies = session.scalars(select(OutgoingMail).where(OutgoingMail.source_pk == message.id))
    assert [reply.recipients for reply in replies] == [[hostile.SENDER]]


def subject_100kb(run: Run, session: Session, message: Message) -> None:
    submission = _submission(run, message)
    assert len(message.subject.encode("utf-8")) >= 100 * 1024
    assert message.subject == f"{hostile.UNIT}+{submission.title}"
    assert submission.unit == hostile.UNIT


def from_long_name(run: Run, session: Session, message: Message) -> None:
    submission = _submission(run, message)
    assert message.sender == submission.sender == hostile.SENDER
    assert "unknown_sender" not in submission.warnings


def from_long_address(run: Run, session: Session, message: Message) -> None:
    submission = _submission(run, message)
    expected = storable.bounded(hostile.long_address_text(400), storable.MESSAGES["sender"])
    assert len(expected) == 320 and expected.endswith("…")
    assert message.sender == submission.sender == expected
    assert submission.unit == hostile.UNIT


Check = Callable[[Run, Session, Message], Any]
EXPECTED: dict[str, Check] = {
    **dict.fromkeys(NOT_MAIL, not_a_message),
    "big_50mb": big_50mb,
    "attachments_2000": attachments_2000,
    "nested_200": nested_200,
    "nul_headers": nul_headers,
    "traversal_names": traversal_names,
    "unknown_charsets": unknown_charsets,
    "invalid_rfc2047": invalid_rfc2047,
    "date_9999": out_of_range_date,
    "date_0001": out_of_range_date,
    "date_garbage": date_garbage,
    "recipients_500": recipients_500,
    "subject_100kb": subject_100kb,
    "from_long_name": from_long_name,
    "from_long_address": from_long_address,
}


def test_every_case_has_an_expectation() -> None:
    assert set(EXPECTED) == set(hostile.CASES)


def test_the_builders_are_deterministic_and_build_what_they_say() -> None:
    for case, build in hostile.CASES.items():
        if case != "big_50mb":
            assert build() == build(), case
    for case in NOT_MAIL:
        assert BytesHeaderParser(policy=compat32).parsebytes(hostile.CASES[case]()).keys() == []
    assert len(hostile.many_recipients().split(b"@example.cn")) > 500
    assert len(hostile.long_address_text(400)) == 400
    assert hostile.nested(5).count(b"multipart/mixed") == 5
