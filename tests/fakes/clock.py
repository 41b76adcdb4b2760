"""A daemon clock a test moves by hand (the daemon's jobs ask it for `now()`)."""

from __future__ import annotations

from datetime import datetime, timedelta


class HandClock:
    speed = 1.0

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def __call__(self) -> datetime:
        return self.at


class FakeTime:
    """The wall clock and sleep a source is given: sleeping moves the clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)
