"""Evaluate a spike detector on NAB-format data: series, labelled windows, scores.

A folder in the Numenta Anomaly Benchmark's format holds `*.csv` files (`timestamp,value`, one row
per fixed-width bucket), `windows.json` (per file, the labelled anomaly windows as
`[start, end]` timestamps, both ends inclusive) and optionally `labels.json` (the labelled anomaly
points the windows are centred on). Keys in the JSON files may carry a folder
(`realTweets/Twitter_volume_AAPL.csv`); files are matched by name.

Each series is replayed as a stream: after row i arrives, the detector sees rows up to i (at most
`history` of them, as the daemon's `history` setting gives it) and `now` is the end of row i's
bucket. Signals go through the daemon's own lifecycle (`alerts.lifecycle.decide`, and `advance`
for the incident after each decision, as the detect step stores it): an alert is an
incident opening; signals while it is open are the same alert, and it resolves after
`resolve_after` (2 h) without a signal, so a continuing anomaly is one alert. An alert is dated by
its row (NAB's convention: the record at which the detector flagged).

Scores, counted simply:
- found: windows holding at least one alert (its first alert is the window's hit);
- false alerts: alerts outside every window; per series-day: divided by the series' length in days;
- recall found / windows; window-level precision found / (found + false alerts);
- hit offset: hours from the labelled point (the window's label in `labels.json` nearest to the
  hit, else the window's centre) to the hit, negative when early; the median is of the absolute
  offsets.

And NAB's standard profile, implemented from NAB's published definition (Lavin & Ahmad 2015;
numenta/NAB `sweeper.py`): rows in the probationary period (the first 15 % of a series, at most
750 rows) are ignored; the first detection in a window scores A_TP * sigma(y) / sigma(-1) where y is
the detection's relative position (-1 at the window's left edge, 0 just past its right edge) and
sigma(y) = 2 / (1 + e^(5y)) - 1; a window without one scores -A_FN; each detection outside every
window scores A_FP * sigma(y) with y its distance past the preceding window's right edge in window
widths (y = 3, so -A_FP, when no window precedes it). A_TP = 1, A_FP = 0.11, A_FN = 1. The raw
sum is normalised with the null detector (no detections: -A_FN per window) at 0 and the perfect
detector (a detection at every window's left edge: +A_TP per window) at 100; the total is
normalised over all windows of all series, as NAB does for a corpus.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from alerts.detectors import Detector, Signal
from alerts.errors import NabDataError
from alerts.lifecycle import IncidentState, Policy, advance, decide
from alerts.series import CountSeries


@dataclass(frozen=True)
class CostMatrix:
    tp: float
    fp: float
    fn: float


STANDARD = CostMatrix(tp=1.0, fp=0.11, fn=1.0)
PROBATION_PERCENT = 0.15
PROBATION_MAX_ROWS = 750      # NAB: min(floor(0.15 * rows), 0.15 * 5000)


@dataclass(frozen=True)
class NabSeries:
    name: str                                   # file stem, e.g. Twitter_volume_AAPL
    start: datetime                             # timestamp of the first row (UTC)
    step: timedelta
    counts: np.ndarray                          # one count per bucket; missing rows are 0
    windows: tuple[tuple[datetime, datetime], ...] = ()
    labels: tuple[datetime, ...] = ()

    def __len__(self) -> int:
        return len(self.counts)

    @property
    def days(self) -> float:
        return len(self.counts) * self.step / timedelta(days=1)

    def time(self, i: int) -> datetime:
        return self.start + self.step * i

    def window_rows(self) -> list[tuple[int, int, tuple[datetime, datetime]]]:
        """Each window with the inclusive row range [lo, hi] it covers (windows outside the
        series are dropped)."""
        out = []
        for a, b in self.windows:
            lo = max(0, math.ceil((a - self.start) / self.step))
            hi = min(len(self.counts) - 1, math.floor((b - self.start) / self.step))
            if lo <= hi:
                out.append((lo, hi, (a, b)))
        return out

    def label_for(self, window: tuple[datetime, datetime], near: datetime) -> datetime:
        inside = [t for t in self.labels if window[0] <= t <= window[1]]
        if not inside:
            return window[0] + (window[1] - window[0]) / 2
        return min(inside, key=lambda t: abs(t - near))


def parse_time(text: str) -> datetime:
    t = datetime.fromisoformat(text.strip())
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def load_series(path: Path, windows: Iterable[Sequence[str]] = (),
                labels: Iterable[str] = ()) -> NabSeries:
    """One `timestamp,value` file; rows are bucketed by the most common spacing between them."""
    times, values = [], []
    with path.open(newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:2]] != ["timestamp", "value"]:
            raise NabDataError(f"{path.name}: the first line must be 'timestamp,value', "
                               f"found {','.join(header or [])!r}")
        for n, row in enumerate(reader, start=2):
            if not row:
                continue
            try:
                times.append(parse_time(row[0]).timestamp())
                values.append(float(row[1]))
            except (ValueError, IndexError):
                raise NabDataError(f"{path.name}:{n}: expected 'timestamp,value', "
                                   f"found {','.join(row)!r}") from None
    if len(times) < 2:
        raise NabDataError(f"{path.name}: fewer than two rows")
    t = np.asarray(times)
    order = np.argsort(t, kind="stable")
    t, v = t[order], np.asarray(values)[order]
    gaps = np.diff(t)
    values, counts = np.unique(gaps[gaps > 0], return_counts=True)
    step = float(values[np.argmax(counts)]) if len(values) else 0.0   # ties: the shortest
    if step <= 0:
        raise NabDataError(f"{path.name}: timestamps do not advance")
    index = np.rint((t - t[0]) / step).astype(np.int64)
    counts = np.zeros(int(index[-1]) + 1, dtype=np.int64)
    np.add.at(counts, index, np.rint(np.clip(v, 0, None)).astype(np.int64))
    return NabSeries(
        name=path.stem, start=datetime.fromtimestamp(t[0], tz=UTC),
        step=timedelta(seconds=step), counts=counts,
        windows=tuple((parse_time(a), parse_time(b)) for a, b in windows),
        labels=tuple(sorted(parse_time(x) for x in labels)))


def _by_file_name(path: Path, required: bool) -> dict[str, list]:
    if not path.exists():
        if required:
            raise NabDataError(f"{path}: missing (NAB's labelled windows, per data file)")
        return {}
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise NabDataError(f"{path.name}: not JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise NabDataError(f"{path.name}: expected an object keyed by data file")
    return {Path(k).name: v for k, v in raw.items()}


def load_corpus(folder: Path) -> list[NabSeries]:
    """Every `*.csv` in `folder` with its windows (and labels when `labels.json` is there)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NabDataError(f"{folder}: not a folder")
    windows = _by_file_name(folder / "windows.json", required=True)
    labels = _by_file_name(folder / "labels.json", required=False)
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise NabDataError(f"{folder}: no *.csv series")
    missing = [p.name for p in files if p.name not in windows]
    if missing:
        raise NabDataError(f"windows.json has no entry for {', '.join(missing)}")
    return [load_series(p, windows[p.name], labels.get(p.name, ())) for p in files]


# --- replay -------------------------------------------------------------------------------------

def stream_alerts(series: NabSeries, detector: Detector, *,
                  history: timedelta = timedelta(days=7), policy: Policy | None = None,
                  progress: Callable[[int], None] | None = None,
                  signals: list[tuple[int, Signal]] | None = None) -> list[int]:
    """Rows at which an incident opens when the series is replayed bucket by bucket.

    At row i the detector gets the buckets (i - history, i] and nothing later. `progress` is
    called with the number of rows done since its last call; `signals`, when given, collects every
    (row, signal) pair.
    """
    policy = policy or Policy()
    keep = max(1, int(history / series.step))
    counts = series.counts.tolist()
    state: IncidentState | None = None
    opened: list[int] = []
    done = 0
    for i in range(len(counts)):
        now = series.start + series.step * (i + 1)
        visible = CountSeries(now, series.step, tuple(counts[max(0, i + 1 - keep):i + 1]))
        signal = detector.detect(visible, now)
        if signals is not None and signal is not None:
            signals.append((i, signal))
        decision = decide(policy, state, signal, now)
        state = advance(state, decision, signal, now)
        if decision is not None and decision.action == "first":
            opened.append(i)
        if progress is not None and (i + 1) % 512 == 0:
            progress(i + 1 - done)
            done = i + 1
    if progress is not None and done < len(counts):
        progress(len(counts) - done)
    return opened


# --- scoring ------------------------------------------------------------------------------------

def scaled_sigmoid(y: float) -> float:
    """NAB's reward curve: 0.987 at a window's left edge (y = -1), 0 at its right edge (y = 0),
    -0.987 one window width past it, -1 from three widths on."""
    if y >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def probation_rows(n: int) -> int:
    return int(min(math.floor(PROBATION_PERCENT * n), PROBATION_PERCENT * 5000))


def nab_raw_score(n: int, windows: Sequence[tuple[int, int]], detections: Iterable[int],
                  cost: CostMatrix = STANDARD) -> tuple[float, int]:
    """NAB's raw score of binary detections at the given rows of an n-row series whose windows
    are inclusive row ranges; returns (score, windows scored)."""
    probation = probation_rows(n)
    windows = sorted(windows)
    scored = [w for w in windows if w[1] >= probation]
    best = {w: -cost.fn for w in scored}
    max_tp = scaled_sigmoid(-1.0)
    fp = 0.0
    for i in sorted(set(detections)):
        if i < probation or i >= n:
            continue
        inside = next((w for w in windows if w[0] <= i <= w[1]), None)
        if inside is not None:
            width = inside[1] - inside[0] + 1
            y = -(inside[1] - i + 1) / width
            best[inside] = max(best[inside], scaled_sigmoid(y) * cost.tp / max_tp)
            continue
        before = [w for w in windows if w[1] < i]
        if not before:
            fp -= cost.fp
            continue
        lo, hi = before[-1]
        width = hi - lo + 1
        y = (i - hi) / (width - 1) if width > 1 else 3.0
        fp += scaled_sigmoid(y) * cost.fp
    return sum(best.values()) + fp, len(scored)


def nab_normalised(raw: float, windows: int, cost: CostMatrix = STANDARD) -> float | None:
    """100 for the perfect detector, 0 for the null detector."""
    null, perfect = -cost.fn * windows, cost.tp * windows
    return 100.0 * (raw - null) / (perfect - null) if perfect > null else None


@dataclass(frozen=True)
class Score:
    windows: int
    found: int
    false_alerts: int
    alerts: int
    days: float
    hit_offsets_hours: tuple[float, ...] = ()   # signed: negative is before the labelled point
    nab_raw: float = 0.0
    nab_windows: int = 0

    @property
    def recall(self) -> float | None:
        return self.found / self.windows if self.windows else None

    @property
    def precision(self) -> float | None:
        judged = self.found + self.false_alerts
        return self.found / judged if judged else None

    @property
    def false_alerts_per_series_day(self) -> float | None:
        return self.false_alerts / self.days if self.days else None

    @property
    def median_hit_offset_hours(self) -> float | None:
        offsets = [abs(h) for h in self.hit_offsets_hours]
        return statistics.median(offsets) if offsets else None

    @property
    def nab_standard(self) -> float | None:
        return nab_normalised(self.nab_raw, self.nab_windows)

    def __add__(self, other: Score) -> Score:
        return Score(self.windows + other.windows, self.found + other.found,
                     self.false_alerts + other.false_alerts, self.alerts + other.alerts,
                     self.days + other.days, self.hit_offsets_hours + other.hit_offsets_hours,
                     self.nab_raw + other.nab_raw, self.nab_windows + other.nab_windows)

    def as_dict(self) -> dict:
        return {"windows": self.windows, "found": self.found, "false_alerts": self.false_alerts,
                "recall": _round(self.recall), "precision": _round(self.precision),
                "false_alerts_per_series_day": _round(self.false_alerts_per_series_day),
                "median_hit_offset_hours": _round(self.median_hit_offset_hours),
                "nab_standard": _round(self.nab_standard, 2)}


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def score_series(series: NabSeries, alerts: Sequence[int],
                 cost: CostMatrix = STANDARD) -> Score:
    windows = series.window_rows()
    alerts = sorted(alerts)
    found, offsets = 0, []
    for lo, hi, window in windows:
        hit = next((i for i in alerts if lo <= i <= hi), None)
        if hit is not None:
            found += 1
            at = series.time(hit)
            offsets.append((at - series.label_for(window, at)) / timedelta(hours=1))
    false = sum(1 for i in alerts if not any(lo <= i <= hi for lo, hi, _ in windows))
    raw, scored = nab_raw_score(len(series), [(lo, hi) for lo, hi, _ in windows], alerts, cost)
    return Score(len(windows), found, false, len(alerts), series.days, tuple(offsets), raw, scored)


@dataclass(frozen=True)
class SeriesResult:
    series: NabSeries
    alerts: tuple[int, ...]
    score: Score


@dataclass(frozen=True)
class Evaluation:
    results: tuple[SeriesResult, ...]

    @property
    def total(self) -> Score:
        return sum((r.score for r in self.results[1:]), self.results[0].score) \
            if self.results else Score(0, 0, 0, 0, 0.0)

    def as_dict(self) -> dict:
        return {"series": {r.series.name: {**r.score.as_dict(), "alerts": r.score.alerts,
                                           "days": round(r.score.days, 2)}
                           for r in self.results},
                "total": self.total.as_dict()}


def evaluate_series(series: NabSeries, detector: Detector, *,
                    history: timedelta = timedelta(days=7), policy: Policy | None = None,
                    progress: Callable[[int], None] | None = None) -> SeriesResult:
    alerts = stream_alerts(series, detector, history=history, policy=policy, progress=progress)
    return SeriesResult(series, tuple(alerts), score_series(series, alerts))


def evaluate(corpus: Sequence[NabSeries], detector: Detector, *,
             history: timedelta = timedelta(days=7), policy: Policy | None = None,
             progress: Callable[[int], None] | None = None) -> Evaluation:
    return Evaluation(tuple(evaluate_series(s, detector, history=history, policy=policy,
                                            progress=progress) for s in corpus))
