"""Exponential backoff with jitter between failed exchanges with the hub (one place for all)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable

from schemas.runtime.database import utcnow

Clock = Callable[[], dt.datetime]


BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 15 * 60.0
_random = secrets.SystemRandom()


def backoff_delay(
    failures: int,
    *,
    base: float = BACKOFF_BASE_SECONDS,
    cap: float = BACKOFF_CAP_SECONDS,
    rand: Callable[[], float] = _random.random,
) -> float:
    """Seconds to wait after ``failures`` consecutive failures: exponential, capped, with full
    jitter (uniform in ``[0, min(cap, base * 2**(failures-1))]``) so nodes do not retry in step."""
    if failures <= 0:
        return 0.0
    ceiling = min(cap, base * (1 << min(failures - 1, 62)))
    return rand() * ceiling


class Backoff:
    """Consecutive-failure state for a periodic job: whether to run now, and when next."""

    def __init__(self, clock: Clock = utcnow, delay: Callable[[int], float] = backoff_delay):
        self.clock = clock
        self.delay = delay
        self.failures = 0
        self.not_before: dt.datetime | None = None

    def ready(self) -> bool:
        return self.not_before is None or self.clock() >= self.not_before

    def failed(self) -> float:
        self.failures += 1
        seconds = self.delay(self.failures)
        self.not_before = self.clock() + dt.timedelta(seconds=seconds)
        return seconds

    def succeeded(self) -> None:
        self.failures = 0
        self.not_before = None
