"""`listener digest`: print the daily digest (or post it) without waiting for the schedule."""

from __future__ import annotations

from datetime import date

import click

from listener.cli.context import Ctx


@click.command("digest")
@click.option("--now", "now_", is_flag=True,
              help="the 24 hours up to now (the default; for a replay config, up to the newest "
                   "stored mention)")
@click.option("--day", help="a whole local calendar day instead, YYYY-MM-DD (digest.timezone)")
@click.option("--post", is_flag=True, help="also post it to Slack (digest.channel) through "
                                           "the outbox")
@click.pass_obj
def digest(obj: Ctx, now_: bool, day: str | None, post: bool) -> None:
    """Print the digest: volume by source and topic against a week before, sentiment, top
    questions and complaints, open incidents, first-response attainment."""
    from datetime import timedelta

    from sqlmodel import Session

    from alerts.digest_message import plain
    from listener.daemon.runner import build_notifier
    from listener.pipeline.digest import digest_message, local_day, settings_of
    from listener.pipeline.notify import notify
    from listener.storage.models import OutboxMessage

    if now_ and day:
        raise click.UsageError("give --now or --day, not both")
    engine = obj.engine()
    now = obj.now(engine)
    if day:
        try:
            start, end = local_day(obj.config, date.fromisoformat(day))
        except ValueError:
            raise click.BadParameter(f"{day!r} is not a date like 2026-10-30",
                                     param_hint="--day") from None
    else:
        start, end = now - timedelta(days=1), now
    message = digest_message(engine, config=obj.config, start=start, end=end)
    click.echo(plain(message))
    if post:
        channel = settings_of(obj.config).channel or obj.config.slack.channel
        with Session(engine) as session:
            session.add(OutboxMessage(
                kind="digest", dedup_key=f"digest:cli:{now.isoformat()}:{end}", channel=channel,
                message=message, next_attempt_at=now, created_at=now))
            session.commit()
        r = notify(engine, notifier=build_notifier(obj.config), now=now)
        click.echo(f"posted: {r.sent} sent, {r.retrying} retrying, {r.failed} failed",
                   err=True)
