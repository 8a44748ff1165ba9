"""Engine and session setup, and schema migration through Alembic (`mailroom db upgrade`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from mailroom.errors import ConfigError, StoreError
from mailroom.store.locks import hold_lock

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
SUPPORTED_URLS = "sqlite:///PATH or postgresql+psycopg://user@host/db"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 64 MiB of page cache (default 2 MiB): the dedupe index of a large store is read at
    # random, one B-tree descent per band key (benchmarks/dedupe.py)
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def check_database_url(url: str) -> None:
    """Raise ValueError, saying what is supported, for a URL mailroom cannot use. The form
    only: whether the server is there and the driver installed shows when connecting."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ValueError(f"not a database URL: use {SUPPORTED_URLS}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        remote = parsed.host or parsed.username or parsed.port
        if parsed.get_driver_name() != "pysqlite" or remote or parsed.database in (None, "",
                                                                                 ":memory:"):
            raise ValueError("SQLite is a file: use sqlite:///PATH")
    elif backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            raise ValueError("PostgreSQL goes through the psycopg driver: use "
                             "postgresql+psycopg://user@host/db")
    else:
        raise ValueError(f"{backend} databases are not supported: use {SUPPORTED_URLS}")


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout. A URL no
    engine can be made for is a ConfigError saying what is supported."""
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() != "sqlite":
            return create_engine(url, pool_pre_ping=True)
        engine = create_engine(url)
    except (ArgumentError, NoSuchModuleError, ValueError):
        raise ConfigError(f"database.url: not a database URL mailroom can use: "
                          f"use {SUPPORTED_URLS}") from None
    except ImportError as exc:
        extra = " (pip install 'mailroom[postgres]')" if "psycopg" in str(exc) else ""
        raise ConfigError(f"database.url: the driver for {parsed.drivername} is not installed"
                          f"{extra}: {exc}") from None
    database = parsed.database or ""
    if database and database != ":memory:":
        try:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder of the database {database}: "
                             f"{exc.strerror}") from None
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config(engine: Engine) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> str:
    """Create or migrate the schema to the newest revision; returns that revision."""
    try:
        command.upgrade(_alembic_config(engine), "head")
    except CommandError as exc:  # a revision this mailroom does not know
        raise StoreError(f"cannot upgrade the database: {exc} (was it made by a newer "
                         "mailroom?)") from None
    return current_revision(engine) or ""


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    return head


def prepare_schema(engine: Engine, lock: Path | None = None) -> None:
    """Create the schema in an empty database (a first run needs no separate step); refuse
    a database at another revision: migrating is the admin's deliberate `db upgrade`.

    `lock`: a lock file (in the storage folder) held while the schema is looked at and
    created, so that processes starting together on a fresh database wait for the first
    one's schema instead of racing it (SQLite shows the tables one by one as they are
    created: a racer would find half a schema)."""
    if current_revision(engine) != head_revision():
        with hold_lock(lock) if lock is not None else nullcontext(), _database_lock(engine):
            if current_revision(engine) is None and not inspect(engine).get_table_names():
                log.info("empty database: creating the schema")
                upgrade(engine)
    require_current_schema(engine)


SCHEMA_ADVISORY_KEY = 0x6D61696C726F6F6D  # "mailroom": processes with other stores


@contextmanager
def _database_lock(engine: Engine) -> Iterator[None]:
    """On PostgreSQL, a session advisory lock while the schema is created: processes that
    share the database but not the store (two mailboxes) wait for one schema too."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        connection.exec_driver_sql(f"SELECT pg_advisory_lock({SCHEMA_ADVISORY_KEY})")
        try:
            yield
        finally:
            connection.exec_driver_sql(f"SELECT pg_advisory_unlock({SCHEMA_ADVISORY_KEY})")
            connection.commit()


def require_current_schema(engine: Engine) -> None:
    """Refuse to work on a database that `mailroom db upgrade` has not brought up to date."""
    current = current_revision(engine)
    if current != head_revision():
        state = "has no schema" if current is None else f"is at revision {current}"
        raise StoreError(f"the database {state}; run `mailroom db upgrade` first")
