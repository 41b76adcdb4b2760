"""`listener mentions`: the stored mentions with their labels, as a table or JSON lines."""

from __future__ import annotations

import json

import click

from listener.cli.context import Ctx
from listener.cli.tables import table


@click.command()
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
    click.echo(table(rows, ["created_at", "source", "author", "sentiment", "topics", "text"]))
