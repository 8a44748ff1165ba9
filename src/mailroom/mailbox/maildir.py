"""A Maildir inbox (local delivery; it serves the bundled sample mailbox).

Processed and failed mail is moved into Maildir++ subfolders (`.mailroom.processed`):
a rename inside one file system, never a delete. The time a mail was received is the
delivery time at the start of its file name (`1557300000.M…`), else the file's mtime.
"""

from __future__ import annotations

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

    def _waiting(self) -> list[Path]:
        files = [entry for sub in ("new", "cur") for entry in (self.root / sub).iterdir()
                 if entry.is_file() and not entry.name.startswith(".")]
        return sorted(files, key=lambda entry: (delivery_time(entry), entry.name))

    def fetch(self, batch_size: int = 50) -> Iterator[list[FetchedMail]]:
        waiting = self._waiting()
        for start in range(0, len(waiting), batch_size):
            batch = []
            for entry in waiting[start:start + batch_size]:
                uid = unique_name(entry.name)
                self._paths[uid] = entry
                key = MailKey(self.name, 0, uid)
                batch.append(FetchedMail(key, entry.read_bytes(), delivery_time(entry)))
            yield batch

    def mark_processed(self, keys: Sequence[MailKey]) -> None:
        self._move(keys, self._processed)

    def mark_failed(self, keys: Sequence[MailKey]) -> None:
        self._move(keys, self._failed)

    def _move(self, keys: Sequence[MailKey], folder: Path) -> None:
        for sub in _SUBDIRS:
            (folder / sub).mkdir(parents=True, exist_ok=True)
        for key in keys:
            source = self._paths.pop(key.uid, None)
            if source is None or not source.exists():
                log.warning("maildir: %s is gone; nothing to move", key.uid)
                continue
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
