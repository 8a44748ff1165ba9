"""Read-only mail sources for `mailroom import`: an mbox file, a Maildir, an IMAP folder.

They implement the MailSource protocol, except that nothing is ever filed away: the
source is never modified (no rename, no flag, no folder created; the IMAP folder is
opened with EXAMINE and read with BODY.PEEK[]). Every source yields its whole content in
order of receipt, so an import numbers a backlog by received time, and an interrupted
import run again goes through the same order, skipping what is recorded.

When a mail was received: mbox, the date of its `From ` line (the time of delivery; a line
without a zone is read in the configured `timezone`), else its Date header, else the
file's mtime; Maildir, as for the inbox (mailbox/maildir.py); IMAP, the INTERNALDATE.
"""

from __future__ import annotations

import logging
import mailbox
import os
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from mailroom.config import ImapSettings
from mailroom.errors import InvalidInput, MailboxError
from mailroom.mailbox.base import FetchedMail, MailKey
from mailroom.mailbox.imap import (
    aware_internaldate,
    hierarchy_delimiter,
    mailbox_name,
    server_folder_name,
)
from mailroom.mailbox.imap_connect import connect, discard, reason
from mailroom.mailbox.maildir import delivery_time, unique_name

log = logging.getLogger(__name__)

_ASCTIME = "%a %b %d %H:%M:%S %Y"
_ZONE = re.compile(r"^[+-]\d{4}$")


def from_line_time(line: str, zone: ZoneInfo) -> datetime | None:
    """The delivery time of an mbox `From sender Thu May  9 10:00:00 2019 [+0800]` line."""
    parts = line.split()
    offset = None
    if parts and _ZONE.match(parts[-1]):
        sign = -1 if parts[-1][0] == "-" else 1
        offset = timezone(sign * timedelta(hours=int(parts[-1][1:3]),
                                           minutes=int(parts[-1][3:5])))
        parts = parts[:-1]
    if len(parts) < 7:  # From, sender, weekday, month, day, time, year
        return None
    try:
        naive = datetime.strptime(" ".join(parts[-5:]), _ASCTIME)
    except ValueError:
        return None
    return naive.replace(tzinfo=offset or zone)


def _date_header(head: bytes) -> datetime | None:
    value = BytesHeaderParser().parsebytes(head).get("Date")
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


class _ReadOnly:
    """What every backlog source shares: nothing is filed away; the import counts what
    each batch came to (the pipeline reports a batch's outcomes through mark_*)."""

    name: str
    done = 0  # mails processed or recorded failed so far, for the progress display
    on_progress: Callable[[int], None] | None = None  # told `done` after each batch

    def mark_processed(self, keys: Sequence[MailKey]) -> None:
        self.done += len(keys)

    def mark_failed(self, keys: Sequence[MailKey]) -> None:
        self.done += len(keys)  # after mark_processed: the batch is through
        if self.on_progress is not None:
            self.on_progress(self.done)

    def supports_idle(self) -> bool:
        return False

    def wait_for_mail(self, timeout: float) -> bool:
        return False


class MboxSource(_ReadOnly):
    """An mbox file (e.g. exported from Foxmail), read with the stdlib, never written."""

    def __init__(self, path: Path, zone: ZoneInfo) -> None:
        if not path.is_file():
            raise InvalidInput(f"--mbox {path}: no such file")
        self.path = path
        self.name = f"mbox:{path.resolve()}"
        self.zone = zone
        self._mbox = mailbox.mbox(path, create=False)
        self._order: list[tuple[datetime, int, str]] | None = None

    def _received(self, key: str) -> datetime:
        with self._mbox.get_file(key, from_=True) as handle:
            first = handle.readline().decode("latin-1")
            head = b""
            for line in handle:
                if not line.strip():
                    break
                head += line
        found = from_line_time(first, self.zone) if first.startswith("From ") else None
        found = found or _date_header(head)
        return found or datetime.fromtimestamp(self.path.stat().st_mtime, UTC)

    def order(self) -> list[tuple[datetime, int, str]]:
        """(received, position in the file, key) of every mail, in order of receipt."""
        if self._order is None:
            keys = list(self._mbox.keys())
            self._order = sorted((self._received(key), position, key)
                                 for position, key in enumerate(keys))
        return self._order

    def count(self) -> int:
        return len(self.order())

    def fetch(self, batch_size: int = 50) -> Iterator[list[FetchedMail]]:
        order = self.order()
        for start in range(0, len(order), batch_size):
            yield [FetchedMail(MailKey(self.name, 0, str(position)),
                               self._mbox.get_bytes(key), received)
                   for received, position, key in order[start:start + batch_size]]

    def close(self) -> None:
        self._mbox.close()


class MaildirBacklog(_ReadOnly):
    """Any Maildir (its cur/ and new/), read in place: no file renamed, no folder made."""

    def __init__(self, path: Path) -> None:
        if not ((path / "cur").is_dir() and (path / "new").is_dir()):
            raise InvalidInput(f"--maildir {path}: not a Maildir (it needs cur/ and new/)")
        self.root = path
        self.name = f"maildir:{path.resolve()}"
        self._order: list[tuple[datetime, str, Path]] | None = None

    def order(self) -> list[tuple[datetime, str, Path]]:
        if self._order is None:
            found = []
            for sub in ("new", "cur"):
                for entry in os.scandir(self.root / sub):
                    if entry.name.startswith(".") or not entry.is_file():
                        continue
                    path = Path(entry.path)
                    found.append((delivery_time(path), entry.name, path))
            self._order = sorted(found)
        return self._order

    def count(self) -> int:
        return len(self.order())

    def fetch(self, batch_size: int = 50) -> Iterator[list[FetchedMail]]:
        order = self.order()
        for start in range(0, len(order), batch_size):
            batch = []
            for received, filename, path in order[start:start + batch_size]:
                try:
                    raw = path.read_bytes()
                except FileNotFoundError:
                    log.warning("import: %s vanished before it was read; run the import again "
                                "if it comes back", path)
                    continue
                batch.append(FetchedMail(MailKey(self.name, 0, unique_name(filename)), raw,
                                         received))
            if batch:
                yield batch

    def close(self) -> None:
        pass


class ImapFolderBacklog(_ReadOnly):
    """A folder on the IMAP server, opened read-only (EXAMINE) and read with BODY.PEEK[]:
    no flag set, nothing moved, no folder created."""

    def __init__(self, settings: ImapSettings, folder: str) -> None:
        self.settings = settings.model_copy(update={"folder": folder})
        self.folder = folder
        self.name = mailbox_name(self.settings)
        self._client: IMAPClient | None = None
        self._uidvalidity = 0
        self._order: list[tuple[datetime, int]] | None = None

    def _connection(self) -> IMAPClient:
        if self._client is None:
            client = connect(self.settings)
            try:
                server_name = server_folder_name(self.folder, hierarchy_delimiter(client))
                selected = client.select_folder(server_name, readonly=True)
            except (OSError, IMAPClientError) as exc:
                discard(client)
                raise InvalidInput(f"--from-folder {self.folder}: cannot open it read-only: "
                                   f"{reason(exc)}") from None
            self._uidvalidity = int(selected[b"UIDVALIDITY"])
            self._client = client
        return self._client

    def order(self) -> list[tuple[datetime, int]]:
        if self._order is None:
            client = self._connection()
            try:
                uids = sorted(client.search(["ALL"]))
                order = []
                for start in range(0, len(uids), 500):
                    answer = client.fetch(uids[start:start + 500], ["INTERNALDATE"])
                    order += [(aware_internaldate(data[b"INTERNALDATE"]), uid) for uid, data in
                              answer.items()]
            except (OSError, IMAPClientError) as exc:
                raise MailboxError(f"import from {self.folder}: {reason(exc)}") from None
            self._order = sorted(order)
        return self._order

    def count(self) -> int:
        return len(self.order())

    def fetch(self, batch_size: int = 50) -> Iterator[list[FetchedMail]]:
        order = self.order()
        client = self._connection()
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            try:
                answer = client.fetch([uid for _, uid in chunk], ["BODY.PEEK[]"])
            except (OSError, IMAPClientError) as exc:
                raise MailboxError(f"import from {self.folder}: {reason(exc)}") from None
            yield [FetchedMail(MailKey(self.name, self._uidvalidity, str(uid)),
                               bytes(answer[uid][b"BODY[]"]), received, sort_uid=uid)
                   for received, uid in chunk if b"BODY[]" in answer.get(uid, {})]

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            discard(client)
