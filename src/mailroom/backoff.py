"""How long to wait before trying a server again, and when to say it is down or back.

Pure: `Backoff` is capped exponential backoff with "full jitter" on its upper half (the
delay is drawn between half and all of the exponential step, so many daemons restarted
together do not knock in step), with the random source injected. `Outage` remembers
whether a service is down, so a caller logs once when an outage starts and once when it
ends, not once per try.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

Uniform = Callable[[float, float], float]  # random.uniform's shape


@dataclass
class Backoff:
    """Delays for consecutive failures: first, first*factor, … capped at `cap`, each
    jittered down to at most half (never below `first` / 2)."""

    first: float = 5.0
    cap: float = 300.0
    factor: float = 2.0
    uniform: Uniform = field(default=random.uniform, repr=False)
    failures: int = 0

    def next_delay(self) -> float:
        """The wait after one more failure."""
        step = min(self.first * self.factor ** self.failures, self.cap)
        self.failures += 1
        return self.uniform(step / 2, step)

    def reset(self) -> None:
        """The server answered: the next failure starts from `first` again."""
        self.failures = 0


@dataclass
class Outage:
    """Whether `service` is down now. `failed` returns True only for the failure that starts
    an outage (log it); `recovered` True only for the success that ends one (log that)."""

    service: str
    down_since: float | None = None  # monotonic seconds, or any clock the caller uses
    reason: str = ""
    tries: int = 0

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def failed(self, reason: str, now: float) -> bool:
        self.tries += 1
        self.reason = reason
        if self.down_since is None:
            self.down_since = now
            return True
        return False

    def recovered(self, now: float) -> float | None:
        """The outage's length in seconds when this success ends one, else None."""
        if self.down_since is None:
            return None
        length = now - self.down_since
        self.down_since, self.tries, self.reason = None, 0, ""
        return length


def describe_length(seconds: float) -> str:
    """'45 s', '12 min', '3.5 h': an outage's length for a log line."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
