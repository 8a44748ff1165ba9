"""Serving the console: its signing secret (a file made once, mode 0600) and waitress."""

from __future__ import annotations

import logging
import os
import secrets
import signal
from pathlib import Path
from types import FrameType

from flask import Flask
from waitress.server import create_server

from mailroom.config.sections import listen_address
from mailroom.errors import ConfigError, MailroomError
from mailroom.systemd import sd_notify

log = logging.getLogger(__name__)

SECRET_BYTES = 32
THREADS = 8


def load_secret(path: Path) -> bytes:
    """The key that signs session cookies and CSRF tokens: read from `path`, or made there
    (random, owner-only) when missing, so sessions survive a restart."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as made:
            made.write(secrets.token_hex(SECRET_BYTES) + "\n")
        log.info("console: made a new secret in %s", path)
    if path.stat().st_mode & 0o077:
        raise ConfigError(f"[web] secret_file {path} is readable by others: chmod 600 it")
    secret = path.read_text(encoding="ascii").strip()
    if len(secret) < 32:
        raise ConfigError(f"[web] secret_file {path} holds too short a secret (fewer than 32 "
                          f"characters): delete it and a new one is made")
    return secret.encode("ascii")


def serve(web: Flask, listen: str) -> None:
    """Answer on `listen` until SIGTERM or SIGINT; then finish and return."""
    host, port = listen_address(listen)
    try:
        server = create_server(web, host=host, port=port, threads=THREADS, ident="mailroom")
    except OSError as exc:
        raise MailroomError(f"cannot listen on {listen} ([web] listen): "
                            f"{exc.strerror or exc}") from None

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    log.info("console: listening on http://%s", listen)
    sd_notify("READY=1")
    try:
        server.run()  # returns on KeyboardInterrupt, after its threads have finished
    finally:
        sd_notify("STOPPING=1")
        server.close()
        log.info("console: stopped")
        for sig, handler in previous.items():
            signal.signal(sig, handler)
