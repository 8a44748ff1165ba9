"""The text worker: attachments' text (dedupe/extract.py) read in a separate process, so
that a file which exhausts memory, crashes the reader or never finishes ends only that
attempt at that attachment, never the process that records the mail (issue 14).

The worker is a child process (`python -m mailroom.textworker`) held to `[limits]
text_worker_memory_bytes` of address space (RLIMIT_AS, so memory exhaustion is a
MemoryError in the worker, not the kernel's OOM killer choosing a victim) and, per
attachment, to `text_worker_timeout_seconds`; it runs in its own session, so a timeout
kills it together with an antiword it started. It reads one request at a time from its
stdin and answers on its stdout (length-prefixed frames, JSON answers); it is started on
the first attachment that needs it and kept for the next ones, and a worker that died or
was killed is replaced on the next request. What went wrong becomes the attachment's note
(`…: attachment text: worker killed (memory limit)`); the mail's other parts still count.
"""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import struct
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import asdict
from typing import IO, Any

from mailroom.dedupe.extract import Extracted, TextLimits, extract_text

log = logging.getLogger(__name__)

MEMORY_EXIT = 75  # the worker's exit status after a MemoryError
_FRAME = struct.Struct(">Q")


class TextWorker:
    """One worker process at a time, started when needed, replaced when it dies."""

    def __init__(self, memory_bytes: int, timeout: float) -> None:
        self.memory_bytes = memory_bytes
        self.timeout = timeout
        self._process: subprocess.Popen[bytes] | None = None

    def extract(self, filename: str, content_type: str, payload: bytes,
                limits: TextLimits) -> Extracted:
        """The attachment's text, read by the worker; never raises for what the file does."""
        # antiword gets most of the time; the worker's own limit is the backstop
        limits = TextLimits(limits.max_bytes, limits.max_inflated, limits.max_chars,
                            seconds=max(0.1, self.timeout * 0.8))
        header = json.dumps({"filename": filename, "content_type": content_type,
                             "limits": asdict(limits)}).encode()
        try:
            process = self._started()
            assert process.stdin is not None and process.stdout is not None
            _write_frame(process.stdin, header)
            _write_frame(process.stdin, payload)
            answer = json.loads(_read_frame(process.stdout, time.monotonic() + self.timeout))
            return Extracted(str(answer["text"]), str(answer["note"]), int(answer["inflated"]))
        except TimeoutError:
            self.close()
            return Extracted("", f"{filename}: attachment text: worker timed out "
                                 f"(more than {self.timeout:g} s)")
        except (OSError, EOFError, ValueError, KeyError, TypeError):
            why = self._death()
            return Extracted("", f"{filename}: attachment text: {why}")

    def _started(self) -> subprocess.Popen[bytes]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self._process = subprocess.Popen(
            [sys.executable, "-m", "mailroom.textworker", str(self.memory_bytes)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True)
        return self._process

    def _death(self) -> str:
        """Why the worker stopped answering (it is gone afterwards)."""
        process = self._process
        self._process = None
        if process is None:
            return "worker could not be started"
        try:
            code = process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _kill(process)
            return "worker stopped answering"
        _close_pipes(process)
        if code == MEMORY_EXIT:
            return "worker killed (memory limit)"
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else code
            return f"worker killed ({name})"
        return f"worker exited with status {code}"

    def close(self) -> None:
        if self._process is not None:
            _kill(self._process)
            self._process = None


def _kill(process: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # the worker and an antiword it started
    process.wait()
    _close_pipes(process)


def _close_pipes(process: subprocess.Popen[bytes]) -> None:
    for pipe in (process.stdin, process.stdout):
        if pipe is not None:
            with suppress(OSError):
                pipe.close()


_workers: dict[tuple[int, float], TextWorker] = {}


def worker_for(memory_bytes: int, timeout: float) -> TextWorker:
    """This process's text worker for these limits (one per process: the recording
    process and each preparing worker process have their own)."""
    key = (memory_bytes, timeout)
    if key not in _workers:
        _workers[key] = TextWorker(memory_bytes, timeout)
    return _workers[key]


def close_workers() -> None:
    while _workers:
        _workers.popitem()[1].close()


# --- framing -----------------------------------------------------------------------------


def _write_frame(stream: IO[bytes], data: bytes) -> None:
    stream.write(_FRAME.pack(len(data)))
    stream.write(data)
    stream.flush()


def _read_exactly(stream: IO[bytes], size: int, deadline: float | None) -> bytes:
    chunks: list[bytes] = []
    left = size
    fd = stream.fileno()
    while left:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_frame(stream: IO[bytes], deadline: float | None = None) -> bytes:
    (size,) = _FRAME.unpack(_read_exactly(stream, _FRAME.size, deadline))
    return _read_exactly(stream, size, deadline)


# --- the worker process ------------------------------------------------------------------


def _serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    while True:
        try:
            header: dict[str, Any] = json.loads(_read_frame(requests))
            payload = _read_frame(requests)
        except EOFError:
            return  # the parent closed the pipe or died
        limits = TextLimits(**header["limits"])
        try:
            result = extract_text(header["filename"], header["content_type"], payload, limits)
        except MemoryError:
            os._exit(MEMORY_EXIT)
        del payload
        _write_frame(answers, json.dumps({"text": result.text, "note": result.note,
                                          "inflated": result.inflated}).encode())


def main(argv: list[str]) -> int:
    memory = int(argv[1])
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # stopping is the parent's: a worker stopped mid-attachment would give it a spurious
    # note; it ends when the parent closes the pipe (or systemd's final SIGKILL)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.disable(logging.CRITICAL)  # pypdf's warnings about broken files: not for the log
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print must not corrupt the answers
    _serve(sys.stdin.buffer, answers)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
