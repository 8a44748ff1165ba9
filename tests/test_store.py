from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from mailroom.errors import StoreError
from mailroom.mailbox.base import MailKey
from mailroom.store import queries
from mailroom.store.database import (
    current_revision,
    head_revision,
    make_engine,
    make_session_factory,
    require_current_schema,
    upgrade,
)
from mailroom.store.files import FileStore, safe_extension, sha256_hex
from mailroom.store.models import Base, Message
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
