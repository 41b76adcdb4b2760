"""Per-channel pacing: Slack allows about one message per second per channel and answers bursts
with 429s, so a notifier waits before a post that would come less than `interval` seconds after
the last one to the same channel. Time and sleep are injected (tests run on a fake clock)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Pacer:
    def __init__(self, interval: float = 1.0, *, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, channel: str) -> float:
        """Sleep until `channel` may take a message; returns the seconds slept."""
        with self._lock:
            now = self._monotonic()
            last = self._last.get(channel)
            waited = 0.0
            if last is not None and now - last < self.interval:
                waited = self.interval - (now - last)
                self._sleep(waited)
                now = self._monotonic()
            self._last[channel] = now if last is None else max(now, last + self.interval)
            return waited
