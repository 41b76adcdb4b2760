"""Alembic's environment for the listener's schema. Run only through storage.revision, which
hands over an open connection in config.attributes["connection"] (no alembic.ini, no URL)."""

from alembic import context
from sqlmodel import SQLModel

from listener.storage import models  # noqa: F401  (registers the tables)

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("the listener's migrations run through `listener db upgrade`")

context.configure(connection=connection, target_metadata=SQLModel.metadata,
                  render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
