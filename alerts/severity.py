"""Severity 1-10 from size, growth, reach and topic severity.

The detectors give a level from size and the topic's severity (alerts/detectors.py); this adds
reach (how many people the authors in the window can reach: the widest single author, and all of
them together) and growth (this window against the one before it). Pure and small on purpose: the
table in tests/test_severity.py is its specification.
"""

from __future__ import annotations

# (widest author, all authors) follower reach at which one, then two, levels are added
REACH_STEPS = ((10_000, 50_000), (100_000, 500_000))
FAST_GROWTH = 4.0      # this window at least 4x the previous one: +1
FADING = 0.5           # at most half the previous one: -1


def severity(level: int, *, max_reach: int = 0, total_reach: int = 0, observed: float = 0,
             previous: float | None = None) -> int:
    """The detector's `level` adjusted for reach and growth, within 1-10."""
    bonus = sum(1 for widest, total in REACH_STEPS if max_reach >= widest or total_reach >= total)
    if previous is not None:
        growth = observed / max(previous, 1.0)
        if growth >= FAST_GROWTH:
            bonus += 1
        elif previous > 0 and growth <= FADING:
            bonus -= 1
    return max(1, min(10, level + bonus))


def growth(observed: float, previous: float | None) -> float | None:
    """This window against the previous one (None when there was no previous window)."""
    if previous is None:
        return None
    return observed / previous if previous else float("inf") if observed else 1.0
