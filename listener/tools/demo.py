"""`listener demo`: replay the built-in stream through the real daemon and show the alert."""

from __future__ import annotations

import time
from pathlib import Path

import click
from sqlalchemy import func, select
from sqlmodel import Session

from listener.errors import ListenerError
from listener.storage.models import Incident, Mention, OutboxMessage, SourceState


class _TqdmStream:
    """Lets the console notifier print above the progress bar."""

    def write(self, text: str) -> None:
        from tqdm import tqdm
        tqdm.write(text.rstrip("\n"))

    def flush(self) -> None:
        pass


def _command() -> str:
    return ".venv/bin/listener" if Path(".venv/bin/listener").exists() else "listener"


def run_demo(obj, *, speed: float | None, keep: bool) -> None:
    from tqdm import tqdm

    from alerts.notifiers import ConsoleNotifier
    from listener.daemon.runner import build_daemon, build_engine, build_notifier
    from listener.sources.contract import SourceContext
    from listener.sources.replay import ReplaySource

    cfg = obj.config
    replay = cfg.enabled_sources().get("replay")
    if replay is None:
        raise ListenerError("the demo replays a stream: configure sources.replay in the config")
    if speed:
        replay.speed = speed
    url = obj.database_url
    if not url:
        db = Path("var/demo.db").resolve()
        db.parent.mkdir(parents=True, exist_ok=True)
        if not keep:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{db}"
    source = ReplaySource(SourceContext(replay, base_dir=obj.config_dir))
    first, last = source.time_range()
    span = (last - first).total_seconds()
    notifier = build_notifier(cfg)
    if isinstance(notifier, ConsoleNotifier):
        notifier = ConsoleNotifier(_TqdmStream())
    click.echo(f"Replaying {source.path.name}: {first:%a %d %b %H:%M} to {last:%a %d %b %H:%M} UTC "
               f"at {replay.speed:g}x (about {span / replay.speed:.0f}s), listening for "
               f"{', '.join(b.name for b in cfg.brands)}.\nLoading the classifier…")
    engine = build_engine(cfg, obj.config_dir, url)
    daemon = build_daemon(cfg, obj.config_dir, engine=engine, notifier=notifier,
                          stop_when_done=True)
    bar = tqdm(total=round(span / 3600, 1), unit="h", desc="starting",
               bar_format="simulated {n:.1f}/{total:.1f}h |{bar}| {desc}")
    last_update = [0.0]

    def tick(d) -> None:
        if time.monotonic() - last_update[0] < 0.5:
            return
        last_update[0] = time.monotonic()
        elapsed = min(span, max(0.0, (d.clock.now() - first).total_seconds()))
        bar.n = round(elapsed / 3600, 1)
        with Session(engine) as s:
            n = s.execute(select(func.count()).select_from(Mention)).scalar()
            inc = s.execute(select(func.count()).select_from(Incident)).scalar()
        bar.set_description_str(f"{d.clock.now():%a %H:%M} UTC · {n} mentions · "
                                f"{inc} incident(s)")

    daemon.on_tick = tick
    started = time.monotonic()
    try:
        daemon.run()
    finally:
        bar.n = bar.total
        bar.close()
    _summary(engine, cfg, url, time.monotonic() - started, daemon.finished)


def _summary(engine, cfg, url: str, seconds: float, finished: bool) -> None:
    with Session(engine) as s:
        state = s.get(SourceState, "replay")
        stored = s.execute(select(func.count()).select_from(Mention)).scalar()
        incidents = list(s.scalars(select(Incident).order_by(Incident.id)))
        notes = list(s.scalars(select(OutboxMessage).where(OutboxMessage.incident_id.is_not(None))
                               .order_by(OutboxMessage.id)))
    click.echo("")
    if not finished:
        click.echo("Stopped before the end of the stream.")
    click.echo(f"Replayed {state.fetched if state else 0} mentions in {seconds:.0f}s: "
               f"{stored} about your brands were stored, {state.dropped if state else 0} did "
               f"not match any brand query, {state.malformed if state else 0} malformed lines "
               "were skipped.")
    if not incidents:
        click.echo("No incident opened.")
    for inc in incidents:
        sent = [n for n in notes if n.incident_id == inc.id]
        kinds = ", ".join(f"{n.kind} ({n.status})" for n in sent) or "none"
        click.echo(f"  incident #{inc.id} [{inc.status}] SEV {inc.peak_level} {inc.title}: opened "
                   f"{inc.opened_at:%a %H:%M} UTC; notifications: {kinds}")
    where = sorted({n.delivered_to for n in notes if n.delivered_to})
    channels = sorted({n.channel for n in notes})
    if where == ["the console"]:
        click.echo(f"The alerts went to the console above, because no Slack token is set. With "
                   f"SLACK_BOT_TOKEN exported they go to Slack {', '.join(channels)}.")
    elif where:
        click.echo(f"The alerts went to {', '.join(where)}.")
    failed = [n for n in notes if n.status != "sent"]
    if failed:
        click.echo(f"{len(failed)} notification(s) not delivered: "
                   f"{failed[0].last_error or failed[0].status}")
    cmd = _command()
    click.echo("Look at what was stored:\n"
               f"  {cmd} --database-url {url} mentions --limit 20\n"
               f"  {cmd} --database-url {url} mentions --format jsonl\n"
               f"  {cmd} --database-url {url} incidents")
