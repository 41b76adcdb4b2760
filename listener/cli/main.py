"""The `listener` command. The only module that prints for the user and exits."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from listener.cli.context import Ctx
from listener.config.model import load_config_file
from listener.errors import ConfigError, ListenerError

SHARED_SENTIMENT = Path("../shared/data/sentiment")


def _fail(exc: Exception, code: int) -> None:
    click.echo(str(exc), err=True)
    sys.exit(code)


class Group(click.Group):
    """Turns the listener's errors into messages and exit codes (2 for config errors)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            _fail(exc, 2)
        except ListenerError as exc:
            _fail(f"error: {exc}", 1)


@click.group(cls=Group)
@click.option("--config", "config_path", type=click.Path(path_type=Path), default="config.yaml",
              show_default=True, help="the config file")
@click.option("--database-url", envvar="LISTENER_DATABASE_URL",
              help="SQLAlchemy URL of the store (overrides the config)")
@click.option("-v", "--verbose", count=True, help="more log output (-vv for debug)")
@click.pass_context
def main(ctx, config_path: Path, database_url: str | None, verbose: int) -> None:
    """Social listening and crisis detection: collect, classify, detect, alert."""
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("apscheduler", "httpx", "urllib3", "transformers"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    ctx.obj = Ctx(config_path, database_url, verbose)


@main.group()
def config() -> None:
    """Check, test and diff the config."""


@config.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.pass_obj
def config_check(obj: Ctx, path: Path | None) -> None:
    """Validate PATH (default: --config). Exit 0 when valid, 2 with the problems when not."""
    path = path or obj.config_path
    cfg = load_config_file(path)
    click.echo(f"{path}: OK ({len(cfg.brands)} brand(s), {len(cfg.enabled_sources())} "
               f"source(s), {len(cfg.topics)} topic(s), {len(cfg.alerts.rules)} rule(s))")


@main.command()
@click.pass_obj
def run(obj: Ctx) -> None:
    """Run the daemon until SIGINT or SIGTERM; SIGHUP or saving the config file reloads it."""
    from listener.daemon.runner import build_daemon
    if obj.verbose == 0:
        logging.getLogger().setLevel(logging.INFO)
    daemon = build_daemon(obj.config, obj.config_dir, engine=obj.engine(),
                          config_path=obj.config_path)
    from listener.cli.web import start_web
    web = start_web(obj, daemon.engine, daemon.clock, daemon=daemon)
    try:
        daemon.run()
    finally:
        if web is not None:
            web.stop()


@main.command()
@click.option("--once", is_flag=True, required=True, help="poll each source once and exit")
@click.option("--source", "only", help="only this source")
@click.pass_obj
def collect(obj: Ctx, once: bool, only: str | None) -> None:
    """Fetch new mentions from the sources and store those that match a brand."""
    from listener.daemon.runner import build_sources
    from listener.pipeline.collect import collect as collect_step
    cfg = obj.config
    enabled = cfg.enabled_sources()
    if only and only not in enabled:
        raise ListenerError(f"source {only!r} is not configured; configured: {', '.join(enabled)}")
    # a replay is read to its end on a far-future clock; every other source lives in real time
    end_of_time = datetime.max.replace(tzinfo=UTC)
    sources = build_sources(cfg, obj.config_dir, clock=lambda: datetime.now(UTC),
                            clocks={"replay": lambda: end_of_time})
    engine = obj.engine()
    for name, source in sources.items():
        if only and name != only:
            continue
        r = collect_step(engine, config=cfg, name=name, source=source,
                             now=datetime.now(UTC))
        click.echo(f"{name}: fetched {r.fetched}, stored {r.stored}, duplicates {r.duplicates}, "
                   f"not matching any brand {r.dropped}, malformed {r.malformed}"
                   + (f", error: {r.error}" if r.error else ""))


@main.command()
@click.pass_obj
def classify(obj: Ctx) -> None:
    """Label every unclassified mention (sentiment, topics)."""
    from listener.daemon.runner import build_classifier
    from listener.pipeline.classify import classify as classify_step
    engine = obj.engine()
    n = classify_step(engine, classifier=build_classifier(obj.config),
                          batch_size=obj.config.classifier.batch_size, now=datetime.now(UTC))
    click.echo(f"classified {n} mention(s)")


def _parse_at(value: str | None) -> datetime | None:
    if not value:
        return None
    from listener.sources.replay import parse_time
    try:
        return parse_time(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@main.command()
@click.option("--at", help="detect as of this time (ISO 8601); default: now, or for a replay "
                           "config the newest stored mention")
@click.option("--notify/--no-notify", default=True, show_default=True,
              help="deliver the outbox afterwards")
@click.pass_obj
def detect(obj: Ctx, at: str | None, notify: bool) -> None:
    """Run the alert rules once and print what was decided."""
    from listener.daemon.runner import build_notifier
    from listener.pipeline.detect import detect as run_detect
    from listener.pipeline.notify import notify as notify_step
    engine = obj.engine()
    now = _parse_at(at) or obj.now(engine)
    taken = run_detect(engine, config=obj.config, now=now)
    for t in taken:
        click.echo(f"{t.action:10} {t.key}: {t.reason}")
    if not taken:
        click.echo(f"nothing to report as of {now:%Y-%m-%d %H:%M} UTC")
    if notify:
        # a single run has no later run to wait for: held messages (group_wait) go out now
        r = notify_step(engine, notifier=build_notifier(obj.config),
                            now=now + obj.config.alerts.group_wait)
        click.echo(f"notifications: {r.sent} sent, {r.retrying} retrying, {r.failed} failed")


@main.command()
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table",
              show_default=True)
@click.option("--limit", type=int, default=None, help="at most N mentions")
@click.pass_obj
def mentions(obj: Ctx, fmt: str, limit: int | None) -> None:
    """List stored mentions with their labels."""
    from sqlmodel import Session

    from listener.storage import store
    from listener.storage.records import mention_record
    with Session(obj.engine()) as s:
        rows = [mention_record(m, lab) for m, lab in store.mentions_page(s, limit=limit)]
    if fmt == "jsonl":
        for r in rows:
            click.echo(json.dumps(r, ensure_ascii=False))
        return
    from listener.cli.tables import table
    click.echo(table(rows, ["created_at", "source", "author", "sentiment", "topics", "text"]))


@main.command()
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table",
              show_default=True)
@click.pass_obj
def incidents(obj: Ctx, fmt: str) -> None:
    """List incidents, newest first, with their notifications."""
    from sqlmodel import Session

    from listener.cli.tables import table
    from listener.storage.records import incident_records
    with Session(obj.engine()) as s:
        rows = incident_records(s)
    if fmt == "jsonl":
        for r in rows:
            click.echo(json.dumps(r, ensure_ascii=False))
        return
    click.echo(table(rows, ["id", "status", "level", "title", "opened_at", "observed",
                            "notifications"]))


@main.command()
@click.option("--speed", type=float, default=None, help="simulated seconds per real second")
@click.option("--keep", is_flag=True, help="keep the demo database from the last run")
@click.pass_obj
def demo(obj: Ctx, speed: float | None, keep: bool) -> None:
    """Replay the built-in two-day stream and show the crisis alert (no accounts needed)."""
    from listener.tools.demo import run_demo
    run_demo(obj, speed=speed, keep=keep)


@main.group()
def train() -> None:
    """Reproduce the shipped model weights from the shared data."""


@train.command("sentiment")
@click.option("--data", type=click.Path(path_type=Path), default=SHARED_SENTIMENT,
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


def _register() -> None:
    """Commands that live in modules of their own (one area each) are added here."""
    from listener.cli import sources as cli_sources
    main.add_command(cli_sources.sources)
    main.add_command(cli_sources.backfill)

    from listener.cli import admin as cli_admin
    main.add_command(cli_admin.explain)
    config.add_command(cli_admin.config_test)
    config.add_command(cli_admin.config_diff)

    from listener.cli import models as cli_models

    train.add_command(cli_models.train_complaints)
    main.add_command(cli_models.bench)

    from listener.cli.eval import eval_group
    eval_group.add_command(cli_models.eval_sentiment)
    eval_group.add_command(cli_models.eval_topics)
    main.add_command(eval_group)

    from listener.cli import web as cli_web
    main.add_command(cli_web.web)
    main.add_command(cli_web.users_group)
    cli_models.bench.add_command(cli_web.bench_queue)

    from listener.cli import alerts as cli_alerts
    main.add_command(cli_alerts.silence_group)
    main.add_command(cli_alerts.backtest)

    from listener.cli import digest as cli_digest
    main.add_command(cli_digest.digest)

    from listener.cli import db as cli_db
    main.add_command(cli_db.db_group)


_register()

if __name__ == "__main__":
    main()
