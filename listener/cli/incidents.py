"""`listener incidents`: the incidents, newest first, with their notifications, as a table or
JSON lines."""

from __future__ import annotations

import json

import click

from listener.cli.context import Ctx
from listener.cli.tables import table


@click.command()
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table",
              show_default=True)
@click.pass_obj
def incidents(obj: Ctx, fmt: str) -> None:
    """List incidents, newest first, with their notifications."""
    from sqlmodel import Session

    from listener.incidents.reading import incident_records
    with Session(obj.engine()) as s:
        rows = incident_records(s)
    if fmt == "jsonl":
        for r in rows:
            click.echo(json.dumps(r, ensure_ascii=False))
        return
    click.echo(table(rows, ["id", "status", "level", "title", "opened_at", "observed",
                            "notifications"]))
