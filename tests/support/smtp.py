"""A private SMTP server on 127.0.0.1 for the outbox tests (a pytest plugin), on aiosmtpd.

Fixtures:

* ``smtp_server`` (function): a :class:`SmtpServer` offering STARTTLS (self-signed CA, as
  the Dovecot fixture makes) and AUTH PLAIN/LOGIN after TLS, started on a free port.
* ``smtp_tls_server`` (function): the same with implicit TLS (port-465 style).

A test tells the server how to answer the next DATA commands (``answer_next``: "421",
"550" or "drop" — close the connection after the message came in, without a reply), or
to hold every MAIL FROM until released (``stall``), to stand for a server that hangs.
Every accepted message is kept in ``received`` (envelope and bytes).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
import tempfile
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from support.dovecot import HOST, free_port, make_certificates

USERNAME = "office@example.cn"
PASSWORD = "smtp-secret-7f3a"
ANSWERS = {"421": "421 4.7.0 Service not available, try again later",
           "550": "550 5.7.1 Message rejected as spam (DT:SPM)"}


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_MAIL(self, smtp: SMTP, session: Session, envelope: Envelope,
                          address: str, options: list[str]) -> str:
        self.server.connections += 1
        while self.server.stalled.is_set():
            await asyncio.sleep(0.05)
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        answer = self.server.next_answer()
        if answer == "drop":
            assert smtp.transport is not None
            smtp.transport.close()  # the message came in; the reply never goes out
            self.server.dropped.append(bytes(envelope.original_content or b""))
            return "250 OK (never sent)"
        if answer is not None:
            return ANSWERS[answer]
        self.server.received.append(Received(
            str(envelope.mail_from), tuple(envelope.rcpt_tos),
            bytes(envelope.original_content or b"")))
        return "250 2.0.0 OK queued"


def _authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                  data: Any) -> AuthResult:
    ok = (isinstance(data, LoginPassword) and data.login.decode() == USERNAME
          and data.password.decode() == PASSWORD)
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


class SmtpServer:
    host = HOST
    username = USERNAME
    password = PASSWORD

    def __init__(self, tls_dir: Path, implicit_tls: bool) -> None:
        self.ca_file = str(tls_dir / "ca.crt")
        self.implicit_tls = implicit_tls
        self.received: list[Received] = []
        self.dropped: list[bytes] = []
        self.connections = 0
        self.stalled = threading.Event()
        self.running = False
        self._answers: deque[str] = deque()
        self._lock = threading.Lock()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls_dir / "server.crt", tls_dir / "server.key")
        self.port = free_port()
        self._context = context
        self._controller = self._make_controller()

    def _make_controller(self) -> Controller:
        # aiosmtpd counts only STARTTLS as TLS for auth_require_tls; implicit TLS is TLS too
        options: dict[str, Any] = {"authenticator": _authenticate,
                                   "auth_require_tls": not self.implicit_tls}
        tls = "ssl_context" if self.implicit_tls else "tls_context"
        options[tls] = self._context
        return Controller(_Handler(self), hostname=HOST, port=self.port,
                          server_hostname="localhost", **options)

    @property
    def security(self) -> str:
        return "tls" if self.implicit_tls else "starttls"

    def start(self) -> None:
        """Start serving (again, on the same port, after `stop`)."""
        if self._controller.loop.is_closed():
            self._controller = self._make_controller()
        self._controller.start()
        self.running = True

    def stop(self) -> None:
        """Stop serving (a test may stop it early, to stand for a server that is down)."""
        self.stalled.clear()
        if self.running:
            self.running = False
            self._controller.stop()

    def answer_next(self, *answers: str) -> None:
        """How to answer the next DATA commands: "421", "550" or "drop"; then 250 again."""
        with self._lock:
            self._answers.extend(answers)

    def next_answer(self) -> str | None:
        with self._lock:
            return self._answers.popleft() if self._answers else None

    def stall(self) -> None:
        self.stalled.set()

    def release(self) -> None:
        self.stalled.clear()

    def section(self, **overrides: Any) -> dict[str, Any]:
        """A config [smtp] section for this server (TLS verified against its CA, AUTH)."""
        values: dict[str, Any] = {
            "host": HOST, "port": self.port, "security": self.security,
            "username": self.username, "password": self.password, "ca_file": self.ca_file,
            "sender": self.username, "max_per_minute": 1000}
        values.update(overrides)
        return values

    def messages(self) -> list[EmailMessage]:
        return [received.message for received in self.received]


@pytest.fixture(scope="session")
def smtp_tls_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="mailroom-smtp-") as root:
        yield make_certificates(Path(root) / "tls").parent


def _serve(tls_dir: Path, implicit_tls: bool) -> Iterator[SmtpServer]:
    server = SmtpServer(tls_dir, implicit_tls)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_server(smtp_tls_dir: Path) -> Iterator[SmtpServer]:
    yield from _serve(smtp_tls_dir, implicit_tls=False)


@pytest.fixture
def smtp_tls_server(smtp_tls_dir: Path) -> Iterator[SmtpServer]:
    yield from _serve(smtp_tls_dir, implicit_tls=True)
