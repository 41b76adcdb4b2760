"""`listener eval ...`: measure detection and classification on labelled public data.

The `eval` group lives here; each measurement is one subcommand (`spikes` here; others add
theirs to `eval_group`). Library code does the work (`alerts.nab` for spikes); this module reads
options, shows progress on stderr and prints the result.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import click

from listener.errors import ListenerError

SHARED_NAB = Path("../shared/data/nab")
# what the daemon's spike rules use by default (alerts.rules[].window, history)
SPIKE_WINDOW = timedelta(hours=1)
SPIKE_HISTORY = timedelta(days=7)


@click.group("eval")
def eval_group() -> None:
    """Measure detection and classification quality on labelled data."""


@eval_group.command("spikes")
@click.option("--data", type=click.Path(path_type=Path), default=SHARED_NAB, show_default=True,
              help="folder in NAB's format: *.csv (timestamp,value) and windows.json")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object instead of a table")
@click.option("--plot", "plot_dir", type=click.Path(path_type=Path), default=None,
              help="also draw each series with its windows and alerts as DIR/<series>.png")
def spikes(data: Path, as_json: bool, plot_dir: Path | None) -> None:
    """Replay each series through the spike detector as a live stream and score its alerts
    against the labelled anomaly windows (counted simply, and NAB's standard profile)."""
    from tqdm import tqdm

    from alerts.detectors import SpikeDetector
    from alerts.nab import Evaluation, NabDataError, evaluate_series, load_corpus

    try:
        corpus = load_corpus(data)
    except NabDataError as exc:
        raise ListenerError(str(exc)) from None
    detector = SpikeDetector(window=SPIKE_WINDOW)
    results = []
    with tqdm(total=sum(len(s) for s in corpus), unit="bucket", unit_scale=True,
              file=sys.stderr, desc="replaying") as bar:
        for series in corpus:
            bar.set_postfix_str(series.name)
            results.append(evaluate_series(series, detector, history=SPIKE_HISTORY,
                                           progress=bar.update))
    evaluation = Evaluation(tuple(results))
    if plot_dir is not None:
        plot_dir.mkdir(parents=True, exist_ok=True)
        for r in results:
            plot_series(r, plot_dir / f"{r.series.name}.png")
    if as_json:
        click.echo(json.dumps(evaluation.as_dict()))
        return
    click.echo(spike_table(evaluation))
    click.echo(f"{describe(detector)}, history {SPIKE_HISTORY.days}d; an alert is an incident "
               f"opening (it resolves after 2h without a signal)")
    if plot_dir is not None:
        click.echo(f"plots: {plot_dir}/<series>.png")


COLUMNS = [("series", "series"), ("windows", "windows"), ("found", "found"),
           ("false", "false_alerts"), ("false/day", "false_alerts_per_series_day"),
           ("recall", "recall"), ("precision", "precision"),
           ("median |hit-label| h", "median_hit_offset_hours"), ("NAB std", "nab_standard")]


def spike_table(evaluation) -> str:
    rows = [{"series": name, **score} for name, score in evaluation.as_dict()["series"].items()]
    rows.append({"series": "total", **evaluation.as_dict()["total"]})
    cells = [[_cell(r.get(key)) for _, key in COLUMNS] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, (h, _) in enumerate(COLUMNS)]

    def line(values):
        return "  ".join(v.ljust(w) if i == 0 else v.rjust(w)
                         for i, (v, w) in enumerate(zip(values, widths, strict=True)))
    out = [line([h for h, _ in COLUMNS])]
    out += [line(c) for c in cells[:-1]]
    out.append("  ".join("-" * w for w in widths))
    out.append(line(cells[-1]))
    return "\n".join(out)


def _cell(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def describe(detector) -> str:
    from dataclasses import fields
    parts = []
    for f in fields(detector):
        v = getattr(detector, f.name)
        parts.append(f"{f.name}={_duration(v) if isinstance(v, timedelta) else v}")
    return f"{type(detector).__name__}({', '.join(parts)})"


def _duration(td: timedelta) -> str:
    s = int(td.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s % size == 0:
            return f"{s // size}{unit}"
    return f"{s}s"


def plot_series(result, path: Path) -> None:
    """The series (log scale), its labelled windows and points, and the alerts: hits in green,
    false alerts in red."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import DateFormatter
    from matplotlib.figure import Figure

    s = result.series
    times = [s.time(i) for i in range(len(s))]
    fig = Figure(figsize=(16, 4.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(times, s.counts, lw=0.5, color="#4c72b0", label=f"count per {_duration(s.step)}")
    ax.set_yscale("symlog", linthresh=1)
    for i, (_, _, (a, b)) in enumerate(s.window_rows()):
        ax.axvspan(a, b, color="#dd8452", alpha=0.18, lw=0,
                   label="labelled window" if i == 0 else None)
    for i, t in enumerate(s.labels):
        ax.axvline(t, color="#555555", lw=0.8, ls="--", label="labelled point" if i == 0 else None)
    inside = {i for lo, hi, _ in s.window_rows() for i in result.alerts if lo <= i <= hi}
    top = max(float(s.counts.max()), 1.0) * 1.5
    hits = [s.time(i) for i in result.alerts if i in inside]
    false = [s.time(i) for i in result.alerts if i not in inside]
    ax.scatter(hits, [top] * len(hits), marker="v", s=60, color="#2ca02c", zorder=3,
               label=f"alert in a window ({len(hits)})")
    ax.scatter(false, [top] * len(false), marker="x", s=50, color="#d62728", zorder=3,
               label=f"false alert ({len(false)})")
    ax.set_xlim(times[0], times[-1])
    ax.xaxis.set_major_formatter(DateFormatter("%b %d"))
    sc = result.score
    nab = "-" if sc.nab_standard is None else f"{sc.nab_standard:.1f}"
    ax.set_title(f"{s.name}: {sc.found}/{sc.windows} windows found, {sc.false_alerts} false "
                 f"alerts ({sc.days:.0f} days), NAB standard {nab}", loc="left")
    fig.legend(loc="outside lower center", fontsize=8, ncols=5, frameon=False)
    ax.grid(alpha=0.3)
    fig.savefig(path, dpi=100)
