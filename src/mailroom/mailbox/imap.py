"""The IMAP mailbox: fetch by UID, file mail away without deleting it (connecting: imap_connect).

`ImapSource` implements the
MailSource protocol: it reads INBOX with BODY.PEEK[] (\\Seen stays untouched), orders mail
by INTERNALDATE then UID, and moves handled mail with UID MOVE, or UID COPY + UID EXPUNGE of
exactly those UIDs (UIDPLUS), or UID COPY + a `$MailroomDone` keyword that later fetches
skip. A bare EXPUNGE is never sent. The password never reaches a log line or an exception.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import quote

from imapclient import DELETED, IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from mailroom.config import ImapSettings
from mailroom.errors import ConnectError, MailboxError
from mailroom.mailbox.base import FetchedMail, MailKey
from mailroom.mailbox.imap_connect import (
    DEFAULT_TIMEOUT,
    UNSAFE_LOGIN_HINT,
    connect,
    discard,
    has_capability,
    is_unsafe_login,
    mailbox_error,
    reason,
)

log = logging.getLogger(__name__)

DONE_KEYWORD = "$MailroomDone"  # marks mail copied away where it cannot be moved
MAX_BATCH_BYTES = 64 * 1024 * 1024  # a batch also ends when its mail adds up to this
IDLE_LIMIT = 25 * 60.0  # RFC 2177: leave IDLE before the server's 30-minute logout
UID_CHUNK = 500  # UIDs per command, to keep command lines short
LARGE_MAIL = 16 * 2**20  # larger mails are fetched a piece at a time: imaplib holds a
PIECE = 4 * 2**20        # literal about three times over while it reads it

FilingMethod = Literal["move", "uidplus", "keyword"]


def mailbox_name(settings: ImapSettings) -> str:
    """The stable identity stored with every message: imap://user@host:port/folder."""
    user = quote(settings.username, safe="")
    return f"imap://{user}@{settings.host.lower()}:{settings.effective_port}/{settings.folder}"


def server_folder_name(name: str, delimiter: str | None) -> str:
    """Map a config folder name ('/' for hierarchy) to the server's delimiter."""
    parts = name.split("/")
    if len(parts) == 1 or delimiter == "/":
        return name
    if not delimiter:
        raise MailboxError(f"folder {name!r}: the server has no folder hierarchy; "
                           "use a name without '/'")
    for part in parts:
        if not part or delimiter in part:
            raise MailboxError(f"folder {name!r}: {part!r} is empty or contains the server's "
                               f"hierarchy delimiter {delimiter!r}")
    return delimiter.join(parts)


def hierarchy_delimiter(client: IMAPClient) -> str | None:
    listed = client.list_folders("", "")  # LIST "" "" answers with the delimiter
    if not listed or listed[0][1] is None:
        return None
    delimiter = listed[0][1]
    return delimiter.decode() if isinstance(delimiter, bytes) else str(delimiter)


def aware_internaldate(value: datetime) -> datetime:
    """An INTERNALDATE as an aware datetime (imapclient gives the server's offset)."""
    offset = value.utcoffset()
    if offset is None:
        raise MailboxError("the IMAP server sent an INTERNALDATE without a time zone")
    return value.replace(tzinfo=timezone(offset))


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _file_chunk(client: IMAPClient, method: FilingMethod, uids: Sequence[int],
                target: str) -> None:
    if method == "move":
        client.move(uids, target)
    elif method == "uidplus":
        client.copy(uids, target)
        client.add_flags(uids, [DELETED], silent=True)
        client.uid_expunge(uids)  # UID EXPUNGE: exactly these, never others marked \Deleted
    else:
        client.copy(uids, target)
        client.add_flags(uids, [DONE_KEYWORD.encode()], silent=True)


def _announces_mail(responses: Iterable[Any]) -> bool:
    return any(len(r) >= 2 and r[1] == b"EXISTS" for r in responses)


class ImapSource:
    """The MailSource for one IMAP folder; connects on first use and after a dropped link."""

    def __init__(self, settings: ImapSettings, *, timeout: float = DEFAULT_TIMEOUT,
                 ignore_capabilities: Iterable[str] = (),
                 max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        self.settings = settings
        self.name = mailbox_name(settings)
        self.timeout = timeout
        self.ignored = frozenset(c.upper() for c in ignore_capabilities)
        self.max_batch_bytes = max_batch_bytes
        self._where = f"{settings.host}:{settings.effective_port}"
        self._client: IMAPClient | None = None
        self._folders: dict[str, str] = {}  # config name -> server name
        self._uidvalidity: int | None = None
        self._permanent_flags: tuple[bytes, ...] = ()
        self._highest_uid = 0

    # -- connection ------------------------------------------------------------------------

    def _connection(self) -> IMAPClient:
        if self._client is None:
            client = connect(self.settings, timeout=self.timeout,
                             ignore_capabilities=self.ignored)
            try:
                self._prepare(client)
            except BaseException:
                discard(client)
                raise
            self._client = client
        return self._client

    def _prepare(self, client: IMAPClient) -> None:
        with self._talking(client, "listing folders"):
            delimiter = hierarchy_delimiter(client)
        s = self.settings
        self._folders = {name: server_folder_name(name, delimiter)
                         for name in (s.folder, s.processed_folder, s.failed_folder)}
        self._select(client)
        for name in (s.processed_folder, s.failed_folder):
            self._ensure_folder(client, self._folders[name])

    def _select(self, client: IMAPClient) -> None:
        folder = self._folders[self.settings.folder]
        try:
            selected = client.select_folder(folder)
        except (OSError, IMAPClientError) as exc:
            self._forget_if_dead(client, exc)
            if is_unsafe_login(exc):
                raise ConnectError("select", f"SELECT {folder} at {self._where}: "
                                   f"{UNSAFE_LOGIN_HINT} ({reason(exc)})") from None
            raise ConnectError("select", f"cannot select folder {folder!r} at {self._where}: "
                               f"{reason(exc)}") from None
        uidvalidity = int(selected[b"UIDVALIDITY"])
        if self._uidvalidity not in (None, uidvalidity):
            log.warning("UIDVALIDITY of %s changed from %s to %s: the server renumbered the "
                        "folder; its mail will be fetched again", self.name, self._uidvalidity,
                        uidvalidity)
            self._highest_uid = 0
        self._uidvalidity = uidvalidity
        self._permanent_flags = tuple(selected.get(b"PERMANENTFLAGS", ()))

    def _ensure_folder(self, client: IMAPClient, folder: str) -> None:
        with self._talking(client, f"creating folder {folder!r}"):
            if client.folder_exists(folder):
                return
            try:
                client.create_folder(folder)
            except IMAPClientError:
                if not client.folder_exists(folder):  # not created meanwhile by someone else
                    raise
            log.info("created folder %s on %s", folder, self._where)
            with suppress(IMAPClientError):
                client.subscribe_folder(folder)

    @contextmanager
    def _talking(self, client: IMAPClient, doing: str) -> Iterator[None]:
        """Turn imapclient and socket errors into MailboxError; forget a dead connection."""
        try:
            yield
        except (OSError, IMAPClientError) as exc:
            self._forget_if_dead(client, exc)
            raise mailbox_error(exc, f"IMAP {doing} at {self._where}") from None

    def _forget_if_dead(self, client: IMAPClient, exc: BaseException) -> None:
        """After a socket error or an abort the link is unusable: close it, reconnect later."""
        if not isinstance(exc, (OSError, IMAPClientAbortError)):
            return
        if self._client is client:
            self._client = None
        with suppress(Exception):
            client.shutdown()

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            discard(client)

    # -- fetching --------------------------------------------------------------------------

    def fetch(self, batch_size: int = 50) -> Iterator[list[FetchedMail]]:
        """Batches of the mail in the folder, oldest INTERNALDATE (then UID) first.

        Only dates and sizes of all waiting mail are held at once; bodies are fetched one
        batch (at most `batch_size` mails and about `max_batch_bytes`) at a time.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        client = self._connection()
        self._select(client)  # a fresh view: new mail, current UIDVALIDITY
        with self._talking(client, "SEARCH"):
            uids = sorted(client.search(["NOT", "KEYWORD", DONE_KEYWORD]))
        self._highest_uid = max([self._highest_uid, *uids])
        order = self._arrival_order(client, uids)
        batch: list[tuple[datetime, int, int]] = []
        size = 0
        for received_at, uid, octets in order:
            if batch and (len(batch) >= batch_size or size + octets > self.max_batch_bytes):
                yield self._bodies(client, batch)
                batch, size = [], 0
            batch.append((received_at, uid, octets))
            size += octets
        if batch:
            yield self._bodies(client, batch)

    def _arrival_order(self, client: IMAPClient,
                       uids: Sequence[int]) -> list[tuple[datetime, int, int]]:
        order = []
        for chunk in _chunks(uids, UID_CHUNK):
            with self._talking(client, "FETCH INTERNALDATE"):
                answer = client.fetch(chunk, ["INTERNALDATE", "RFC822.SIZE"])
            for uid, data in answer.items():
                order.append((aware_internaldate(data[b"INTERNALDATE"]), uid,
                              int(data[b"RFC822.SIZE"])))
        return sorted(order)

    def _bodies(self, client: IMAPClient,
                batch: list[tuple[datetime, int, int]]) -> list[FetchedMail]:
        small = [uid for _, uid, octets in batch if octets <= LARGE_MAIL]
        answer: dict[int, Any] = {}
        if small:
            with self._talking(client, f"FETCH of {len(small)} mails"):
                answer = client.fetch(small, ["BODY.PEEK[]"])
        assert self._uidvalidity is not None
        fetched = []
        for received_at, uid, octets in batch:
            raw = (answer.get(uid, {}).get(b"BODY[]") if octets <= LARGE_MAIL
                   else self._large_body(client, uid, octets))
            if raw is None:  # moved or expunged by another client meanwhile
                log.info("mail UID %s vanished from %s before it was fetched", uid, self.name)
                continue
            key = MailKey(mailbox=self.name, uidvalidity=self._uidvalidity, uid=str(uid))
            fetched.append(FetchedMail(key=key, raw=bytes(raw), received_at=received_at,
                                       sort_uid=uid))
        return fetched

    def _large_body(self, client: IMAPClient, uid: int, octets: int) -> bytes | None:
        """A large mail's bytes, fetched PIECE bytes at a time (BODY.PEEK[]<start.length>)
        through a temporary file: about its size in memory at the peak, not four times."""
        with tempfile.TemporaryFile(prefix="mailroom-fetch-") as spool:
            while True:
                with self._talking(client, f"FETCH of a {octets}-byte mail"):
                    answer = client.fetch([uid], [f"BODY.PEEK[]<{spool.tell()}.{PIECE}>"])
                piece = next((value for key, value in answer.get(uid, {}).items()
                              if isinstance(key, bytes) and key.startswith(b"BODY[]")), None)
                if piece is None and spool.tell() == 0:
                    return None  # moved or expunged meanwhile
                spool.write(piece or b"")
                if piece is None or len(piece) < PIECE:
                    break
            spool.seek(0)
            return spool.read()

    # -- filing away -----------------------------------------------------------------------

    def filing_method(self) -> FilingMethod:
        client = self._connection()
        if has_capability(client, "MOVE", self.ignored):
            return "move"
        if has_capability(client, "UIDPLUS", self.ignored):
            return "uidplus"
        return "keyword"

    def mark_processed(self, keys: Sequence[MailKey]) -> None:
        self._file_away(keys, self.settings.processed_folder)

    def mark_failed(self, keys: Sequence[MailKey]) -> None:
        self._file_away(keys, self.settings.failed_folder)

    def _file_away(self, keys: Sequence[MailKey], folder_name: str) -> None:
        client = self._connection()
        uids = self._current_uids(keys)
        if not uids:
            return
        target = self._folders[folder_name]
        method = self.filing_method()
        if method == "keyword" and not ({b"\\*", DONE_KEYWORD.encode()} &
                                        set(self._permanent_flags)):
            raise MailboxError(f"{self._where} offers neither MOVE nor UIDPLUS and does not "
                               f"keep the {DONE_KEYWORD} keyword; mailroom cannot file mail "
                               "away without deleting it, and will not delete it")
        for chunk in _chunks(uids, UID_CHUNK):
            with self._talking(client, f"filing {len(chunk)} mails to {target!r} ({method})"):
                _file_chunk(client, method, chunk, target)
        log.info("filed %d mails of %s to %s (%s)", len(uids), self.name, target, method)

    def _current_uids(self, keys: Sequence[MailKey]) -> list[int]:
        current, stale = set(), 0
        for key in keys:
            if key.mailbox != self.name:
                raise ValueError(f"mail {key} is not from {self.name}")
            if key.uidvalidity != self._uidvalidity:
                stale += 1
            else:
                current.add(int(key.uid))
        if stale:
            log.warning("%d mails of %s were fetched under another UIDVALIDITY (now %s) and "
                        "are left in place; they will be fetched again", stale, self.name,
                        self._uidvalidity)
        return sorted(current)

    # -- waiting ---------------------------------------------------------------------------

    def supports_idle(self) -> bool:
        return self.settings.idle and has_capability(self._connection(), "IDLE", self.ignored)

    def wait_for_mail(self, timeout: float) -> bool:
        """IDLE up to `timeout` s: True when new mail arrived. False at once without IDLE,
        so the caller polls every poll_interval."""
        client = self._connection()
        if not (self.settings.idle and has_capability(client, "IDLE", self.ignored)):
            return False
        with self._talking(client, "IDLE"):
            if self._highest_uid:  # mail that came since the last fetch, told or not
                client.noop()  # lets the server sync the session's view of the folder
                newer = client.search(["UID", f"{self._highest_uid + 1}:*"])
                if any(uid > self._highest_uid for uid in newer):
                    return True
            deadline = time.monotonic() + min(timeout, IDLE_LIMIT)
            arrived = False
            client.idle()
            try:
                while not arrived and (remaining := deadline - time.monotonic()) > 0:
                    responses = client.idle_check(timeout=remaining)
                    if not responses:  # timed out, or the server hung up: DONE tells which
                        break
                    arrived = _announces_mail(responses)
            finally:
                _text, late = client.idle_done()
            return arrived or _announces_mail(late)


def probe(settings: ImapSettings, *, timeout: float | None = None) -> list[str]:
    """What `mailroom check` reports: connection, capabilities, folder; changes nothing."""
    where = f"{settings.host}:{settings.effective_port}"
    security = {"tls": "TLS, certificate verified", "starttls": "STARTTLS, certificate verified",
                "plain": "plaintext, no TLS"}[settings.security]
    client = connect(settings, timeout=timeout or settings.timeout)
    try:
        capabilities = sorted(c.decode() for c in client.capabilities())
        lines = [f"connected to {where} ({security})", f"logged in as {settings.username}",
                 "sent IMAP ID " + (str(settings.client_id.as_imap_id())
                                    if "ID" in capabilities else "(server has no ID capability)"),
                 "capabilities: " + " ".join(capabilities)]
        delimiter = hierarchy_delimiter(client)
        folder = server_folder_name(settings.folder, delimiter)
        try:
            selected = client.select_folder(folder, readonly=True)
        except IMAPClientError as exc:
            hint = UNSAFE_LOGIN_HINT if is_unsafe_login(exc) else "does it exist?"
            raise ConnectError("select", f"cannot select folder {folder!r} at {where}: "
                               f"{reason(exc)} ({hint})") from None
        lines.append(f"folder {folder}: {selected[b'EXISTS']} messages, "
                     f"UIDVALIDITY {selected[b'UIDVALIDITY']}")
        for name in (settings.processed_folder, settings.failed_folder):
            server_name = server_folder_name(name, delimiter)
            state = "exists" if client.folder_exists(server_name) else "will be created"
            lines.append(f"folder {server_name}: {state}")
        method = "MOVE" if "MOVE" in capabilities else (
            "UID COPY + UID EXPUNGE" if "UIDPLUS" in capabilities else f"COPY + {DONE_KEYWORD}")
        lines.append(f"filing mail away with {method}")
        idle = settings.idle and "IDLE" in capabilities
        lines.append("waiting for mail with IDLE" if idle
                     else f"polling every {settings.poll_interval} s")
        return lines
    except (OSError, IMAPClientError) as exc:
        raise mailbox_error(exc, f"checking {where}") from None
    finally:
        discard(client)
