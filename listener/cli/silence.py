"""`listener silence add|list|expire`: mute the notifications of matching incidents for a while.

Silences are stored in the `silences` table and applied by the detect step; adding one goes
through `incidents.silences.add_silence`, the rules the silence pages and the API use.
"""

from __future__ import annotations

import getpass
import json
import os
from datetime import UTC, datetime

import click

from listener.cli.context import Ctx
from listener.cli.tables import table
from listener.cli.times import option_time
from listener.errors import ListenerError, SilenceError

SILENCE_OPTIONS = {"matchers": "--match", "duration": "--for", "comment": "--comment"}


@click.group("silence")
def silence_group() -> None:
    """Mute the notifications of matching incidents for a while (as in Alertmanager)."""


@silence_group.command("add")
@click.option("--match", "matchers", multiple=True, required=True,
              help="label matcher: NAME=VALUE, NAME!=VALUE, NAME=~REGEX or NAME!~REGEX on "
                   "brand, product, topic, rule; repeat for several (all must match)")
@click.option("--for", "duration", default="2h", show_default=True, help="how long it lasts")
@click.option("--start", help="when it starts (ISO 8601; default now)")
@click.option("--comment", required=True, help="why: shown in every decision it causes")
@click.option("--author", default=None, help="who (default: $USER)")
@click.pass_obj
def silence_add(obj: Ctx, matchers: tuple[str, ...], duration: str, start: str | None,
                comment: str, author: str | None) -> None:
    """Add a silence and print its id."""
    from sqlmodel import Session

    from alerts.matchers import Matcher
    from listener.incidents import silences
    now = datetime.now(UTC)
    starts = option_time(start, "--start") or now
    author = author or os.environ.get("USER") or getpass.getuser()
    with Session(obj.engine()) as s:
        # the same rules as the silence pages and the API (listener/incidents/silences.py)
        try:
            silence = silences.add_silence(s, matchers=list(matchers), duration=duration,
                                            comment=comment, user=author, now=now, starts=starts)
        except SilenceError as exc:
            raise click.BadParameter(str(exc).removeprefix(f"{exc.field}: "),
                                     param_hint=SILENCE_OPTIONS[exc.field]) from None
        s.commit()
        shown = ", ".join(str(Matcher(**m)) for m in silence.matchers)
        click.echo(f"silence #{silence.id}: {shown} from "
                   f"{silence.starts_at:%Y-%m-%d %H:%M} until {silence.ends_at:%Y-%m-%d %H:%M} UTC")


@silence_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="include expired silences")
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table",
              show_default=True)
@click.pass_obj
def silence_list(obj: Ctx, show_all: bool, fmt: str) -> None:
    """List the active and pending silences (with --all, the expired ones too)."""
    from sqlmodel import Session

    from listener.storage import store
    now = datetime.now(UTC)
    with Session(obj.engine()) as s:
        rows = [silence_record(x, now)
                for x in store.silences(s, ending_after=None if show_all else now)]
    if fmt == "jsonl":
        for r in rows:
            click.echo(json.dumps(r, ensure_ascii=False))
        return
    click.echo(table(rows, ["id", "state", "matchers", "starts_at", "ends_at", "created_by",
                            "comment"]))


def silence_record(s, now: datetime) -> dict:
    from alerts.matchers import Matcher
    state = "pending" if now < s.starts_at else "active" if now < s.ends_at else "expired"
    return {"id": s.id, "state": state,
            "matchers": " ".join(str(Matcher(**m)) for m in s.matchers),
            "starts_at": s.starts_at.isoformat(timespec="seconds"),
            "ends_at": s.ends_at.isoformat(timespec="seconds"),
            "created_by": s.created_by, "comment": s.comment}


@silence_group.command("expire")
@click.argument("silence_id", type=int)
@click.pass_obj
def silence_expire(obj: Ctx, silence_id: int) -> None:
    """End silence ID now."""
    from sqlmodel import Session

    from listener.storage import store
    now = datetime.now(UTC)
    with Session(obj.engine()) as s:
        silence = store.expire_silence(s, silence_id=silence_id, now=now)
        if silence is None:
            raise ListenerError(f"no silence #{silence_id}; see `listener silence list --all`")
        s.commit()
        click.echo(f"silence #{silence_id} expired at {silence.ends_at:%Y-%m-%d %H:%M} UTC")
