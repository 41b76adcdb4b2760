"""The database schema's version, kept by Alembic (revisions in listener/migrations/versions).

`ensure_schema` is what start-up runs (through `listener.storage.db.create_tables`):

- an empty database gets today's tables in one go (create_all) and is stamped head;
- a database of a release before migrations (our tables, no alembic_version) is adopted: the
  baseline revision keeps what exists and adds what is missing, later revisions likewise;
- a versioned database is upgraded to head (nothing runs when it already is at head);
- a database at a revision this code does not know (a newer release migrated it) is refused with
  a ListenerError, untouched.

Everything runs in one transaction; on PostgreSQL an advisory lock keeps two processes starting
at once (daemon and web) from migrating the same database twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from listener.errors import ListenerError
from listener.storage import models  # noqa: F401  (registers the tables)

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"
_PG_LOCK = 0x6C697374   # pg_advisory_xact_lock key of schema changes ("list")


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's config without an alembic.ini: the package's own migrations, and the
    connection env.py runs on."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@cache
def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    return scripts().get_current_head()


@dataclass(frozen=True)
class SchemaState:
    revision: str | None      # None: no alembic_version
    has_tables: bool          # any of the listener's tables exists
    head: str

    @property
    def known(self) -> bool:
        if self.revision is None:
            return True
        try:
            return scripts().get_revision(self.revision) is not None
        except CommandError:
            return False

    @property
    def up_to_date(self) -> bool:
        return self.revision == self.head

    def describe(self) -> str:
        if self.revision is None and not self.has_tables:
            return f"empty database (head is {self.head}): `listener db upgrade` creates it"
        if self.revision is None:
            return (f"made by a release before migrations, not versioned (head is {self.head}): "
                    "`listener db upgrade` adopts it")
        if not self.known:
            return f"{self.revision}: unknown to this listener (head {self.head}): {_NEWER}"
        if self.up_to_date:
            return f"{self.revision} (head): up to date"
        return f"{self.revision}: behind head {self.head}: run `listener db upgrade`"


_NEWER = "a newer release migrated this database; upgrade the listener"


def state(conn: Connection) -> SchemaState:
    tables = set(inspect(conn).get_table_names())
    revision = None
    if VERSION_TABLE in tables:
        revision = MigrationContext.configure(conn).get_current_revision()
    ours = set(SQLModel.metadata.tables)
    return SchemaState(revision, bool(tables & ours), head())


def schema_state(engine: Engine) -> SchemaState:
    with engine.connect() as conn:
        return state(conn)


def ensure_schema(engine: Engine) -> tuple[SchemaState, SchemaState]:
    """Bring the database to head (see the module docstring); the states before and after."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
        before = state(conn)
        if not before.known:
            raise ListenerError(f"the database is at schema revision {before.revision}, which "
                                f"this listener does not know (its newest is {before.head}): "
                                f"{_NEWER}")
        if before.up_to_date:
            return before, before
        cfg = alembic_config(conn)
        if before.revision is None and not before.has_tables:
            SQLModel.metadata.create_all(conn)
            command.stamp(cfg, "head")
        else:
            if before.revision is None:
                log.info("adopting a database made before migrations into revision %s",
                         before.head)
            else:
                log.info("upgrading the database schema from %s to %s", before.revision,
                         before.head)
            command.upgrade(cfg, "head")
        return before, state(conn)
