"""A private PostgreSQL server for the tests: initdb + postgres on a free port on 127.0.0.1.

initdb refuses to run as root, so as root the cluster belongs to the `postgres` user and
lives below a folder that user can reach (not /tmp/pytest-of-root, which is 0700).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _binary(name: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    found = candidates[0] if candidates else shutil.which(name)
    if not found:
        pytest.fail(f"PostgreSQL's {name} not found: run scripts/setup --servers "
                    "(apt-get install postgresql)")
    return found


class PostgresServer:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="mailroom-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_root = os.getuid() == 0
        self.process: subprocess.Popen[bytes] | None = None

    def _run_as_owner(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *argv] if self.as_root else argv

    def start(self) -> None:
        if self.as_root:
            owner = pwd.getpwnam("postgres")
            os.chmod(self.root, 0o755)
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        subprocess.run(
            self._run_as_owner([_binary("initdb"), "-D", str(self.data), "-U", "mailroom",
                                "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]),
            check=True, capture_output=True,
        )
        log = open(self.root / "postgres.log", "wb")  # noqa: SIM115 - closed in stop()
        self._log = log
        self.process = subprocess.Popen(
            self._run_as_owner([_binary("postgres"), "-D", str(self.data), "-p", str(self.port),
                                "-h", "127.0.0.1", "-k", str(self.root),
                                "-c", "fsync=off", "-c", "full_page_writes=off"]),
            stdout=log, stderr=subprocess.STDOUT,
        )
        self._wait_ready()
        subprocess.run([_binary("createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                        "-U", "mailroom", "mailroom"], check=True, capture_output=True)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        tail = (self.root / "postgres.log").read_text(errors="replace")[-2000:]
        self.stop()
        pytest.fail(f"PostgreSQL did not start:\n{tail}")

    def url(self, database: str = "mailroom") -> str:
        return f"postgresql+psycopg://mailroom@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        subprocess.run([_binary("createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                        "-U", "mailroom", name], check=True, capture_output=True)
        return self.url(name)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
            self._log.close()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


_databases = iter(range(1, 10_000))


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> str:
    """A fresh, empty database on the session's PostgreSQL server."""
    return postgres.create_database(f"test_{next(_databases)}")
