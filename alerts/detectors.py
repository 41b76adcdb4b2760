"""Detectors: pure functions of a count series and `now`. No database, no wall clock.

RareDetector  for topics whose normal volume is about zero (injury, fire, recall): the series
              counts *new distinct authors* per bucket; N of them within the window is the alert,
              whatever the baseline.
SpikeDetector volume far above what this time of day usually has, judged by a negative-binomial
              tail (Poisson when the history shows no over-dispersion), with a minimum volume, a
              minimum ratio and growth over consecutive buckets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from alerts.series import CountSeries

SEVERITY_BASE = {"low": 2, "medium": 3, "high": 5, "critical": 6}


@dataclass(frozen=True)
class Signal:
    detector: str
    observed: float
    expected: float
    level: int                          # severity 1-10
    window: timedelta
    started_at: datetime                # first bucket of the current rise
    p_value: float | None = None
    previous: float | None = None       # the window before this one
    consecutive: int = 0                # buckets in a row above expectation, ending now
    reason: str = ""
    recent: tuple[int, ...] = field(default_factory=tuple)

    @property
    def ratio(self) -> float:
        return self.observed / self.expected if self.expected > 0 else math.inf


def _clamp(level: float) -> int:
    return int(max(1, min(10, round(level))))


def _window_of(series: CountSeries, now: datetime, window: timedelta) -> tuple[int, int]:
    """Index range [lo, hi) of the buckets inside (now - window, now]."""
    hi = len(series.counts) - max(0, int((series.end - now) / series.step))
    lo = max(0, hi - series.buckets_in(window))
    return lo, hi


@dataclass(frozen=True)
class RareDetector:
    window: timedelta
    min_authors: int = 3
    severity: str = "high"

    def detect(self, series: CountSeries, now: datetime) -> Signal | None:
        lo, hi = _window_of(series, now, self.window)
        observed = sum(series.counts[lo:hi])
        if observed < self.min_authors:
            return None
        plo = max(0, lo - (hi - lo))
        previous = sum(series.counts[plo:lo])
        first = next(i for i in range(lo, hi) if series.counts[i])
        level = SEVERITY_BASE[self.severity] + math.log2(observed / self.min_authors) * 1.0 + 1
        consecutive = 0
        for c in reversed(series.counts[lo:hi]):
            if not c:
                break
            consecutive += 1
        return Signal("rare", observed, 0.0, _clamp(level), self.window, series.bucket_start(first),
                      previous=previous, consecutive=consecutive,
                      reason=f"{observed} distinct authors in {_fmt(self.window)} "
                             f"(alert at {self.min_authors})",
                      recent=tuple(series.counts[max(0, hi - 48):hi]))


@dataclass(frozen=True)
class SpikeDetector:
    window: timedelta
    min_count: int = 10
    min_ratio: float = 3.0
    max_p: float = 1e-4
    min_history: timedelta = timedelta(days=1)
    severity: str = "medium"

    def expected_per_bucket(self, series: CountSeries, lo: int) -> tuple[float, float]:
        """Baseline rate per bucket before index lo, and the dispersion (variance / mean)."""
        history = series.counts[:lo]
        per_day = int(timedelta(days=1) / series.step)
        mean = sum(history) / len(history)
        # same time of day on earlier days (a two-hour band), weighed with the overall level
        band = max(1, int(timedelta(hours=1) / series.step))
        k = len(series.counts[lo:])
        same_time = []
        for back in range(per_day, len(series.counts), per_day):
            a, b = lo - back - band, lo - back + k + band
            if a >= 0:
                same_time.extend(series.counts[a:b])
        seasonal = sum(same_time) / len(same_time) if same_time else mean
        expected = max(mean, seasonal, 1.0 / per_day)
        hour = max(1, int(timedelta(hours=1) / series.step))
        sums = [sum(history[i:i + hour]) for i in range(0, len(history) - hour + 1, hour)]
        if len(sums) >= 4:
            m = sum(sums) / len(sums)
            var = sum((s - m) ** 2 for s in sums) / (len(sums) - 1)
            dispersion = max(1.0, var / m) if m > 0 else 1.0
        else:
            dispersion = 1.0
        return expected, dispersion

    def detect(self, series: CountSeries, now: datetime) -> Signal | None:
        lo, hi = _window_of(series, now, self.window)
        if lo * series.step < self.min_history:
            return None  # warming up: too little history for a baseline
        observed = sum(series.counts[lo:hi])
        if observed < self.min_count:
            return None
        rate, dispersion = self.expected_per_bucket(series, lo)
        expected = rate * (hi - lo)
        p = tail_probability(observed, expected, dispersion)
        if observed < self.min_ratio * expected or p > self.max_p:
            return None
        consecutive = 0
        for c in reversed(series.counts[lo:hi]):
            if c <= rate:
                break
            consecutive += 1
        if consecutive < 2:
            return None  # one noisy bucket is not a rise
        start = hi - consecutive
        previous = sum(series.counts[max(0, lo - (hi - lo)):lo])
        level = SEVERITY_BASE[self.severity] + math.log2(observed / max(expected, 1e-9)) - 1
        return Signal("spike", observed, round(expected, 2), _clamp(level), self.window,
                      series.bucket_start(start), p_value=p, previous=previous,
                      consecutive=consecutive,
                      reason=f"{observed} in {_fmt(self.window)} vs {expected:.1f} expected "
                             f"(x{observed / expected:.1f}, p={p:.1e})",
                      recent=tuple(series.counts[max(0, hi - 48):hi]))


def tail_probability(observed: float, expected: float, dispersion: float = 1.0) -> float:
    """P(X >= observed) for X ~ Poisson(expected), or negative binomial with var = d * mean."""
    from scipy import stats

    if expected <= 0:
        return 0.0 if observed > 0 else 1.0
    if dispersion <= 1.0001:
        return float(stats.poisson.sf(observed - 1, expected))
    # NB with mean mu and variance d*mu: n = mu / (d - 1), p = 1 / d
    n = expected / (dispersion - 1)
    return float(stats.nbinom.sf(observed - 1, n, 1 / dispersion))


def _fmt(td: timedelta) -> str:
    s = int(td.total_seconds())
    return f"{s // 3600}h" if s % 3600 == 0 else f"{s // 60}m"
