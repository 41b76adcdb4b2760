"""Model commands: train the complaint model, evaluate sentiment and topics, benchmark."""

from __future__ import annotations

import csv
import json
import statistics
import sys
import time
from pathlib import Path

import click

from listener.cli.context import Ctx
from listener.errors import ListenerError

SHARED = Path("../shared/data")


def _bar(desc: str, total: int):
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, unit="text", file=sys.stderr, leave=False)


def _classifier(obj: Ctx | None, *, with_topics: bool = True):
    from classifiers.errors import ModelError
    from listener.daemon.runner import build_classifier
    try:
        if obj is not None and obj.config_path.exists():
            cfg = obj.config
            if not with_topics:
                cfg = cfg.model_copy(update={"topics": []})
            return build_classifier(cfg)
        from classifiers.builtin import BuiltinClassifier
        return BuiltinClassifier()
    except ModelError as exc:
        raise ListenerError(str(exc)) from None


def _classify(classifier, texts: list[str], desc: str, batch: int = 256):
    bar = _bar(desc, len(texts))
    out = []
    for s in range(0, len(texts), batch):
        out += classifier.classify(texts[s:s + batch])
        bar.update(min(batch, len(texts) - s))
    bar.close()
    return out


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


@click.command("sentiment")
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
    classifier = _classifier(obj, with_topics=False)
    pred = [lab.sentiment for lab in _classify(classifier, texts, "sentiment")]
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


@click.command("topics")
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
    classifier = _classifier(obj)
    labels = _classify(classifier, texts, "topics")
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
    labels = _classify(classifier, texts, "scores")
    return tune_thresholds(gold, [{t: h.score for t, h in lab.topics.items()} for lab in labels],
                           topics)


@click.command("complaints")
@click.option("--data", type=click.Path(path_type=Path),
              default=SHARED / "complaints" / "complaints-data.csv", show_default=True)
@click.option("--folds", default=5, show_default=True)
@click.option("--save/--no-save", default=True, show_default=True,
              help="fit on all the data and write the shipped model")
@click.option("--json", "as_json", is_flag=True)
def train_complaints(data: Path, folds: int, save: bool, as_json: bool) -> None:
    """Cross-validate the complaint model (F1 of the complaint class), then fit and save it."""
    from classifiers.builtin import builtin_encoder
    from classifiers.complaints import WEIGHTS, ComplaintModel, cross_validate, read_complaints
    from classifiers.errors import ModelError
    from classifiers.sentiment import SentimentHead
    try:
        texts, labels = read_complaints(data)
        encoder = builtin_encoder(SentimentHead.load())
    except ModelError as exc:
        raise ListenerError(str(exc)) from None
    bar = _bar("embedding", len(texts))
    emb = encoder.encode(texts, progress=bar.update)
    bar.close()
    report = cross_validate(texts, labels, emb, folds=folds)
    if save:
        ComplaintModel.fit(texts, labels, emb).save(WEIGHTS)
        report["saved"] = str(WEIGHTS)
    if as_json:
        click.echo(json.dumps(report))
        return
    click.echo(f"{folds}-fold cross-validation on {report['n']} tweets: complaint F1 "
               f"{report['complaint_f1']:.4f} (macro F1 {report['macro_f1']:.4f}; per fold "
               + ", ".join(f"{x:.3f}" for x in report["per_fold_f1"]) + ")")
    if save:
        click.echo(f"fitted on all of it -> {WEIGHTS}")


def _bench_texts(n: int) -> list[str]:
    path = SHARED / "sentiment" / "val_text.txt"
    if path.is_file():
        base = path.read_text(encoding="utf-8").splitlines()
    else:
        from listener.sources.replay import ReplaySettings, ReplaySource
        src = ReplaySource(ReplaySettings(), base_dir=Path("."), clock=lambda: None)
        base = [m.text for m in src._read({"offset": 0}, until=None).mentions]
    return (base * (n // len(base) + 1))[:n]


@click.group()
def bench() -> None:
    """Benchmarks (figures, not assertions)."""


@bench.command("classify")
@click.option("--n", default=2000, show_default=True, help="mentions per run")
@click.option("--runs", default=5, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def bench_classify(obj: Ctx, n: int, runs: int, as_json: bool) -> None:
    """Mentions per second through the configured classifier (loaded once), median of runs."""
    import psutil
    texts = _bench_texts(n)
    classifier = _classifier(obj)
    classifier.classify(texts[:64])  # warm up
    rates = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for s in range(0, len(texts), 256):
            classifier.classify(texts[s:s + 256])
        rates.append(len(texts) / (time.perf_counter() - t0))
    rss = psutil.Process().memory_info().rss / 2**20
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {"mentions_per_s": round(statistics.median(rates), 1),
              "runs": [round(r, 1) for r in rates], "n": n, "peak_rss_mb": round(peak, 1),
              "rss_mb": round(rss, 1), "model": classifier.version,
              "threads": obj.config.classifier.threads if obj.config_path.exists() else None}
    if as_json:
        click.echo(json.dumps(report))
        return
    click.echo(f"{report['mentions_per_s']:.0f} mentions/s (median of {runs} runs of {n}: "
               + ", ".join(f"{r:.0f}" for r in rates) + f"); peak RSS {peak:.0f} MB; "
               f"model {classifier.version}")
