"""Jinja filters: durations, reach, times. Output is plain text; the templates escape it."""

from __future__ import annotations

from datetime import datetime


def duration(seconds: int | float) -> str:
    """12s, 5m, 1h 05m, 2d 3h."""
    s = int(abs(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def reach(n: int | None) -> str:
    n = n or 0
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 1_000:
        return f"{n / 1_000:.1f}k"
    return str(n)


def when(t: datetime | str | None) -> str:
    if t is None:
        return ""
    if isinstance(t, str):
        t = datetime.fromisoformat(t)
    return t.strftime("%Y-%m-%d %H:%M UTC")


def epoch(t: datetime) -> int:
    return int(t.timestamp())


FILTERS = {"duration": duration, "reach": reach, "when": when, "epoch": epoch}
