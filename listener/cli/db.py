"""`listener db`: the store's schema version (storage.revision).
Registered in `cli.main`.

    listener db current    the revision the database is at, and whether it is up to date
    listener db upgrade    migrate it to this release's schema (start-up does the same)
"""

from __future__ import annotations

import click

from listener.cli.context import Ctx


def _engine(obj: Ctx):
    """An engine that leaves the schema alone (obj.engine() would upgrade it)."""
    from listener.config import database_url
    from listener.storage.db import make_engine
    return make_engine(obj.database_url or database_url(obj.config, obj.config_dir))


@click.group("db")
def db_group() -> None:
    """The database schema: its revision, and upgrading it after installing a new release."""


@db_group.command("current")
@click.pass_obj
def db_current(obj: Ctx) -> None:
    """Print the database's schema revision and whether it is up to date (exit 1 when not)."""
    from listener.storage.revision import schema_state
    engine = _engine(obj)
    try:
        found = schema_state(engine)
    finally:
        engine.dispose()
    click.echo(found.describe())
    if not found.up_to_date:
        raise SystemExit(1)


@db_group.command("upgrade")
@click.pass_obj
def db_upgrade(obj: Ctx) -> None:
    """Migrate the database to this release's schema, keeping its rows."""
    from listener.storage.revision import ensure_schema
    engine = _engine(obj)
    try:
        before, after = ensure_schema(engine)
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"already up to date: {after.describe()}")
    else:
        click.echo(f"upgraded from {before.revision or 'unversioned'}: {after.describe()}")
