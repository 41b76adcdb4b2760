"""One outbox: the notifications (alert messages) and posts (SLA reminders, digests) tables become
the table `outbox`, every row moved.

What the message JSON carried besides Slack's text and blocks becomes columns: message["update"]
(the first message as it should read, for chat.update) -> first_update, message["chart"] -> chart;
and a later notification points at its incident's first message (first_id) instead of the notify
step looking it up. Notifications keep their ids; posts follow them (id + the largest
notification id), so the delivery order of the old two loops (alerts, then posts) is kept.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COMMON = ("kind", "dedup_key", "channel", "status", "attempts", "next_attempt_at", "last_error",
          "delivered_to", "slack_ts", "slack_channel", "created_at", "sent_at")


def _table(name: str, *extra: sa.Column) -> sa.TableClause:
    return sa.table(
        name, sa.column("id", sa.Integer), sa.column("kind", sa.String),
        sa.column("dedup_key", sa.String), sa.column("channel", sa.String),
        sa.column("message", sa.JSON), sa.column("status", sa.String),
        sa.column("attempts", sa.Integer), sa.column("next_attempt_at", sa.DateTime),
        sa.column("last_error", sa.String), sa.column("delivered_to", sa.String),
        sa.column("slack_ts", sa.String), sa.column("slack_channel", sa.String),
        sa.column("created_at", sa.DateTime), sa.column("sent_at", sa.DateTime), *extra)


NOTIFICATIONS = _table("notifications", sa.column("incident_id", sa.Integer),
                       sa.column("thread_ts", sa.String))
POSTS = _table("posts", sa.column("mention_id", sa.Integer))
OUTBOX = _table("outbox", sa.column("incident_id", sa.Integer),
                sa.column("mention_id", sa.Integer), sa.column("first_id", sa.Integer),
                sa.column("first_update", sa.JSON), sa.column("chart", sa.JSON),
                sa.column("thread_ts", sa.String))


def _message_columns() -> list[sa.Column]:
    """What every outbox row has, in this revision and the one before."""
    return [
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("dedup_key", sa.String(length=256), nullable=False),
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
    ]


def _create(table: str, *columns: sa.Column | sa.Constraint, indexed: tuple[str, ...]) -> None:
    op.create_table(table, sa.Column("id", sa.Integer(), nullable=False), *_message_columns(),
                    *columns, sa.PrimaryKeyConstraint("id"), sa.UniqueConstraint("dedup_key"))
    for column in indexed:
        op.create_index(f"ix_{table}_{column}", table, [column])


def _create_outbox() -> None:
    _create("outbox",
            sa.Column("incident_id", sa.Integer(), nullable=True),
            sa.Column("mention_id", sa.Integer(), nullable=True),
            sa.Column("first_id", sa.Integer(), nullable=True),
            sa.Column("first_update", sa.JSON(), nullable=True),
            sa.Column("chart", sa.JSON(), nullable=True),
            sa.Column("thread_ts", sa.String(), nullable=True),
            sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
            sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"]),
            sa.ForeignKeyConstraint(["first_id"], ["outbox.id"]),
            indexed=("incident_id", "mention_id", "status"))


def _reset_sequence(table: str) -> None:
    """PostgreSQL hands out ids from a sequence: start it after the ids written by hand."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"))


def _rows(table: sa.TableClause) -> list:
    if not sa.inspect(op.get_bind()).has_table(table.name):
        return []
    return op.get_bind().execute(sa.select(table).order_by(table.c.id)).all()


def upgrade() -> None:
    """Looks first, as every step does: a database adopted from models of this revision or
    later already has the outbox and neither old table."""
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table("outbox"):
        _create_outbox()
    notifications = _rows(NOTIFICATIONS)
    firsts: dict[int, int] = {}
    for n in notifications:
        if n.kind == "first":
            firsts.setdefault(n.incident_id, n.id)
    rows = []
    for n in notifications:
        message = dict(n.message or {})
        update, chart = message.pop("update", None), message.pop("chart", None)
        rows.append({**{c: getattr(n, c) for c in COMMON}, "id": n.id,
                     "incident_id": n.incident_id, "mention_id": None, "message": message,
                     "first_id": firsts.get(n.incident_id) if n.kind != "first" else None,
                     "first_update": update, "chart": chart, "thread_ts": n.thread_ts})
    offset = max((n.id for n in notifications), default=0)
    for p in _rows(POSTS):
        rows.append({**{c: getattr(p, c) for c in COMMON}, "id": p.id + offset,
                     "incident_id": None, "mention_id": p.mention_id, "message": p.message,
                     "first_id": None, "first_update": None, "chart": None, "thread_ts": None})
    # first messages before the replies that point at them (ids keep the order otherwise)
    rows.sort(key=lambda r: (r["first_id"] is not None, r["id"]))
    if rows:
        op.bulk_insert(OUTBOX, rows)
    _reset_sequence("outbox")
    for table in ("notifications", "posts"):
        if inspector.has_table(table):
            op.drop_table(table)


def downgrade() -> None:
    bind = op.get_bind()
    _create("notifications",
            sa.Column("incident_id", sa.Integer(), nullable=False),
            sa.Column("thread_ts", sa.String(), nullable=True),
            sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
            indexed=("incident_id", "status"))
    _create("posts",
            sa.Column("mention_id", sa.Integer(), nullable=True),
            sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"]),
            indexed=("mention_id", "status"))
    notifications, posts = [], []
    for r in bind.execute(sa.select(OUTBOX).order_by(OUTBOX.c.id)).all():
        common = {c: getattr(r, c) for c in COMMON}
        if r.incident_id is None:
            posts.append({**common, "id": r.id, "mention_id": r.mention_id,
                          "message": r.message})
            continue
        message = dict(r.message or {})
        if r.first_update is not None:
            message["update"] = r.first_update
        if r.chart is not None:
            message["chart"] = r.chart
        notifications.append({**common, "id": r.id, "incident_id": r.incident_id,
                              "message": message, "thread_ts": r.thread_ts})
    if notifications:
        op.bulk_insert(NOTIFICATIONS, notifications)
    if posts:
        op.bulk_insert(POSTS, posts)
    _reset_sequence("notifications")
    _reset_sequence("posts")
    op.drop_table("outbox")
