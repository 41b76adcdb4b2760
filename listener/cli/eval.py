"""`listener eval sentiment|topics|spikes`: measure classification and detection on labelled
data. Library code does the work (`classifiers.evaluate`, `alerts.nab`); this module reads
options, shows progress on stderr and prints the result.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import timedelta
from pathlib import Path

import click

from listener.cli.classifier import classify_with_progress, configured_classifier
from listener.cli.context import SHARED, Ctx
from listener.errors import ListenerError

# what the daemon's spike rules use by default (alerts.rules[].window, history)
SPIKE_WINDOW = timedelta(hours=1)
SPIKE_HISTORY = timedelta(days=7)


@click.group("eval")
def eval_group() -> None:
    """Measure detection and classification quality on labelled data."""


def _read_csv(data: Path, columns: list[str]) -> list[dict]:
    with data.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    missing = [c for c in columns if rows and c not in rows[0]]
    if missing:
        raise ListenerError(f"{data} has no column {', '.join(map(repr, missing))}; "
                            f"columns: {', '.join(rows[0])}")
    return rows


def _sentiment_csv(data: Path, text_column: str, label_column: str,
                   names: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Texts and gold labels from a CSV whose label column says negative/neutral/positive."""
    rows = _read_csv(data, [text_column, label_column])
    gold = [r[label_column].strip().lower() for r in rows]
    unknown = sorted(set(gold) - set(names))
    if unknown:
        shown = ", ".join(repr(u) if u else "(empty)" for u in unknown[:5])
        raise ListenerError(f"{data}: column {label_column!r} holds {shown}; "
                            f"expected one of {', '.join(names)}")
    return [r[text_column] for r in rows], gold


@eval_group.command("sentiment")
@click.option("--data", type=click.Path(path_type=Path, exists=True),
              default=SHARED / "sentiment", show_default=True,
              help="folder with {split}_text.txt and {split}_labels.txt, or a CSV file")
@click.option("--split", type=click.Choice(["val", "test", "train"]), default="val",
              show_default=True)
@click.option("--text-column", default="text", show_default=True, help="CSV: the text column")
@click.option("--label-column", default="sentiment", show_default=True,
              help="CSV: the gold label column (negative, neutral or positive)")
@click.option("--json", "as_json", is_flag=True, help="one JSON object on stdout")
@click.pass_obj
def eval_sentiment(obj: Ctx, data: Path, split: str, text_column: str, label_column: str,
                   as_json: bool) -> None:
    """Macro recall, accuracy, macro F1 and the confusion matrix of the configured sentiment,
    on the shared folder's split or on your own labelled CSV (e.g. the airline tweets:
    --data ../shared/data/airline/dev.csv --label-column airline_sentiment)."""
    from classifiers.evaluate import sentiment_report
    from classifiers.head_training import read_split
    names = ("negative", "neutral", "positive")
    if data.is_file():
        texts, gold = _sentiment_csv(data, text_column, label_column, names)
        where = str(data)
    else:
        try:
            texts, labels = read_split(data, split)
        except Exception as exc:
            raise ListenerError(str(exc)) from None
        gold, where = [names[i] for i in labels], f"{data}/{split}"
    classifier = configured_classifier(obj, with_topics=False)
    pred = [lab.sentiment for lab in classify_with_progress(classifier, texts, "sentiment")]
    report = sentiment_report(gold, pred, names)
    report.update(data=str(data), split=None if data.is_file() else split,
                  model=classifier.version)
    if as_json:
        click.echo(json.dumps(report))
        return
    click.echo(f"{where}: {report['n']} texts, model {classifier.version}")
    click.echo(f"macro recall {report['macro_recall']:.4f}  accuracy {report['accuracy']:.4f}  "
               f"macro F1 {report['macro_f1']:.4f}")
    click.echo("confusion (rows gold, columns predicted): " + "  ".join(names))
    for name, row in zip(names, report["confusion"], strict=True):
        click.echo(f"  {name:9} " + " ".join(f"{v:8d}" for v in row))


@eval_group.command("topics")
@click.option("--data", type=click.Path(path_type=Path, exists=True), required=True,
              help="CSV with a text and a label column")
@click.option("--text-column", default="text", show_default=True)
@click.option("--label-column", required=True, help="gold topic per row (empty: none)")
@click.option("--tune", is_flag=True, help=(
    "also find each topic's similarity threshold with the best F1 on this file (tune on a "
    "development split, then evaluate on another)"))
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def eval_topics(obj: Ctx, data: Path, text_column: str, label_column: str, tune: bool,
                as_json: bool) -> None:
    """Per-topic precision, recall and F1 of the config's topics against a labelled CSV."""
    from classifiers.evaluate import topics_report
    rows = _read_csv(data, [text_column, label_column])
    topics = [t.name for t in obj.config.topics]
    texts = [r[text_column] for r in rows]
    gold = [r[label_column] or None for r in rows]
    classifier = configured_classifier(obj)
    labels = classify_with_progress(classifier, texts, "topics")
    report = topics_report(gold, [set(lab.topics) for lab in labels], topics)
    report.update(data=str(data), config=str(obj.config_path))
    if tune:
        report["tuned"] = _tune_topics(obj, classifier, texts, gold, topics)
    if as_json:
        click.echo(json.dumps(report))
        return
    click.echo(f"{'topic':28} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>8}")
    for t, v in report["per_topic"].items():
        click.echo(f"{t:28} {v['precision']:9.3f} {v['recall']:7.3f} {v['f1']:6.3f} "
                   f"{v['support']:8d}")
    click.echo(f"macro F1 {report['macro_f1']:.4f} over {len(topics)} topics, {len(rows)} rows")
    if tune:
        tuned = report["tuned"]
        click.echo("\nbest similarity threshold per topic on this file (in-sample):")
        click.echo(f"{'topic':28} {'now':>5} {'best':>5} {'precision':>9} {'recall':>7} "
                   f"{'F1':>6}")
        current = {t.name: t.similarity for t in obj.config.topics}
        for t, v in tuned["per_topic"].items():
            click.echo(f"{t:28} {current[t]:5.2f} {v['threshold']:5.2f} {v['precision']:9.3f} "
                       f"{v['recall']:7.3f} {v['f1']:6.3f}")
        click.echo(f"macro F1 {tuned['macro_f1']:.4f} with the best thresholds")


def _tune_topics(obj: Ctx, classifier, texts: list[str], gold: list[str | None],
                 topics: list[str]) -> dict:
    """Classify again with every similarity threshold off, then pick each topic's best."""
    import dataclasses

    from classifiers.evaluate import tune_thresholds
    from listener.daemon.runner import topic_specs
    if not hasattr(classifier, "set_topics"):
        raise ListenerError("--tune needs the built-in classifier's topic matcher")
    specs = topic_specs(obj.config)
    classifier.set_topics([dataclasses.replace(t, similarity=-1.0) for t in specs])
    labels = classify_with_progress(classifier, texts, "scores")
    return tune_thresholds(gold, [{t: h.score for t, h in lab.topics.items()} for lab in labels],
                           topics)


@eval_group.command("spikes")
@click.option("--data", type=click.Path(path_type=Path), default=SHARED / "nab", show_default=True,
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
