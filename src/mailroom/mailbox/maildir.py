"""A Maildir inbox (local delivery; it serves the bundled sample mailbox).

Processed and failed mail is moved into Maildir++ subfolders (`.mailroom.processed`):
a rename inside one file system, never a delete. The time a mail was received is the
delivery time at the start of its file name (`1557300000.M…`), else the file's mtime.

A mail client (or another mailroom process) may move a file while a pass runs: marking a
mail read renames `new/X` to `cur/X:2,S`. A mail is therefore followed by its unique name
(in new/ and cur/, with any flags) when it is read and when it is filed away; a file gone
from both is logged once and left to whoever took it (the next pass sees it if it is back).
"""

from __future__ import annotations

import glob
import logging
import os
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from mailroom.errors import MailboxError
from mailroom.mailbox.base import FetchedMail, MailKey

log = logging.getLogger(__name__)

_DELIVERY_TIME = re.compile(r"^(\d{9,11})(?:\.|_)")
_SUBDIRS = ("cur", "new", "tmp")


def delivery_time(path: Path) -> datetime:
    match = _DELIVERY_TIME.match(path.name)
    seconds = int(match.group(1)) if match else path.stat().st_mtime
    return datetime.fromtimestamp(seconds, UTC)


def unique_name(filename: str) -> str:
    """The part of a Maildir file name that stays when its flags (`:2,S`) change."""
    return filename.split(":", 1)[0].split("!", 1)[0]


class MaildirSource:
    def __init__(self, path: Path, processed_folder: str, failed_folder: str) -> None:
        self.root = path
        self.name = f"maildir:{path.resolve()}"
        for sub in ("cur", "new"):
            if not (path / sub).is_dir():
                raise MailboxError(
                    f"{path} is not a Maildir (no {sub}/ folder); check [maildir] path"
                )
        (path / "tmp").mkdir(exist_ok=True)  # git and some copies drop the empty tmp/
        self._processed = self._subfolder(processed_folder)
        self._failed = self._subfolder(failed_folder)
        self._paths: dict[str, Path] = {}

    def _subfolder(self, folder: str) -> Path:
        parts = [part for part in folder.split("/") if part]
        if not parts or any(part in (".", "..") or "." in part for part in parts):
            raise MailboxError(f"folder name {folder!r} cannot be used in a Maildir")
        return self.root / ("." + ".".join(parts))

    def _waiting(self) -> list[tuple[Path, datetime]]:
        """The files in new/ and cur/ with their delivery times, oldest first."""
        waiting = []
        for sub in ("new", "cur"):
            for entry in (self.root / sub).iterdir():
                if entry.name.startswith("."):
                    continue
                try:
                    if entry.is_file():
                        waiting.append((entry, delivery_time(entry)))
                except FileNotFoundError:  # moved since the listing; the next pass sees it
                    continue
        return sorted(waiting, key=lambda item: (item[1], item[0].name))

    def _find(self, uid: str, last_seen: Path | None = None) -> Path | None:
        """Where the mail with unique name `uid` is now: new/ or cur/, any flags."""
        if last_seen is not None and last_seen.exists():
            return last_seen
        for sub in ("cur", "new"):
            for entry in (self.root / sub).glob(glob.escape(uid) + "*"):
                if unique_name(entry.name) == uid:
                    return entry
        return None

    def _read(self, entry: Path) -> tuple[Path, bytes] | None:
        """The file's bytes, following it if it was moved; None when it is gone."""
        uid = unique_name(entry.name)
        for _attempt in range(3):  # each retry follows one more rename
            found = self._find(uid, entry)
            if found is None:
                break
            try:
                return found, found.read_bytes()
            except FileNotFoundError:
                entry = found  # moved between looking and reading: look again
        log.warning("maildir: %s vanished before it was read (moved by another program?); "
                    "skipped in this pass", uid)
        return None

    def fetch(self, batch_size: int = 50) -> Iterator[list[FetchedMail]]:
        waiting = self._waiting()
        for start in range(0, len(waiting), batch_size):
            batch = []
            for listed, received_at in waiting[start:start + batch_size]:
                read = self._read(listed)
                if read is None:
                    continue
                entry, raw = read
                uid = unique_name(entry.name)
                self._paths[uid] = entry
                batch.append(FetchedMail(MailKey(self.name, 0, uid), raw, received_at))
            if batch:
                yield batch

    def mark_processed(self, keys: Sequence[MailKey]) -> None:
        self._move(keys, self._processed)

    def mark_failed(self, keys: Sequence[MailKey]) -> None:
        self._move(keys, self._failed)

    def _move(self, keys: Sequence[MailKey], folder: Path) -> None:
        for sub in _SUBDIRS:
            (folder / sub).mkdir(parents=True, exist_ok=True)
        for key in keys:
            if not self._file_away(key.uid, self._paths.pop(key.uid, None), folder):
                log.warning("maildir: %s is gone from the inbox (moved by another program?); "
                            "nothing to file away", key.uid)

    def _file_away(self, uid: str, last_seen: Path | None, folder: Path) -> bool:
        """Move one mail into `folder`, following it if it was moved; False when it is no
        longer in the inbox."""
        for _attempt in range(3):  # each retry follows one more rename
            source = self._find(uid, last_seen)
            if source is None:
                return False
            try:
                self._rename(source, folder)
                return True
            except FileNotFoundError:
                last_seen = None  # moved between looking and renaming: look again
        return False

    def _rename(self, source: Path, folder: Path) -> None:
        target = folder / "cur" / (source.name if ":" in source.name else source.name + ":2,")
        if target.exists():
            raise MailboxError(f"cannot move {source.name}: {target} already exists")
        os.rename(source, target)

    def count(self) -> int:
        return len(self._waiting())

    def close(self) -> None:
        self._paths.clear()

    def supports_idle(self) -> bool:
        return False

    def wait_for_mail(self, timeout: float) -> bool:
        return False
