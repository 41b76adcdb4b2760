"""Engine creation: SQLite (WAL, busy timeout) by default, any SQLAlchemy URL otherwise."""

from __future__ import annotations

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, create_engine

from listener import models  # noqa: F401  (registers the tables)


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


# Columns added after a release: (table, column, SQL type). create_all adds tables, not columns.
ADDED_COLUMNS = [("notifications", "slack_channel", "VARCHAR(32)"),
                 ("incidents", "resolved_by", "VARCHAR(128)")]


def create_tables(engine: Engine) -> None:
    SQLModel.metadata.create_all(engine)
    have = inspect(engine)
    for table, column, sql_type in ADDED_COLUMNS:
        if column not in {c["name"] for c in have.get_columns(table)}:
            with engine.begin() as conn:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}"))
