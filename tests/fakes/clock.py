"""A daemon clock a test moves by hand (the daemon's jobs ask it for `now()`)."""

from __future__ import annotations

from datetime import datetime


class HandClock:
    speed = 1.0

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def __call__(self) -> datetime:
        return self.at
