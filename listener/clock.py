"""Clocks. Everything below the scheduler takes `now`; the daemon asks its clock.

SystemClock  the wall clock (UTC).
ReplayClock  simulated time: starts at `start` and runs `speed` times faster than the wall clock,
             so a replayed day takes 86400 / speed seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class SystemClock:
    speed = 1.0

    def now(self) -> datetime:
        return datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now()


class ReplayClock:
    def __init__(self, start: datetime, speed: float,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.start = start
        self.speed = speed
        self._monotonic = monotonic
        self._t0 = monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(self._monotonic() - self._t0) * self.speed)

    def __call__(self) -> datetime:
        return self.now()
