from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import String, insert, inspect, select
from sqlalchemy.exc import DataError

from mailroom.errors import StoreError
from mailroom.mailbox.base import MailKey
from mailroom.store import queries, storable
from mailroom.store.database import (
    current_revision,
    head_revision,
    make_engine,
    make_session_factory,
    require_current_schema,
    upgrade,
)
from mailroom.store.files import FileStore, safe_extension, sha256_hex
from mailroom.store.models import Base, Message, Submission
from mailroom.vocabulary import month_bounds, month_of

HOSTILE_NAMES = [
    "../x",
    "../../../../etc/passwd",
    "/etc/passwd",
    "C:\\x",
    "C:\\Windows\\system32\\evil.dll",
    "CON",
    "con.txt",
    "NUL",
    "a\x00b.docx",
    "\x00",
    "x" * 300 + ".docx",
    "名" * 100 + ".pdf",
    "..",
    ".",
    "",
    "report.docx",
    "report.docx",  # a duplicate name with other content
    "dir/sub/../../escape.pdf",
    "file.tar.gz",
    "evil.%2e%2e",
]


def test_hostile_attachment_names_stay_inside_and_never_overwrite(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = FileStore(root)
    stored: dict[str, bytes] = {}
    for index, name in enumerate(HOSTILE_NAMES):
        payload = f"payload {index}".encode()
        relative = store.put_attachment(payload, sha256_hex(payload), name)
        path = store.path_of(relative)
        assert path.is_relative_to(root.resolve())
        assert "\x00" not in relative and ".." not in Path(relative).parts
        assert len(Path(relative).name) <= 64 + 11
        stored[relative] = payload
    assert len(stored) == len(HOSTILE_NAMES)  # no two files share a path
    for relative, payload in stored.items():
        assert store.read(relative) == payload
    outside = {p for p in tmp_path.rglob("*") if not p.is_relative_to(root)}
    assert outside == set()  # nothing was written beside the store


def test_safe_extension() -> None:
    assert safe_extension("单位+标题.DOCX") == "docx"
    assert safe_extension("a\x00b.docx") == "docx"
    assert safe_extension("C:\\x") == ""
    assert safe_extension("evil.%2e%2e") == ""
    assert safe_extension("x.verylongextension") == ""
    assert safe_extension("noext") == ""


def test_raw_mail_is_kept_byte_for_byte(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    raw = b"Subject: \xd6\xd0\xce\xc4\r\n\r\nbody\r\n.\r\n\x00\xff"
    relative = store.put_raw(raw, sha256_hex(raw))
    assert store.read(relative) == raw
    assert store.put_raw(raw, sha256_hex(raw)) == relative  # idempotent
    assert store.path_of(relative).name == f"{sha256_hex(raw)}.eml"


def test_path_of_refuses_escape(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="outside the store"):
        FileStore(tmp_path / "store").path_of("../../etc/passwd")


def _exercise_schema(url: str) -> None:
    engine = make_engine(url)
    try:
        with pytest.raises(StoreError, match="mailroom db upgrade"):
            require_current_schema(engine)
        assert upgrade(engine) == head_revision()
        assert upgrade(engine) == head_revision()  # again: nothing to do
        assert current_revision(engine) == head_revision()
        tables = set(inspect(engine).get_table_names())
        assert {"messages", "submissions", "attachments", "officers", "month_counters",
                "processing_failures"} <= tables
        sessions = make_session_factory(engine)
        at = datetime(2019, 5, 31, 16, 5, tzinfo=UTC)
        with sessions.begin() as session:
            numbers = [queries.next_number(session, "2019-06") for _ in range(3)]
            assert numbers == ["201906-0001", "201906-0002", "201906-0003"]
            assert queries.next_number(session, "2019-05") == "201905-0001"
            session.add(Message(mailbox="m", uidvalidity=1, uid="7", raw_sha256="a" * 64,
                                raw_size=1, raw_path="raw/aa/x.eml", received_at=at,
                                kind="submission", processed_at=at))
        with sessions() as session:
            stored = session.scalars(select(Message)).one()
            assert stored.received_at == at and stored.received_at.tzinfo is not None
            key = MailKey("m", 1, "7")
            assert queries.find_recorded(session, key, "b" * 64) is not None
            assert queries.find_recorded(session, MailKey("m", 2, "7"), "a" * 64) is not None
            assert queries.find_recorded(session, MailKey("m", 2, "7"), "b" * 64) is None
        with sessions.begin() as session:
            assert queries.next_number(session, "2019-06") == "201906-0004"
    finally:
        engine.dispose()


def test_schema_and_numbering_on_sqlite(tmp_path: Path) -> None:
    _exercise_schema(f"sqlite:///{tmp_path / 'sub' / 'mailroom.db'}")
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'mailroom.db'}")
    with engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    engine.dispose()
    assert mode == "wal"


@pytest.mark.postgres
def test_schema_and_numbering_on_postgresql(postgres_url: str) -> None:
    _exercise_schema(postgres_url)


def test_month_bounds_and_month_of() -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Shanghai")
    start, end = month_bounds("2019-12", zone)
    assert start.isoformat() == "2019-12-01T00:00:00+08:00"
    assert end.isoformat() == "2020-01-01T00:00:00+08:00"
    assert month_of(datetime(2019, 5, 31, 16, 5, tzinfo=UTC), zone) == "2019-06"
    assert month_of(datetime(2019, 5, 31, 15, 59, tzinfo=UTC), zone) == "2019-05"


def _schema_drift(url: str) -> list[object]:
    """What Alembic's autogenerate would still change after `db upgrade`: the migrations
    and the models must describe the same schema."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))
    finally:
        engine.dispose()


def test_migrations_match_the_models_on_sqlite(tmp_path: Path) -> None:
    assert _schema_drift(f"sqlite:///{tmp_path / 'drift.db'}") == []


def test_migrations_match_the_models_on_postgresql(postgres_url: str) -> None:
    assert _schema_drift(postgres_url) == []


# --- storable text (store/storable.py) -------------------------------------------------

SURROGATE_ESCAPED = b"caf\xe9 \xd6\xd0".decode("utf-8", "surrogateescape")  # "caf\udce9 …"


def test_text_removes_what_a_database_refuses() -> None:
    assert storable.text("标题\x00含\x00NUL") == "标题含NUL"
    assert storable.text(SURROGATE_ESCAPED) == "caf "
    assert storable.text("\ud83d lone high") == " lone high"
    kept = "自然资源 ＋ é 👨\u200d👩\u200d👧 \ufffd \t\n"  # wide, combined, joined, replaced
    assert storable.text(kept) == kept
    assert storable.text(kept).encode("utf-8")  # what both databases need


def test_bounded_cuts_to_the_limit_and_marks_the_cut() -> None:
    assert storable.bounded("zfdd@example.cn", 320) == "zfdd@example.cn"
    address = "a" * 389 + "@example.cn"
    cut = storable.bounded(address, 320)
    assert len(cut) == 320 and cut == "a" * 319 + "…"
    assert storable.bounded("x" * 320, 320) == "x" * 320  # exactly full: not cut
    assert storable.bounded("\x00" * 5 + "x" * 320, 320) == "x" * 320  # cleaned, then counted
    assert storable.bounded("单位名称很长", 4) == "单位名…"
    assert storable.bounded("abc", 1) == "…"
    with pytest.raises(ValueError, match="positive"):
        storable.bounded("abc", 0)


def test_bounded_never_splits_a_character() -> None:
    accented = "cafe\u0301" * 10  # "café" with a combining accent
    assert storable.bounded(accented, 6) == "cafe\u0301…"
    assert storable.bounded(accented, 5) == "caf…"  # not "cafe…": the accent stays with its e
    family = "👨\u200d👩\u200d👧"
    assert storable.bounded("ab" + family + "cd", 6) == "ab…"
    assert storable.bounded("a" + "☺\ufe0f" * 4, 4) == "a☺\ufe0f…"
    assert storable.bounded("👍🏽👍🏽👍🏽", 4) == "👍🏽…"
    for value in (accented, "ab" + family * 3, "x" + "👍🏽" * 9):
        for limit in range(1, len(value) + 2):
            assert len(storable.bounded(value, limit)) <= limit


def test_json_values_are_cleaned_throughout() -> None:
    detail = {
        "parse_warnings": ["Subject: a\x00b", SURROGATE_ESCAPED],
        "na\x00me": {"nested": ("t\x00uple", 3, None, True, 1.5)},
        "receipt": "none",
    }
    assert storable.json_value(detail) == {
        "parse_warnings": ["Subject: ab", "caf "],
        "name": {"nested": ["tuple", 3, None, True, 1.5]},
        "receipt": "none",
    }
    assert detail["na\x00me"] == {"nested": ("t\x00uple", 3, None, True, 1.5)}  # a copy
    assert storable.json_value(["a\x00", 7]) == ["a", 7]


def test_row_bounds_each_column_and_cleans_the_rest() -> None:
    at = datetime(2019, 5, 8, 1, 30, tzinfo=UTC)
    values = {"sender": "a" * 389 + "@example.cn", "subject": "标题\x00" * 50_000,
              "kind": "submission", "uidvalidity": 0, "received_at": at, "reason": None,
              "detail": {"w": ["\x00"]}, "unknown": "x\x00y"}
    cleaned = storable.row(values, storable.MESSAGES)
    assert cleaned == {"sender": "a" * 319 + "…", "subject": "标题" * 50_000,
                       "kind": "submission", "uidvalidity": 0, "received_at": at,
                       "reason": None, "detail": {"w": [""]}, "unknown": "xy"}
    assert values["sender"] == "a" * 389 + "@example.cn"  # the input is left alone


def test_limits_are_the_models_column_lengths() -> None:
    assert set(storable.LIMITS) == set(Base.metadata.tables)
    for name, table in Base.metadata.tables.items():
        lengths = {c.name: c.type.length for c in table.columns
                   if isinstance(c.type, String) and c.type.length is not None}
        assert storable.LIMITS[name] == lengths
    assert storable.MESSAGES["sender"] == storable.SUBMISSIONS["sender"] == 320
    assert storable.MESSAGES["uid"] == storable.MESSAGES["mailbox"] == 500
    assert storable.MESSAGES["raw_path"] == storable.ATTACHMENTS["stored_path"] == 300
    assert "subject" not in storable.MESSAGES and "title" not in storable.SUBMISSIONS  # Text
    assert storable.limits_of(Submission) is storable.SUBMISSIONS


def _hostile_message_row() -> dict[str, object]:
    at = datetime(2019, 5, 8, 1, 30, tzinfo=UTC)
    return {
        "mailbox": "maildir:/var/inbox", "uidvalidity": 0, "uid": "1557279000.M1P1.x",
        "raw_sha256": "c" * 64, "raw_size": 10, "raw_path": "raw/cc/" + "c" * 64 + ".eml",
        "message_id": "id\x00@example.cn", "sender": "a" * 389 + "@example.cn",
        "subject": "自然资源综合执法大队+含\x00空字符的标题" + SURROGATE_ESCAPED,
        "date_header": at, "received_at": at, "kind": "submission", "reason": None,
        "detail": {"parse_warnings": ["filename: 报告\x00.docx"], "na\x00me": [SURROGATE_ESCAPED]},
        "processed_at": at,
    }


def _insert_a_cleaned_row(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
        sessions = make_session_factory(engine)
        with sessions.begin() as session:
            message_pk = queries.insert_message(
                session, storable.row(_hostile_message_row(), storable.MESSAGES))
        with sessions() as session:
            stored = session.get_one(Message, message_pk)
            assert stored.sender == "a" * 319 + "…"
            assert stored.subject == "自然资源综合执法大队+含空字符的标题caf "
            assert stored.message_id == "id@example.cn"
            assert stored.detail == {"parse_warnings": ["filename: 报告.docx"], "name": ["caf "]}
    finally:
        engine.dispose()


def test_a_cleaned_row_is_stored_on_sqlite(tmp_path: Path) -> None:
    _insert_a_cleaned_row(f"sqlite:///{tmp_path / 'storable.db'}")


def test_a_cleaned_row_is_stored_on_postgresql(postgres_url: str) -> None:
    _insert_a_cleaned_row(postgres_url)
    engine = make_engine(postgres_url)  # and the row as it came is refused, which is why
    try:
        sessions = make_session_factory(engine)
        raw = {**_hostile_message_row(), "raw_sha256": "d" * 64, "uid": "2",
               "subject": "含\x00空字符的标题"}
        plain_insert = insert(Message.__table__)  # not through queries, which may clean
        with pytest.raises(DataError, match="NUL"), sessions.begin() as session:
            session.execute(plain_insert, raw)
        with pytest.raises(DataError, match="character varying\\(320\\)"), \
                sessions.begin() as session:
            session.execute(plain_insert, {**raw, "subject": "", "message_id": ""})
    finally:
        engine.dispose()
