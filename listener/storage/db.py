"""Engine creation: SQLite (WAL, busy timeout) by default, any SQLAlchemy URL otherwise; and
`create_tables`, which every entry point runs to bring the schema to this release's."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import create_engine

from listener.storage import models  # noqa: F401  (registers the tables)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    kwargs = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    engine = create_engine(url, echo=echo, **kwargs)
    if url.startswith("sqlite"):
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
    return engine


def create_tables(engine: Engine) -> None:
    """Bring the store's schema to this release's (storage.revision): create an empty database,
    migrate an older one with its rows kept, refuse one a newer release migrated."""
    from listener.storage.revision import ensure_schema
    ensure_schema(engine)
