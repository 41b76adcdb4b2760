"""Severity 1-10: the detector's level (size, topic severity) adjusted for reach and growth."""

import pytest

from alerts.severity import growth, severity


@pytest.mark.parametrize("level, max_reach, total_reach, observed, previous, expected", [
    (5, 0, 0, 10, None, 5),                     # nothing known beyond the detector's level
    (5, 9_999, 49_999, 10, 10, 5),              # below every step, steady
    (5, 10_000, 10_000, 10, 10, 6),             # one author reaches 10k
    (5, 2_000, 50_000, 10, 10, 6),              # many small authors reach 50k together
    (5, 100_000, 100_000, 10, 10, 7),           # one author reaches 100k: both steps
    (5, 0, 500_000, 10, 10, 7),
    (5, 0, 0, 40, 10, 6),                       # four times the previous window
    (5, 0, 0, 4, 0, 6),                         # from nothing to 4
    (5, 0, 0, 3, 0, 5),                         # from nothing to 3: not yet fast growth
    (5, 0, 0, 5, 10, 4),                        # fading: half the previous window
    (9, 200_000, 0, 40, 10, 10),                # never above 10
    (1, 0, 0, 1, 10, 1),                        # never below 1
])
def test_severity(level, max_reach, total_reach, observed, previous, expected):
    assert severity(level, max_reach=max_reach, total_reach=total_reach, observed=observed,
                    previous=previous) == expected


@pytest.mark.parametrize("observed, previous, expected", [
    (10, None, None), (10, 5, 2.0), (0, 0, 1.0), (3, 0, float("inf"))])
def test_growth(observed, previous, expected):
    assert growth(observed, previous) == expected
