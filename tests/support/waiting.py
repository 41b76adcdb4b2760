"""Waiting for a running daemon (in a thread or another process) to have done something."""

from __future__ import annotations

import time


def wait_for(predicate, timeout: float = 30.0, what: str = "the condition", every: float = 0.05):
    """What `predicate()` returns once it is truthy, asked every `every` seconds; fails after
    `timeout` seconds, naming `what` it waited for."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
