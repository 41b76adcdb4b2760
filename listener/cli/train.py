"""`listener train sentiment|complaints`: reproduce the shipped model weights from the shared
data (classifiers/ does the training; this module reads options and shows progress)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from listener.cli.classifier import progress_bar
from listener.cli.context import SHARED
from listener.errors import ListenerError


@click.group()
def train() -> None:
    """Reproduce the shipped model weights from the shared data."""


@train.command("sentiment")
@click.option("--data", type=click.Path(path_type=Path), default=SHARED / "sentiment",
              show_default=True, help="folder with train_/val_ text and labels")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="weights file (default: the shipped one)")
@click.option("--method", type=click.Choice(["lora", "head"]), default="lora", show_default=True,
              help="lora: fine-tune the encoder with adapters (the shipped model; about 17 "
                   "minutes on two idle cores for the 4-layer student); head: an MLP on frozen "
                   "embeddings (minutes)")
@click.option("--epochs", type=float, default=None,
              help="passes over the training set (default: 1 for lora, 20 for head)")
@click.option("--hidden", type=int, default=256, show_default=True,
              help="head: hidden units (0: linear)")
@click.option("--layers", type=click.IntRange(1, 6), default=4, show_default=True,
              help="lora: encoder layers kept (4: the shipped student, 1.5x faster than 6)")
@click.option("--teacher", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="lora: a 6-layer model to distil from (default with --layers < 6: the "
                   "shipped classifiers/weights/sentiment_teacher.safetensors; rebuild it with "
                   "--layers 6 --out that file)")
@click.option("--distill", type=float, default=1.0, show_default=True,
              help="lora: weight of the teacher's soft labels in the loss")
@click.option("--keep", type=float, default=None, help=(
    "lora: weight of the loss keeping the pooled embedding at the base encoder's (default 3 "
    "for a student, 1 for 6 layers)"))
def train_sentiment(data: Path, out: Path | None, method: str, epochs: float | None,
                    hidden: int, layers: int, teacher: Path | None, distill: float,
                    keep: float | None) -> None:
    """Reproduce the shipped sentiment weights from the shared data, with progress bars."""
    from tqdm import tqdm

    from classifiers.errors import ModelError
    from classifiers.sentiment import WEIGHTS

    bars = []

    def progress(desc: str, total: int):
        bar = tqdm(total=total, desc=desc)
        bars.append(bar)
        return bar.update
    try:
        if method == "lora":
            from classifiers.finetune import TEACHER, finetune_sentiment
            if teacher is None and layers < 6:
                teacher = TEACHER
            if teacher is not None and not teacher.is_file():
                raise ListenerError(f"teacher model {teacher} does not exist; train it with "
                                    f"`listener train sentiment --layers 6 --out {teacher}`")
            report = finetune_sentiment(data, out or WEIGHTS, epochs=epochs or 1.0,
                                        layers=layers, teacher=teacher, distill=distill,
                                        keep=keep if keep is not None else
                                        (3.0 if layers < 6 else 1.0),
                                        progress=progress, log=tqdm.write)
        else:
            from classifiers.head_training import train_sentiment as fit
            report = fit(data, out or WEIGHTS, hidden=hidden, epochs=int(epochs or 20),
                         progress=lambda total: progress("embedding", total))
    except ModelError as exc:
        raise ListenerError(str(exc)) from None
    finally:
        for b in bars:
            b.close()
    per = ", ".join(f"{k} {v:.3f}" for k, v in report.per_class_recall.items())
    click.echo(f"val macro recall {report.val_macro_recall:.4f} ({per}) -> {report.path}")


@train.command("complaints")
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
    bar = progress_bar("embedding", len(texts))
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
