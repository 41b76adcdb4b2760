"""A recall-style issue in a month of ordinary brand chatter (issue 5, must-show 2).

Synthetic, seeded and deterministic: mentions of one brand every 5 minutes for 30 days, with a
daily rhythm (quiet at night, busiest in the afternoon), a weekly one (weekends at 70 %),
over-dispersed noise (gamma-Poisson) and a product launch that doubles the volume for a day.
A few ordinary mentions are wrongly labelled product_safety ("this flashlight is fire"): 0.2 %.
Into that, a safety issue is injected at 1, 2, 4 or 8 reports an hour, each from a new author.
Both detectors run as the daemon runs them: replayed bucket by bucket, through the lifecycle.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from alerts.detectors import RareDetector, SpikeDetector
from alerts.nab import NabSeries, stream_alerts

SEED = 20261030
START = datetime(2026, 9, 7, tzinfo=UTC)          # a Monday
STEP = timedelta(minutes=5)
PER_DAY = 288
DAYS = 30
LAUNCH_DAY = 15                                   # a Tuesday
ISSUE_START = 22 * PER_DAY + 10 * 12              # day 22 (a Tuesday), 10:00
PEAK_PER_BUCKET = 1.2                             # about 170 mentions a day
MISLABELLED = 0.002                               # ordinary mentions labelled product_safety

SAFETY_RULE = RareDetector(window=timedelta(hours=3), min_authors=3, severity="critical")
SPIKE_RULE = SpikeDetector(window=timedelta(hours=1))


def expected_rate() -> np.ndarray:
    t = np.arange(DAYS * PER_DAY)
    hour = (t % PER_DAY) / 12
    daily = 0.15 + 0.85 * (0.5 - 0.5 * np.cos(2 * np.pi * (hour - 4) / 24))   # low 4am, high 4pm
    weekday = (START.weekday() + t // PER_DAY) % 7
    weekly = np.where(weekday >= 5, 0.7, 1.0)
    launch = np.where(t // PER_DAY == LAUNCH_DAY, 2.0, 1.0)
    return PEAK_PER_BUCKET * daily * weekly * launch


def chatter(seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """(mentions per bucket, new distinct authors labelled product_safety per bucket)."""
    rng = np.random.default_rng(seed)
    rate = expected_rate()
    mentions = rng.poisson(rng.gamma(10.0, rate / 10.0))       # var = mu + mu^2 / 10
    mislabelled = rng.binomial(mentions, MISLABELLED)
    return mentions, mislabelled


def report_buckets(per_hour: int, n: int = 6) -> list[int]:
    """Buckets of the first n reports of the issue, evenly spaced from ISSUE_START."""
    minutes = [i * 60 / per_hour for i in range(n)]
    return [ISSUE_START + int(m // 5) for m in minutes]


def series(counts: np.ndarray) -> NabSeries:
    return NabSeries("synthetic", START, STEP, counts)


def day_of(row: int) -> int:
    return row // PER_DAY


def test_the_background_is_what_it_claims():
    mentions, mislabelled = chatter()
    per_day = mentions.reshape(DAYS, PER_DAY).sum(axis=1)
    assert 120 < np.median(per_day) < 220
    assert per_day[LAUNCH_DAY] > 1.7 * per_day[LAUNCH_DAY - 7]   # the launch doubles a Tuesday
    assert per_day[5] < 0.8 * per_day[2]                           # Saturday vs Wednesday
    assert mislabelled.sum() >= 5 and mislabelled[: ISSUE_START].sum() >= 5


@pytest.mark.parametrize("per_hour", [1, 2, 4, 8])
def test_the_rare_rule_alerts_by_the_third_distinct_author(per_hour):
    _, safety = chatter()
    injected = safety.copy()
    reports = report_buckets(per_hour)
    for b in reports:
        injected[b] += 1                                  # one new author each
    alerts = stream_alerts(series(injected), SAFETY_RULE)
    before = [a for a in alerts if a < ISSUE_START]
    after = [a for a in alerts if a >= ISSUE_START]
    assert before == []                                   # a month of chatter, launch included
    assert after and after[0] <= reports[2], (per_hour, after[:1], reports[:3])


def test_the_launch_day_is_not_a_safety_alert():
    _, safety = chatter()
    launch = range(LAUNCH_DAY * PER_DAY, (LAUNCH_DAY + 1) * PER_DAY)
    assert safety[launch.start:launch.stop].sum() >= 1   # mislabelled mentions happen that day
    alerts = stream_alerts(series(safety), SAFETY_RULE)
    assert [a for a in alerts if a in launch] == []
    assert alerts == []


def test_the_background_alone_raises_at_most_one_spike_alert_a_week():
    mentions, _ = chatter()
    alerts = stream_alerts(series(mentions), SPIKE_RULE)
    per_week = np.bincount([day_of(a) // 7 for a in alerts], minlength=DAYS // 7 + 1)
    assert per_week.max(initial=0) <= 1, [str(START + STEP * a) for a in alerts]
    assert not any(day_of(a) == LAUNCH_DAY for a in alerts)   # doubling is not a spike


def test_a_real_surge_in_the_same_background_is_a_spike():
    """The spike rule is not quiet because it is deaf: a story that takes volume to twenty times
    the afternoon's usual (about 1.2 mentions per 5 minutes) for an hour alerts within its first
    half hour. (Tuned for real, bursty volume, it wants about ten times the usual: a tenfold
    hour here reaches p ~ 1e-13, just short of the default 1e-14.)"""
    mentions, _ = chatter()
    surge = 20 * PER_DAY + 15 * 12                       # day 20, 15:00
    boosted = mentions.copy()
    boosted[surge:surge + 12] += np.random.default_rng(SEED).poisson(24, 12)
    alerts = [a for a in stream_alerts(series(boosted), SPIKE_RULE) if a >= surge - 12]
    assert alerts and surge <= alerts[0] < surge + 6
