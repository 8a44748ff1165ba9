"""A private Dovecot on 127.0.0.1 for the IMAP tests (a pytest plugin).

Fixtures:

* ``dovecot`` (session): a running :class:`DovecotServer`, started once from its own config,
  base_dir, state and log, on two free ports (plain/STARTTLS and implicit TLS), with a
  self-signed CA and a server certificate for 127.0.0.1 and localhost.
* ``imap_account`` (function): a fresh user with an empty mailbox, as an :class:`ImapAccount`
  that appends and inspects mail with imapclient directly, so tests don't interfere.

Running as root (CI): Dovecot refuses to touch mail as uid 0, so the userdb hands out
``nobody``; the temp dir lives outside pytest's 0700 ``/tmp/pytest-of-root`` and is made
traversable (0711), with the mail folder owned by ``nobody`` and the passwd-files readable
by the ``dovecot`` group (the auth process runs as that user). As another user, Dovecot runs
rootless: every service as that user, without chroot.

Gotchas met on the way: a passwd-file is re-read at most once a second, so each user has
their own (a new path is read at once); Dovecot's auth penalty delays the next login from
127.0.0.1 by seconds after a wrong password, so its anvil socket is made unusable; and
``auth_failure_delay = 0`` answers a wrong password at once.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from imapclient import IMAPClient

from mailroom.config import ImapSettings

HOST = "127.0.0.1"
INSTALL_HINT = "install it with `apt-get install dovecot-imapd`"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0

CONFIG_TEMPLATE = """\
instance_name = mailroom-test-{instance}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = {host}
shutdown_clients = yes
{identity}
ssl = yes
ssl_cert = <{root}/tls/server.crt
ssl_key = <{root}/tls/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
auth_verbose = yes
imap_id_log = *
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service anvil {{
{chroot}  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {tls_port}
    ssl = yes
  }}
{chroot}}}
"""

SERVER_EXTENSIONS = """\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


@dataclass(frozen=True)
class ImapUser:
    username: str
    password: str


def find_dovecot() -> str:
    """The dovecot binary, or a test failure (never a skip) that says how to install it."""
    found = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")
    if found:
        return found
    where = "CI (CI=true) must provide it" if os.environ.get("CI") == "true" else "it is needed"
    pytest.fail(f"Dovecot is not installed and {where} for the IMAP tests: {INSTALL_HINT}",
                pytrace=False)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def make_certificates(directory: Path) -> Path:
    """A throwaway CA and a server cert for localhost / 127.0.0.1, made with the openssl CLI."""
    directory.mkdir(mode=0o700)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def openssl(*args: str) -> None:
        done = subprocess.run(["openssl", *args], cwd=directory, capture_output=True, text=True)
        if done.returncode:
            pytest.fail(f"openssl {args[0]} failed: {done.stderr.strip()}", pytrace=False)

    openssl("req", "-x509", "-new", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", "/CN=mailroom test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=localhost")
    (directory / "server.ext").write_text(SERVER_EXTENSIONS)
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "server.ext")
    return directory / "ca.crt"


class DovecotServer:
    """One private Dovecot: ports, CA file, log, and users added while it runs."""

    host = HOST

    def __init__(self, binary: str, root: Path) -> None:
        self.binary = binary
        self.root = root
        self.log_path = root / "dovecot.log"
        self.ca_file = make_certificates(root / "tls")
        self.port = 0
        self.tls_port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._users: dict[str, ImapUser] = {}
        self._lock = threading.Lock()
        self._mail_uid, self._mail_gid = self._mail_owner()
        mail = root / "mail"
        mail.mkdir(mode=0o700)
        os.chown(mail, self._mail_uid, self._mail_gid)
        (root / "users").mkdir(mode=0o755)

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, keep_ports: bool = False) -> None:
        """Start on two free ports; `keep_ports`: on the ports it had (a restart)."""
        for attempt in range(3):  # a free port may be taken between probing and binding
            if not (keep_ports and self.port):
                self.port, self.tls_port = free_port(), free_port()
            (self.root / "dovecot.conf").write_text(self._config(attempt))
            with open(self.root / "stderr.log", "wb") as stderr:
                self._process = subprocess.Popen(
                    [self.binary, "-c", str(self.root / "dovecot.conf"), "-F"],
                    stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr)
            if self._wait_ready():
                return
            self.stop()
            if "Address already in use" not in self.log_tail():
                break
        pytest.fail(f"Dovecot did not start; config {self.root / 'dovecot.conf'}, "
                    f"log tail:\n{self.log_tail()}", pytrace=False)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _wait_ready(self) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT
        pending = [self.port, self.tls_port]
        while pending and time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                with socket.create_connection((HOST, pending[0]), timeout=1):
                    pending.pop(0)
            except OSError:
                time.sleep(0.05)
        return not pending

    def _config(self, attempt: int) -> str:
        if os.geteuid() == 0:
            identity, chroot = "", ""
        else:  # rootless: everything runs as the current user, no chroot
            me = pwd.getpwuid(os.getuid()).pw_name
            identity = (f"default_internal_user = {me}\ndefault_login_user = {me}\n"
                        f"default_internal_group = {grp.getgrgid(os.getgid()).gr_name}")
            chroot = "  chroot =\n"
        return CONFIG_TEMPLATE.format(
            instance=f"{os.getpid()}-{attempt}", root=self.root, host=HOST, port=self.port,
            tls_port=self.tls_port, uid=self._mail_uid, gid=self._mail_gid,
            identity=identity, chroot=chroot)

    @staticmethod
    def _mail_owner() -> tuple[int, int]:
        if os.geteuid() != 0:
            return os.getuid(), os.getgid()
        nobody = pwd.getpwnam("nobody")  # Dovecot refuses to access mail as root
        return nobody.pw_uid, nobody.pw_gid

    # -- users -----------------------------------------------------------------------------

    def user(self, name: str | None = None, password: str | None = None) -> ImapUser:
        """The user `name` (created on first use, with `password` or a random one), or a
        new user when no name is given."""
        with self._lock:
            if name is None:
                name = next(f"user{n}" for n in range(1, len(self._users) + 2)
                            if f"user{n}" not in self._users)
            if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
                raise ValueError(f"unusable IMAP user name {name!r}")
            if name not in self._users:
                self._users[name] = ImapUser(name, password or f"pw-{os.urandom(9).hex()}")
                self._write_passwd(self._users[name])
            return self._users[name]

    def _write_passwd(self, user: ImapUser) -> None:
        # One passwd-file per user: Dovecot re-reads a changed passwd-file at most once a
        # second, but opens a path it has not seen yet (here: a new user's) at once.
        path = self.root / "users" / user.username
        path.write_text(f"{user.username}:{{PLAIN}}{user.password}::::::\n", encoding="utf-8")
        if os.geteuid() == 0:
            try:  # the auth process runs as the dovecot user
                os.chown(path, 0, pwd.getpwnam("dovecot").pw_gid)
                path.chmod(0o640)
            except KeyError:
                path.chmod(0o644)

    def settings(self, user: ImapUser, **overrides: Any) -> ImapSettings:
        """ImapSettings for `user`: plaintext on the 143-style port unless overridden."""
        values: dict[str, Any] = {"host": HOST, "port": self.port, "security": "plain",
                                  "username": user.username, "password": user.password}
        values.update(overrides)
        return ImapSettings(**values)

    @contextmanager
    def client(self, user: ImapUser) -> Iterator[IMAPClient]:
        """A logged-in imapclient connection (plaintext), logged out afterwards."""
        with IMAPClient(HOST, self.port, ssl=False, timeout=10) as client:
            client.login(user.username, user.password)
            client.normalise_times = False
            yield client

    def kick(self, user: ImapUser) -> None:
        """Disconnect every session of `user` (doveadm kick), as a server restart would."""
        doveadm = shutil.which("doveadm") or shutil.which("doveadm", path="/usr/bin:/usr/sbin")
        assert doveadm, "doveadm is missing (it comes with dovecot-core)"
        done = subprocess.run([doveadm, "-c", str(self.root / "dovecot.conf"), "kick",
                               user.username], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

    # -- log -------------------------------------------------------------------------------

    def log_text(self) -> str:
        with suppress(FileNotFoundError):
            return self.log_path.read_text(errors="replace")
        return ""

    def wait_for_log(self, needle: str, timeout: float = 5.0) -> bool:
        """Whether `needle` shows up in the log within `timeout` (the log is written async)."""
        deadline = time.monotonic() + timeout
        while needle not in self.log_text():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def log_tail(self, lines: int = 30) -> str:
        stderr = ""
        with suppress(FileNotFoundError):
            stderr = (self.root / "stderr.log").read_text(errors="replace")
        text = (stderr + self.log_text()).splitlines()
        return "\n".join(text[-lines:])


class ImapAccount:
    """A user's mailbox on the fixture server, handled with imapclient directly.

    Folder names are given and returned as in mailroom's config: '/' for hierarchy,
    mapped to the server's delimiter ('.' for this Dovecot) on the wire.
    """

    def __init__(self, server: DovecotServer, user: ImapUser) -> None:
        self.server = server
        self.user = user
        self.username = user.username
        self.password = user.password

    def settings(self, **overrides: Any) -> ImapSettings:
        return self.server.settings(self.user, **overrides)

    def client(self) -> AbstractContextManager[IMAPClient]:
        return self.server.client(self.user)

    @contextmanager
    def _in(self, folder: str) -> Iterator[IMAPClient]:
        """A client with `folder` selected read-only."""
        with self.client() as client:
            client.select_folder(_on_server(client, folder), readonly=True)
            yield client

    def append(self, raw: bytes, internaldate: datetime, folder: str = "INBOX",
               flags: Sequence[bytes] = ()) -> int:
        """APPEND `raw` with this INTERNALDATE (timezone-aware); returns the new UID."""
        if internaldate.tzinfo is None:
            raise ValueError("give the INTERNALDATE with a time zone")
        with self.client() as client:
            response = client.append(_on_server(client, folder), raw, flags=flags,
                                     msg_time=internaldate)
        found = re.search(rb"APPENDUID \d+ (\d+)", response)
        assert found, response
        return int(found.group(1))

    def count(self, folder: str = "INBOX") -> int:
        with self.client() as client:
            status = client.folder_status(_on_server(client, folder), ["MESSAGES"])
            return int(status[b"MESSAGES"])

    def uids(self, folder: str = "INBOX") -> list[int]:
        with self._in(folder) as client:
            return sorted(client.search("ALL"))

    def flags(self, folder: str = "INBOX") -> dict[int, tuple[bytes, ...]]:
        with self._in(folder) as client:
            return dict(client.get_flags(client.search("ALL")))

    def messages(self, folder: str = "INBOX") -> list[bytes]:
        """The raw mails in `folder`, in UID order."""
        with self._in(folder) as client:
            fetched = client.fetch(client.search("ALL"), ["BODY.PEEK[]"])
            return [fetched[uid][b"BODY[]"] for uid in sorted(fetched)]

    def folders(self) -> list[str]:
        """The folders that hold mail ('/' for hierarchy; \\Noselect parents left out)."""
        with self.client() as client:
            return sorted(name.replace(delimiter.decode(), "/") if delimiter else name
                          for flags, delimiter, name in client.list_folders()
                          if b"\\NOSELECT" not in {flag.upper() for flag in flags})


def _on_server(client: IMAPClient, folder: str) -> str:
    """`folder` with '/' replaced by the server's hierarchy delimiter."""
    delimiter = client.list_folders("", "")[0][1]
    return folder.replace("/", delimiter.decode()) if delimiter else folder


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    binary = find_dovecot()
    root = Path(tempfile.mkdtemp(prefix="mailroom-dovecot-"))
    try:
        root.chmod(0o711)  # the mail processes (nobody) must reach root/mail
        server = DovecotServer(binary, root)
        try:
            server.start()
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def imap_account(dovecot: DovecotServer) -> ImapAccount:
    return ImapAccount(dovecot, dovecot.user())
