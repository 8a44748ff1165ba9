"""One instance per mailbox and database: the lock `run` (and `import`) hold while they live.

A second `run` on the same mailbox and database is refused with who holds the lock (pid,
host, since); a `poll --once` beside it leaves the work to it. The kernel or the server
drops the lock when its holder dies, so a crash (even SIGKILL) leaves nothing stale:

- SQLite: `flock` on a lock file beside the database file, one per mailbox
  (`mailroom.db.<key>.lock`); the holder writes its pid, host and start time into it.
- PostgreSQL: a session advisory lock keyed by the mailbox, on a connection held open for
  the holder's life; its `application_name` carries the pid and host, the connection's
  `backend_start` is the "since".

Use: `lock = instance_lock(engine, mailbox, "run"); lock.acquire()` (raises InstanceBusy)
… `lock.release()`; or `lock.holder()` to ask who holds it without taking it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from mailroom.errors import MailroomError

PG_NAMESPACE = 0x6D726F6F  # advisory locks' first key: 'mroo', mailroom's own space


@dataclass(frozen=True)
class Holder:
    """Who holds a mailbox: a process on a host, since when, doing what."""

    pid: int | None
    host: str
    since: datetime | None
    command: str = ""

    def describe(self) -> str:
        what = f"mailroom {self.command}" if self.command else "mailroom"
        pid = f"pid {self.pid}" if self.pid else "pid unknown"
        since = f", since {self.since.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" \
            if self.since else ""
        return f"{what} ({pid} on {self.host or 'an unknown host'}{since})"


class InstanceBusy(MailroomError):
    """Another process holds the mailbox's instance lock."""

    def __init__(self, mailbox: str, holder: Holder | None) -> None:
        who = holder.describe() if holder else "another mailroom process"
        super().__init__(f"{who} is already working on {mailbox} with this database")
        self.holder = holder


class InstanceLock(Protocol):
    def acquire(self) -> None:
        """Take the lock, or raise InstanceBusy saying who holds it."""
        ...

    def holder(self) -> Holder | None:
        """Who holds the lock now (None: nobody); never takes it."""
        ...

    def reassert(self) -> None:
        """After a database outage: take the lock again if the outage dropped it (raises
        InstanceBusy when another process took it meanwhile)."""
        ...

    def release(self) -> None: ...


def mailbox_key(mailbox: str) -> str:
    return hashlib.sha256(mailbox.encode("utf-8")).hexdigest()[:16]


def me(command: str) -> Holder:
    return Holder(os.getpid(), socket.gethostname(), datetime.now(UTC), command)


def instance_lock(engine: Engine, mailbox: str, command: str,
                  fallback_folder: Path | None = None) -> InstanceLock:
    """The lock for `mailbox` on the database of `engine`. A SQLite database without a file
    keeps its lock file in `fallback_folder` (the store)."""
    if engine.dialect.name == "postgresql":
        return PostgresInstanceLock(engine, mailbox, command)
    database = engine.url.database or ""
    if database and database != ":memory:":
        path = Path(f"{database}.{mailbox_key(mailbox)}.lock")
    else:
        assert fallback_folder is not None, "a SQLite database in memory needs a lock folder"
        path = fallback_folder / f".instance.{mailbox_key(mailbox)}.lock"
    return FileInstanceLock(path, mailbox, command)


class FileInstanceLock:
    """flock on a file; the holder's details are the file's content (JSON)."""

    def __init__(self, path: Path, mailbox: str, command: str) -> None:
        self.path = path
        self.mailbox = mailbox
        self.command = command
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise InstanceBusy(self.mailbox, self.holder()) from None
        holder = me(self.command)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": holder.pid, "host": holder.host,
                                 "since": holder.since.isoformat() if holder.since else None,
                                 "command": holder.command, "mailbox": self.mailbox}))
        handle.flush()
        self._handle = handle

    def holder(self) -> Holder | None:
        if self._handle is not None:
            return _read_holder(self.path)
        try:
            with self.path.open("r", encoding="utf-8") as handle:
                try:  # a shared lock conflicts only with a holder's exclusive one
                    fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
                except BlockingIOError:
                    return _read_holder(self.path) or Holder(None, "", None)
                fcntl.flock(handle, fcntl.LOCK_UN)
                return None
        except FileNotFoundError:
            return None

    def reassert(self) -> None:
        pass  # a lock on a local file outlives any database outage

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()


def _read_holder(path: Path) -> Holder | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or "pid" not in data:
        return None
    since = data.get("since")
    return Holder(data.get("pid"), str(data.get("host", "")),
                  datetime.fromisoformat(since) if since else None, str(data.get("command", "")))


class PostgresInstanceLock:
    """pg_try_advisory_lock(namespace, key of the mailbox) on a connection kept open."""

    def __init__(self, engine: Engine, mailbox: str, command: str) -> None:
        self.engine = engine
        self.mailbox = mailbox
        self.command = command
        digest = hashlib.sha256(mailbox.encode("utf-8")).digest()
        self.key = int.from_bytes(digest[:4], "big", signed=True)
        self._connection: Connection | None = None

    def acquire(self) -> None:
        connection = self.engine.connect()
        try:
            holder = me(self.command)
            name = f"mailroom {self.command} pid={holder.pid} host={holder.host}"[:63]
            connection.execute(text("SELECT set_config('application_name', :name, false)"),
                               {"name": name})
            got = connection.execute(text("SELECT pg_try_advisory_lock(:ns, :key)"),
                                     {"ns": PG_NAMESPACE, "key": self.key}).scalar()
            connection.commit()
        except BaseException:
            connection.close()
            raise
        if not got:
            connection.close()
            raise InstanceBusy(self.mailbox, self.holder())
        self._connection = connection

    def holder(self) -> Holder | None:
        with self.engine.connect() as connection:
            row = connection.execute(text(
                "SELECT a.application_name, a.backend_start, a.client_addr::text"
                " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
                " AND l.classid::bigint = :ns AND l.objid::bigint = :key"),
                {"ns": PG_NAMESPACE, "key": self.key & 0xFFFFFFFF}).first()
        if row is None:
            return None
        return _parse_application_name(row[0] or "", row[1], row[2] or "")

    def reassert(self) -> None:
        connection = self._connection
        if connection is not None:
            try:
                connection.execute(text("SELECT 1")).scalar()
                connection.commit()
                return
            except DBAPIError:  # the server dropped the session, and the lock with it
                with suppress(Exception):
                    connection.close()
        self._connection = None
        self.acquire()

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.execute(text("SELECT pg_advisory_unlock(:ns, :key)"),
                                   {"ns": PG_NAMESPACE, "key": self.key})
                connection.commit()
            except DBAPIError:
                pass  # the session is gone, and its lock with it
            finally:
                with suppress(Exception):
                    connection.close()


def _parse_application_name(name: str, since: datetime | None, address: str) -> Holder:
    fields = dict(part.split("=", 1) for part in name.split() if "=" in part)
    words = [part for part in name.split() if "=" not in part]
    pid = fields.get("pid", "")
    return Holder(int(pid) if pid.isdigit() else None, fields.get("host") or address,
                  since, words[1] if len(words) > 1 else "")
