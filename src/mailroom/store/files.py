"""The file store: raw mail byte for byte and attachments, named by their SHA-256.

Names inside the store are generated (hash + a sanitised extension), never taken from the
mail, so no attachment name can escape the store or overwrite another file; the original
name is kept in the database. Content addressing also makes writes idempotent: processing
the same mail twice writes the same files.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path, PurePosixPath

from mailroom.errors import StoreError

_EXTENSION = re.compile(r"^[a-z0-9]{1,10}$")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def safe_extension(original_name: str) -> str:
    """The lower-case extension of `original_name` if it is short and plain, else ""."""
    base = re.split(r"[\\/]", original_name.replace("\x00", ""))[-1]
    if "." not in base:
        return ""
    extension = base.rsplit(".", 1)[1].strip().lower()
    return extension if _EXTENSION.match(extension) else ""


class FileStore:
    """Content-addressed files below one root folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put_raw(self, raw: bytes, sha256: str) -> str:
        """Store a raw message; returns its path relative to the store root."""
        return self._put(PurePosixPath("raw", sha256[:2], f"{sha256}.eml"), raw)

    def put_attachment(self, payload: bytes, sha256: str, original_name: str) -> str:
        extension = safe_extension(original_name)
        name = f"{sha256}.{extension}" if extension else sha256
        return self._put(PurePosixPath("attachments", sha256[:2], name), payload)

    def path_of(self, relative: str) -> Path:
        """The absolute path of a stored file, refusing anything outside the root."""
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"stored path {relative!r} points outside the store")
        return path

    def read(self, relative: str) -> bytes:
        return self.path_of(relative).read_bytes()

    def _put(self, relative: PurePosixPath, data: bytes) -> str:
        target = self.root / relative
        try:
            if target.exists() and target.stat().st_size == len(data):
                return str(relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            self._write(target, data)
        except OSError as exc:  # the store's fault, not the mail's: the pass stops
            raise StoreError(f"storage {self.root} is not writable: "
                             f"{exc.strerror or exc}") from None
        return str(relative)

    @staticmethod
    def _write(target: Path, data: bytes) -> None:
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            # No fsync per file: the mailbox keeps every original (processed mail is moved,
            # never deleted), so a file lost to a power cut is recoverable, and an fsync
            # per attachment would cost more than the rest of processing a mail.
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
