"""Connecting to an IMAP server in clear stages: DNS, TCP, TLS, login, IMAP ID.

`connect` names the stage that failed in a ConnectError; TLS is always verified and never
falls back to plaintext. The password never reaches a log line or an exception.
"""

from __future__ import annotations

import logging
import re
import socket
import ssl
from collections.abc import Iterable
from contextlib import suppress
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from mailroom.config import ImapSettings
from mailroom.errors import ConfigError, ConnectError, MailboxError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0  # seconds, for connecting and for every read
UNSAFE_LOGIN_HINT = (
    "the server refused the session as an 'Unsafe Login' (NetEase 126.com/163.com do this "
    "when the client does not identify itself with IMAP ID): set [imap] client_id, and allow "
    "IMAP clients in the mailbox's web settings"
)


class _TlsContext(ssl.SSLContext):
    """A verifying client context that notes when a handshake starts, to name the stage."""

    handshake_started = False

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self.handshake_started = True
        return super().wrap_socket(*args, **kwargs)


def tls_context(ca_file: str = "") -> _TlsContext:
    """Verify certificate and host name against the system store plus `ca_file`, if given."""
    context = _TlsContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"[imap] ca_file {ca_file}: cannot load CA certificates: "
                              f"{getattr(exc, 'strerror', None) or exc}") from None
    return context


def reason(exc: BaseException) -> str:
    """The server's or the OS's words, without Python's b'...' wrapping."""
    text = getattr(exc, "strerror", None) if isinstance(exc, OSError) else None
    text = text or str(exc) or type(exc).__name__
    return re.sub(r"""\bb(['"])(.*?)\1""", r"\2", text)


def is_unsafe_login(exc: BaseException) -> bool:
    return "unsafe login" in str(exc).lower()


def mailbox_error(exc: BaseException, doing: str) -> MailboxError:
    if is_unsafe_login(exc):
        return ConnectError("select", f"{doing}: {UNSAFE_LOGIN_HINT} ({reason(exc)})")
    return MailboxError(f"{doing} failed: {reason(exc)}")


def discard(client: IMAPClient) -> None:
    """Log out; on a dead connection just close the socket."""
    try:
        client.logout()
    except Exception:
        with suppress(Exception):
            client.shutdown()


def has_capability(client: IMAPClient, capability: str, ignored: frozenset[str]) -> bool:
    return capability not in ignored and bool(client.has_capability(capability))


def connect(settings: ImapSettings, *, timeout: float = DEFAULT_TIMEOUT,
            ignore_capabilities: Iterable[str] = ()) -> IMAPClient:
    """A logged-in client that has sent IMAP ID; ConnectError names the failing stage.

    `ignore_capabilities` makes mailroom act as if the server lacked them (tests, workarounds).
    """
    ignored = frozenset(c.upper() for c in ignore_capabilities)
    password = settings.resolve_password()
    host, port = settings.host, settings.effective_port
    where = f"{host}:{port}"
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConnectError("dns", f"cannot resolve imap host {host}: {reason(exc)}") from None
    context = None if settings.security == "plain" else tls_context(settings.ca_file)
    client = _open(settings, context, timeout, where)
    try:
        if settings.security == "starttls":
            assert context is not None
            _starttls(client, context, where, ignored)
        _login(client, settings.username, password, where)
        if has_capability(client, "ID", ignored):
            _send_id(client, settings, where)
    except BaseException:
        discard(client)
        raise
    client.normalise_times = False  # INTERNALDATE as timezone-aware datetimes
    return client


def _tls_failure(exc: BaseException, where: str) -> ConnectError:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ConnectError("tls", f"TLS certificate of {where} is not trusted: "
                            f"{exc.verify_message} (set [imap] ca_file to the CA that signed "
                            "it if this is a private server)")
    return ConnectError("tls", f"TLS handshake with {where} failed: {reason(exc)}")


def _open(settings: ImapSettings, context: _TlsContext | None, timeout: float,
          where: str) -> IMAPClient:
    try:
        return IMAPClient(settings.host, settings.effective_port,
                          ssl=settings.security == "tls", ssl_context=context, timeout=timeout)
    except socket.gaierror as exc:
        raise ConnectError("dns", f"cannot resolve imap host {settings.host}: "
                           f"{reason(exc)}") from None
    except ssl.SSLError as exc:
        raise _tls_failure(exc, where) from None
    except (OSError, IMAPClientError) as exc:
        if context is not None and context.handshake_started:
            raise _tls_failure(exc, where) from None
        if isinstance(exc, OSError):
            raise ConnectError("tcp", f"cannot connect to imap server {where}: "
                               f"{reason(exc)}") from None
        raise ConnectError("tcp", f"{where} did not greet as an IMAP server "
                           f"(check port and security): {reason(exc)}") from None


def _starttls(client: IMAPClient, context: _TlsContext, where: str,
              ignored: frozenset[str]) -> None:
    if not has_capability(client, "STARTTLS", ignored):
        raise ConnectError("tls", f"{where} does not offer STARTTLS; mailroom will not log in "
                           'over plaintext (use security = "tls", usually on port 993)')
    try:
        client.starttls(context)
    except (OSError, IMAPClientError) as exc:  # ssl.SSLError is an OSError
        raise _tls_failure(exc, where) from None


def _login(client: IMAPClient, username: str, password: str, where: str) -> None:
    try:
        if (username + password).isascii() or not client.has_capability("AUTH=PLAIN"):
            client.login(username, password)
        else:  # LOGIN cannot carry non-ASCII; SASL PLAIN sends UTF-8
            client.plain_login(username, password)
    except (OSError, IMAPClientError, UnicodeError) as exc:
        if is_unsafe_login(exc):
            raise ConnectError("login", f"login as {username} at {where}: "
                               f"{UNSAFE_LOGIN_HINT}") from None
        said = reason(exc).replace(password, "***") if password else reason(exc)
        kind = "refused" if isinstance(exc, LoginError) else "failed"
        raise ConnectError("login", f"login as {username} at {where} {kind}: {said} "
                           "(check [imap] username and password; NetEase mailboxes need an "
                           "authorization code, not the web password)") from None


def _send_id(client: IMAPClient, settings: ImapSettings, where: str) -> None:
    try:
        answer = client.id_(settings.client_id.as_imap_id())
    except (OSError, IMAPClientError) as exc:
        raise ConnectError("id", f"{where} rejected the IMAP ID command: {reason(exc)}") from None
    log.debug("IMAP ID of %s: %s", where, answer)
