"""Talking to systemd (Type=notify): READY=1, WATCHDOG=1, STOPPING=1 to $NOTIFY_SOCKET,
and the watchdog's rhythm (WatchdogSec= sets $WATCHDOG_USEC). Outside systemd, no-ops."""

from __future__ import annotations

import logging
import os
import socket
import time

log = logging.getLogger(__name__)


def sd_notify(state: str) -> None:
    """Tell systemd (Type=notify) how we are; a no-op outside systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto(state.encode(), address)
        except OSError as exc:
            log.warning("sd_notify failed: %s", exc)


class Watchdog:
    """systemd's watchdog (WatchdogSec= sets WATCHDOG_USEC): pinged every quarter of it,
    from the loop, between mails and during waits; no wait lasts longer than half of it."""

    def __init__(self) -> None:
        usec = os.environ.get("WATCHDOG_USEC", "")
        pid = os.environ.get("WATCHDOG_PID", "")
        wanted = usec.isdigit() and int(usec) > 0 and pid in ("", str(os.getpid()))
        self.period = int(usec) / 1e6 / 2 if wanted else None
        self._last = 0.0

    def ping(self) -> None:
        if self.period is not None and time.monotonic() - self._last >= self.period / 2:
            self._last = time.monotonic()
            sd_notify("WATCHDOG=1")

    def longest_wait(self, seconds: float) -> float:
        return seconds if self.period is None else min(seconds, self.period)
