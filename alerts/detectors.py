"""Detectors: pure functions of a count series and `now`. No database, no wall clock.

RareDetector  for topics whose normal volume is about zero (injury, fire, recall): the series
              counts *new distinct authors* per bucket; N of them within the window is the alert,
              whatever the baseline.
SpikeDetector volume far above what this time of day usually has, judged by a negative-binomial
              tail whose over-dispersion is learnt from the history, with a minimum volume, a
              minimum ratio and growth over consecutive buckets; the window and its latest half
              are both judged, so that a sharp burst is not diluted.

Measured on NAB's Twitter volumes with `listener eval spikes` (see alerts/nab.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np

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


class Detector(Protocol):
    def detect(self, series: CountSeries, now: datetime) -> Signal | None: ...


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
class Span:
    """One span judged by the spike detector: the last `buckets` buckets before `now`."""
    buckets: int
    observed: int
    expected: float          # the usual volume of those buckets at this time of day
    overdispersion: float    # phi in var = mean + phi * mean^2 (0: Poisson)
    rising: int              # buckets in a row above the expected rate, ending now
    p_value: float           # tail probability, corrected for the number of spans judged

    @property
    def ratio(self) -> float:
        return self.observed / self.expected if self.expected > 0 else math.inf


@dataclass(frozen=True)
class SpikeDetector:
    """Volume far above what this time of day usually has.

    Expected: the same time of day on each earlier day in the series, averaged without the
    busiest of those days (so that one past incident does not raise the bar); the mean rate
    before a full day is there. Tail: negative binomial with var = mean + phi * mean^2, phi learnt
    from how far each day strays from the others at the same hour (a median, so past spikes do not
    inflate it) and at least `min_overdispersion`: mentions come in bursts (a post goes viral,
    a thread fills up), so they are never as regular as Poisson counts, and at large counts phi
    makes the test one of ratio rather than of volume. An alert also needs `min_count` mentions,
    `min_ratio` times the expected volume and the last `min_rising` buckets each above the
    expected rate (growth, not one noisy bucket).

    The window is judged whole and over its most recent part(s) (`spans`, fractions of the
    window): a sharp burst that started ten minutes ago is not diluted by the quiet fifty minutes
    before it. p-values are multiplied by the number of spans judged (Bonferroni).
    """

    window: timedelta
    min_count: int = 10
    min_ratio: float = 3.0
    max_p: float = 1e-14
    min_history: timedelta = timedelta(days=1)
    severity: str = "medium"
    min_rising: int = 2
    min_overdispersion: float = 0.2
    spans: tuple[float, ...] = (1.0, 0.5)

    def detect(self, series: CountSeries, now: datetime) -> Signal | None:
        lo, hi = _window_of(series, now, self.window)
        if lo * series.step < self.min_history:
            return None  # warming up: too little history for a baseline
        if sum(series.counts[lo:hi]) < self.min_count:
            return None
        counts = np.fromiter(series.counts[:hi], dtype=np.float64, count=hi)
        cum = np.concatenate(([0.0], np.cumsum(counts)))
        per_day = max(1, int(timedelta(days=1) / series.step))
        sizes = sorted({max(1, round((hi - lo) * f)) for f in self.spans} | {hi - lo},
                       reverse=True)
        judged = [self.judge(series.counts, cum, hi, k, per_day, len(sizes)) for k in sizes]
        alarms = [s for s in judged if s is not None and s.p_value <= self.max_p]
        if not alarms:
            return None
        whole = judged[0] or self.judge(series.counts, cum, hi, hi - lo, per_day, len(sizes),
                                        complete=True)
        sharpest = min(alarms, key=lambda s: s.p_value)
        consecutive = max(s.rising for s in alarms)
        ratio = max(s.ratio for s in alarms)
        level = SEVERITY_BASE[self.severity] + math.log2(ratio) - 1
        reason = f"{whole.observed} in {_fmt(self.window)} vs {whole.expected:.1f} expected " \
                 f"(x{whole.ratio:.1f}"
        if sharpest.buckets < hi - lo:
            reason += f"; {sharpest.observed} in the last {_fmt(series.step * sharpest.buckets)}" \
                      f" vs {sharpest.expected:.1f}, x{sharpest.ratio:.1f}"
        reason += f", p={sharpest.p_value:.1e})"
        previous = sum(series.counts[max(0, lo - (hi - lo)):lo])
        return Signal("spike", whole.observed, round(whole.expected, 2), _clamp(level),
                      self.window, series.bucket_start(hi - consecutive),
                      p_value=sharpest.p_value, previous=previous, consecutive=consecutive,
                      reason=reason, recent=tuple(series.counts[max(0, hi - 48):hi]))

    def judge(self, counts: tuple[int, ...], cum: np.ndarray, hi: int, k: int, per_day: int,
              tests: int = 1, *, complete: bool = False) -> Span | None:
        """The last k buckets before index hi against the buckets before them. None when the
        cheap conditions (volume, ratio, growth) already fail, unless `complete`."""
        observed = round(cum[hi] - cum[hi - k])
        if observed < self.min_count and not complete:
            return None
        expected = max(_usual(cum, hi, k, per_day), k / per_day)
        if observed < self.min_ratio * expected and not complete:
            return None
        rate, rising = expected / k, 0
        for c in reversed(counts[hi - k:hi]):
            if c <= rate:
                break
            rising += 1
        if rising < self.min_rising and not complete:
            return None
        phi = max(self.min_overdispersion, _overdispersion(cum, hi, k, per_day))
        p = min(1.0, tail_probability(observed, expected, 1.0 + phi * expected) * tests)
        return Span(k, observed, expected, phi, rising, p)


def _usual(cum: np.ndarray, hi: int, k: int, per_day: int) -> float:
    """Mentions usually seen in the k buckets before hi at this time of day: the mean over the
    earlier days without the busiest one (when there are three or more); before a full day, the
    mean rate of everything before the k buckets."""
    days = (hi - k) // per_day
    if days < 1:
        return (cum[hi - k] / (hi - k)) * k if hi > k else 0.0
    ends = hi - per_day * np.arange(1, days + 1)
    same_time = cum[ends] - cum[ends - k]
    if days < 3:
        return float(same_time.mean())
    return float((same_time.sum() - same_time.max()) / (days - 1))


def _overdispersion(cum: np.ndarray, hi: int, k: int, per_day: int) -> float:
    """phi in var = mu + phi * mu^2, from how far each day strays from the other days at the same
    time of day, in k-bucket bins aligned on hi (bin [0, 0] is the span being judged, left out).

    The median is used so that past spikes do not count: for roughly normal deviations the median
    of (x - mu)^2 / var is 0.455, so median(((x - mu)^2 - mu) / mu^2) ~ 0.455 * phi where mu is
    large, and it is negative (phi = 0, Poisson) where counts are small and not over-dispersed.
    """
    bins = max(1, per_day // k)
    rows = (hi - bins * k) // per_day + 1          # today and the earlier full days
    if rows < 2:
        sums = np.diff(cum[(hi - k) % k:hi - k + 1:k])   # k-bucket bins before the span
        m = float(sums.mean()) if len(sums) >= 4 else 0.0
        return max(0.0, (float(sums.var(ddof=1)) - m) / m ** 2) if m > 0 else 0.0
    ends = hi - per_day * np.arange(rows)[:, None] - k * np.arange(bins)[None, :]
    table = cum[ends] - cum[ends - k]
    known = np.ones(table.shape, dtype=bool)
    known[0, 0] = False
    n = known.sum(axis=0)
    total = np.where(known, table, 0.0).sum(axis=0)
    mu = (total - table) / np.maximum(n - 1, 1)        # the mean of the other days
    ok = known & (n >= 2) & (mu > 0)
    if not ok.any():
        return 0.0
    x, m, c = table[ok], mu[ok], np.broadcast_to(n, table.shape)[ok]
    q = ((x - m) ** 2 * (c - 1) / c - m) / m ** 2     # x - mu has var * c / (c - 1)
    return max(0.0, float(np.median(q)) / 0.455)


def tail_probability(observed: float, expected: float, dispersion: float = 1.0) -> float:
    """P(X >= observed) for X ~ Poisson(expected), or negative binomial with var = d * mean."""
    from scipy import special

    if observed <= 0:
        return 1.0
    if expected <= 0:
        return 0.0
    if dispersion <= 1.0001:
        return float(special.gammainc(observed, expected))       # Poisson upper tail
    # NB with mean mu and variance d*mu: n = mu / (d - 1), p = 1 / d; P(X >= k) = I_{1-p}(k, n)
    n = expected / (dispersion - 1)
    return float(special.betainc(observed, n, 1 - 1 / dispersion))


def _fmt(td: timedelta) -> str:
    s = int(td.total_seconds())
    return f"{s // 3600}h" if s % 3600 == 0 else f"{s // 60}m"
