"""Lock files in the storage folder, which every mailroom process on one store shares.

`flock` locks: the kernel drops a lock when its holder dies, so a killed process never
blocks the next one, and there is no stale lock file to clean up (the file stays; only the
lock on it matters).

- `PASS_LOCK`: one pass over the mailbox at a time (fetch, record, file away, send);
  another `poll --once` leaves the mailbox to the process that holds it.
- `OUTBOX_LOCK`: one drain of the outbox at a time.
- `SCHEMA_LOCK`: creating the schema of an empty database; concurrent first runs wait.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PASS_LOCK = ".pass.lock"
OUTBOX_LOCK = ".outbox.lock"
SCHEMA_LOCK = ".schema.lock"


@contextmanager
def try_lock(path: Path) -> Iterator[bool]:
    """Hold an exclusive lock on `path` if nobody else does; yields False when another
    process holds it (then nothing is held)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def hold_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path`, waiting for another holder to let go."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
