"""Detectors and the lifecycle are pure: fed counts and `now`, asserted on their decisions."""

from datetime import UTC, datetime, timedelta

import pytest

from alerts.detectors import RareDetector, SpikeDetector, tail_probability
from alerts.lifecycle import IncidentState, Policy, decide
from alerts.series import CountSeries

STEP = timedelta(minutes=5)
END = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)


def series(counts) -> CountSeries:
    return CountSeries(END, STEP, tuple(counts))


class TestRare:
    det = RareDetector(window=timedelta(hours=2), min_authors=3, severity="critical")

    def test_three_distinct_authors_in_the_window_open_an_alert(self):
        counts = [0] * 40 + [1, 0, 0, 1, 0, 1, 0, 0]
        sig = self.det.detect(series(counts), END)
        assert sig is not None and sig.observed == 3 and sig.level == 7
        assert sig.started_at == END - 8 * STEP
        assert sig.reason == "3 distinct authors in 2h (alert at 3)"

    def test_two_authors_are_not_enough(self):
        assert self.det.detect(series([0] * 40 + [1, 0, 0, 1]), END) is None

    def test_authors_older_than_the_window_do_not_count(self):
        counts = [1, 1, 1] + [0] * 30
        assert self.det.detect(series(counts), END) is None

    def test_severity_grows_with_the_number_of_authors(self):
        levels = [self.det.detect(series([0] * 20 + [n] + [0] * 3), END).level
                  for n in (3, 6, 12, 24)]
        assert levels == [7, 8, 9, 10]


class TestSpike:
    det = SpikeDetector(window=timedelta(hours=1), min_count=10, min_ratio=3, max_p=1e-4)

    def day(self, per_bucket: int = 1) -> list[int]:
        return [per_bucket] * int(timedelta(days=1) / STEP)

    def test_a_sustained_rise_is_a_spike(self):
        counts = self.day() + [1] * 6 + [3, 4, 5, 6, 6, 7]
        sig = self.det.detect(series(counts), END)
        assert sig is not None
        assert sig.observed == 37 and sig.expected == 12.0
        assert sig.consecutive == 6 and sig.p_value < 1e-4

    def test_one_noisy_bucket_is_not(self):
        counts = self.day() + [1] * 11 + [25]
        assert self.det.detect(series(counts), END) is None

    def test_no_alert_while_warming_up(self):
        counts = [0] * 30 + [5] * 12
        assert self.det.detect(series(counts), END) is None

    def test_busy_hour_that_is_busy_every_day_is_not_a_spike(self):
        per_day = int(timedelta(days=1) / STEP)
        daily = [1] * (per_day - 12) + [6] * 12      # the last hour of each day is busy
        counts = daily + daily
        assert self.det.detect(series(counts), END) is None

    def test_small_counts_need_the_minimum_volume(self):
        counts = self.day(0) + [0] * 6 + [1, 1, 1, 1, 1, 1]
        assert self.det.detect(series(counts), END) is None

    def test_tail_probability_uses_negative_binomial_when_overdispersed(self):
        assert tail_probability(20, 5) < tail_probability(20, 5, dispersion=3)


T = datetime(2026, 10, 30, 12, tzinfo=UTC)
POLICY = Policy(repeat_interval=timedelta(hours=4), resolve_after=timedelta(hours=2))


def state(level=7, signal_ago=0, notified_ago=0):
    return IncidentState(level, level, T - timedelta(minutes=signal_ago),
                         T - timedelta(minutes=notified_ago))


def sig(level):
    return RareDetector(timedelta(hours=2), 3, "critical").detect(
        series([0] * 20 + [3 * 2 ** (level - 7)]), END)


@pytest.mark.parametrize("st, signal_level, action, notify", [
    (None, None, None, None),
    (None, 7, "first", True),
    (state(7), 8, "escalated", True),
    (state(8), 7, "skip", False),
    (state(7, notified_ago=240), 7, "repeat", True),
    (state(7, signal_ago=30), None, "skip", False),
    (state(7, signal_ago=120), None, "resolved", True),
])
def test_lifecycle_decisions(st, signal_level, action, notify):
    d = decide(POLICY, st, sig(signal_level) if signal_level else None, T)
    if action is None:
        assert d is None
    else:
        assert (d.action, d.notify) == (action, notify)
        assert d.reason


def test_every_decision_says_why():
    d = decide(POLICY, state(8), sig(7), T)
    assert d.reason == "already notified at severity 8; repeat after 4h00m"
    d = decide(POLICY, state(7, signal_ago=125), None, T)
    assert d.reason == "quiet for 2h05m (resolve_after 2h00m)"
