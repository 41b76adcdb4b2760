"""`listener sources` (each source's health) and `listener backfill` (read a source's history)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import click

from listener.cli.context import Ctx
from listener.cli.tables import table
from listener.errors import ListenerError

COLUMNS = ["source", "status", "last_success", "lag", "stored", "last_run_mentions",
           "mentions_per_run", "errors", "rate_limit_waits", "consecutive_failures",
           "last_error"]


def _ago(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(max(0, seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            return f"{s // size}{unit}"
    return f"{s}s"


@click.command("sources")
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table",
              show_default=True)
@click.pass_obj
def sources(obj: Ctx, fmt: str) -> None:
    """Health of each source: last success, lag, errors by kind, rate-limit waits, mentions
    per run, failures in a row."""
    from sqlmodel import Session, select

    from listener.pipeline.health import health_record
    from listener.storage.models import SourceState
    now = datetime.now(UTC)
    configured = list(obj.config.enabled_sources())
    with Session(obj.engine()) as s:
        states = {st.name: st for st in s.exec(select(SourceState))}
        names = configured + sorted(n for n in states if n not in configured)
        rows = [health_record(states.get(n) or SourceState(name=n, updated_at=now), now)
                for n in names]
    if fmt == "jsonl":
        for r in rows:
            click.echo(json.dumps(r, ensure_ascii=False))
        return
    shown = [{**r, "lag": _ago(r["lag_seconds"]),
              "errors": ", ".join(f"{k} {v}" for k, v in sorted(r["errors"].items()))}
             for r in rows]
    click.echo(table(shown, COLUMNS, width=50))


@click.command("backfill")
@click.option("--source", "name", required=True, help="the configured source to backfill")
@click.option("--since", "since", required=True, help='how far back, e.g. "7d" or "36h"')
@click.pass_obj
def backfill(obj: Ctx, name: str, since: str) -> None:
    """Read a source's history (as far as its API lists) and store what matches a brand;
    the source's own cursor is left where it is. Running it again stores nothing twice."""
    from tqdm import tqdm

    from listener.config.types import parse_duration
    from listener.tools.backfill import backfill as run_backfill
    from listener.tools.backfill import build_backfill_source
    try:
        period: timedelta = parse_duration(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    source = build_backfill_source(obj.config, obj.config_dir, name, period)
    engine = obj.engine()
    with tqdm(desc=f"backfill {name}", unit=" mentions") as bar:
        stored = 0

        def progress(r) -> None:
            nonlocal stored
            stored += r.stored
            bar.set_postfix(stored=stored, refresh=False)
            bar.update(r.fetched)
        result = run_backfill(engine, config=obj.config, name=name, source=source,
                              now=datetime.now(UTC), progress=progress)
    click.echo(f"{name}: backfilled {result.runs} run(s): fetched {result.fetched}, stored "
               f"{result.stored}, duplicates {result.duplicates}, not matching any brand "
               f"{result.dropped}, malformed {result.malformed}")
    if result.error:
        raise ListenerError(f"backfill of {name} stopped: {result.error}; what came before is "
                            "stored, run it again to continue")
