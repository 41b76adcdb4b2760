"""`listener collect`, `listener classify` and `listener detect`: one step of the pipeline
(listener/pipeline/), run once by hand, printing what it did. The daemon runs the same steps on
its schedule."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from listener.cli.context import Ctx
from listener.errors import ListenerError


@click.command()
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


@click.command()
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


@click.command()
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
