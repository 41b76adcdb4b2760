"""Everything since the baseline: incidents.resolved_by and the posts outbox (SLA reminders,
digests) with its indexes.

Each step looks first: databases made by the releases before migrations already have some of
this (their start-up created new tables and added listed columns), and are stamped 0001 when
they are first adopted (storage.revision). notifications.slack_channel is part of the baseline,
but a database older than it got the column only from its own start-up; added here if missing
(and when the table is there at all: a database made from later models has the outbox instead).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _columns(inspector, table: str) -> set[str]:
    return {c["name"] for c in inspector.get_columns(table)}


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if "resolved_by" not in _columns(inspector, "incidents"):
        with op.batch_alter_table("incidents") as batch_op:
            batch_op.add_column(sa.Column("resolved_by", sa.String(length=128), nullable=True))
    if inspector.has_table("notifications") and \
            "slack_channel" not in _columns(inspector, "notifications"):
        with op.batch_alter_table("notifications") as batch_op:
            batch_op.add_column(sa.Column("slack_channel", sa.String(length=32), nullable=True))
    have_indexes: set[str] = set()
    if inspector.has_table("posts"):
        have_indexes = {i["name"] for i in inspector.get_indexes("posts")}
    else:
        op.create_table(
            "posts",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("kind", sa.String(length=16), nullable=False),
            sa.Column("dedup_key", sa.String(length=256), nullable=False),
            sa.Column("mention_id", sa.Integer(), nullable=True),
            sa.Column("channel", sa.String(length=128), nullable=False),
            sa.Column("message", sa.JSON(), nullable=False),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
            sa.Column("last_error", sa.String(), nullable=True),
            sa.Column("delivered_to", sa.String(), nullable=True),
            sa.Column("slack_ts", sa.String(), nullable=True),
            sa.Column("slack_channel", sa.String(length=32), nullable=True),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("sent_at", sa.DateTime(), nullable=True),
            sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"]),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("dedup_key"),
        )
    for name, column in (("ix_posts_mention_id", "mention_id"), ("ix_posts_status", "status")):
        if name not in have_indexes:
            op.create_index(name, "posts", [column])


def downgrade() -> None:
    op.drop_table("posts")
    with op.batch_alter_table("incidents") as batch_op:
        batch_op.drop_column("resolved_by")
