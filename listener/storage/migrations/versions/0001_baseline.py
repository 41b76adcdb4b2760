"""Baseline: the schema of the release at commit d4a684f (before incidents.resolved_by and the
posts table). Frozen: later model changes go into new revisions, never here.

A database made by a release before migrations (no alembic_version) is adopted by running this
revision on it: each table and index is created only when missing, so an existing one is kept
with its rows, and a missing one (a release older than d4a684f) gets its baseline form.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = ["config_loads", "decisions", "incidents", "mentions", "silences", "source_states",
          "users", "api_tokens", "corrections", "labels", "mention_bands", "mention_topics",
          "notifications", "triage"]


def _create_table(name: str, *elements) -> None:
    if not sa.inspect(op.get_bind()).has_table(name):
        op.create_table(name, *elements)


def _create_index(name: str, table: str, columns: list) -> None:
    if name not in {i["name"] for i in sa.inspect(op.get_bind()).get_indexes(table)}:
        op.create_index(name, table, columns)


def upgrade() -> None:
    _create_table('config_loads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('path', sa.String(length=1024), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.Column('who', sa.String(length=64), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('changes', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id')
    )
    _create_table('decisions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('rule', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=512), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=True),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('reason', sa.String(), nullable=False),
        sa.PrimaryKeyConstraint('id')
    )
    _create_index('ix_decisions_key', 'decisions', ['key'])
    _create_table('incidents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=512), nullable=False),
        sa.Column('rule', sa.String(length=64), nullable=False),
        sa.Column('brand', sa.String(), nullable=True),
        sa.Column('product', sa.String(), nullable=True),
        sa.Column('topic', sa.String(), nullable=True),
        sa.Column('title', sa.String(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('peak_level', sa.Integer(), nullable=False),
        sa.Column('opened_at', sa.DateTime(), nullable=False),
        sa.Column('escalated_at', sa.DateTime(), nullable=True),
        sa.Column('last_signal_at', sa.DateTime(), nullable=False),
        sa.Column('last_notified_at', sa.DateTime(), nullable=True),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
        sa.Column('observed', sa.Float(), nullable=False),
        sa.Column('expected', sa.Float(), nullable=False),
        sa.Column('evidence', sa.JSON(), nullable=False),
        sa.Column('acknowledged_by', sa.String(length=128), nullable=True),
        sa.Column('acknowledged_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id')
    )
    _create_index('ix_incidents_key_status', 'incidents', ['key', 'status'])
    _create_table('mentions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=32), nullable=False),
        sa.Column('external_id', sa.String(length=128), nullable=False),
        sa.Column('url', sa.String(), nullable=False),
        sa.Column('author', sa.String(length=256), nullable=False),
        sa.Column('author_reach', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('lang', sa.String(length=16), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_epoch', sa.Integer(), nullable=False),
        sa.Column('collected_at', sa.DateTime(), nullable=False),
        sa.Column('brand', sa.String(length=128), nullable=False),
        sa.Column('product', sa.String(length=128), nullable=True),
        sa.Column('raw', sa.JSON(), nullable=False),
        sa.Column('cluster_id', sa.Integer(), nullable=True),
        sa.Column('fingerprint', sa.String(length=40), nullable=True),
        sa.Column('repost', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('source', 'external_id', name='uq_mention_source_external_id')
    )
    _create_index('ix_mentions_brand_epoch', 'mentions', ['brand', 'created_epoch'])
    _create_index('ix_mentions_cluster_id', 'mentions', ['cluster_id'])
    _create_index('ix_mentions_created_epoch', 'mentions', ['created_epoch'])
    _create_index('ix_mentions_fingerprint_epoch', 'mentions', ['fingerprint', 'created_epoch'])
    _create_table('silences',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('matchers', sa.JSON(), nullable=False),
        sa.Column('starts_at', sa.DateTime(), nullable=False),
        sa.Column('ends_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=128), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id')
    )
    _create_index('ix_silences_ends_at', 'silences', ['ends_at'])
    _create_table('source_states',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('cursor', sa.JSON(), nullable=True),
        sa.Column('fetched', sa.Integer(), nullable=False),
        sa.Column('stored', sa.Integer(), nullable=False),
        sa.Column('duplicates', sa.Integer(), nullable=False),
        sa.Column('dropped', sa.Integer(), nullable=False),
        sa.Column('malformed', sa.Integer(), nullable=False),
        sa.Column('exhausted', sa.Boolean(), nullable=False),
        sa.Column('last_error', sa.String(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('runs', sa.Integer(), nullable=False),
        sa.Column('last_run_at', sa.DateTime(), nullable=True),
        sa.Column('last_success_at', sa.DateTime(), nullable=True),
        sa.Column('newest_mention_at', sa.DateTime(), nullable=True),
        sa.Column('errors', sa.JSON(), nullable=False),
        sa.Column('rate_limit_waits', sa.Integer(), nullable=False),
        sa.Column('last_run_mentions', sa.Integer(), nullable=False),
        sa.Column('mentions_per_run', sa.Float(), nullable=False),
        sa.Column('consecutive_failures', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('name')
    )
    _create_table('users',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('password_hash', sa.String(length=256), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('username')
    )
    _create_table('api_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash')
    )
    _create_index('ix_api_tokens_user_id', 'api_tokens', ['user_id'])
    _create_table('corrections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('mention_id', sa.Integer(), nullable=False),
        sa.Column('field', sa.String(length=16), nullable=False),
        sa.Column('old', sa.String(length=64), nullable=True),
        sa.Column('new', sa.String(length=64), nullable=True),
        sa.Column('user', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['mention_id'], ['mentions.id']),
        sa.PrimaryKeyConstraint('id')
    )
    _create_index('ix_corrections_mention_id', 'corrections', ['mention_id'])
    _create_table('labels',
        sa.Column('mention_id', sa.Integer(), nullable=False),
        sa.Column('sentiment', sa.String(length=16), nullable=False),
        sa.Column('sentiment_score', sa.Float(), nullable=False),
        sa.Column('topics', sa.JSON(), nullable=False),
        sa.Column('complaint', sa.Float(), nullable=True),
        sa.Column('language', sa.String(length=16), nullable=True),
        sa.Column('model_version', sa.String(length=256), nullable=False),
        sa.Column('classified_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['mention_id'], ['mentions.id']),
        sa.PrimaryKeyConstraint('mention_id')
    )
    _create_index('ix_labels_sentiment', 'labels', ['sentiment'])
    _create_table('mention_bands',
        sa.Column('mention_id', sa.Integer(), nullable=False),
        sa.Column('band', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('created_epoch', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['mention_id'], ['mentions.id']),
        sa.PrimaryKeyConstraint('mention_id', 'band')
    )
    _create_index('ix_mention_bands_key_epoch', 'mention_bands', ['key', 'created_epoch'])
    _create_table('mention_topics',
        sa.Column('mention_id', sa.Integer(), nullable=False),
        sa.Column('topic', sa.String(length=64), nullable=False),
        sa.Column('score', sa.Float(), nullable=False),
        sa.Column('created_epoch', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['mention_id'], ['mentions.id']),
        sa.PrimaryKeyConstraint('mention_id', 'topic')
    )
    _create_index('ix_mention_topics_created_epoch', 'mention_topics', ['created_epoch'])
    _create_index('ix_mention_topics_topic', 'mention_topics', ['topic'])
    _create_table('notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('dedup_key', sa.String(length=256), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('channel', sa.String(length=128), nullable=False),
        sa.Column('message', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('last_error', sa.String(), nullable=True),
        sa.Column('delivered_to', sa.String(), nullable=True),
        sa.Column('slack_ts', sa.String(), nullable=True),
        sa.Column('slack_channel', sa.String(length=32), nullable=True),
        sa.Column('thread_ts', sa.String(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('dedup_key')
    )
    _create_index('ix_notifications_incident_id', 'notifications', ['incident_id'])
    _create_index('ix_notifications_status', 'notifications', ['status'])
    _create_table('triage',
        sa.Column('mention_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('is_open', sa.Boolean(), nullable=False),
        sa.Column('priority', sa.Integer(), nullable=False),
        sa.Column('labelled', sa.Boolean(), nullable=False),
        sa.Column('created_epoch', sa.Integer(), nullable=False),
        sa.Column('assignee', sa.String(length=64), nullable=True),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('claimed_at', sa.DateTime(), nullable=True),
        sa.Column('first_response_at', sa.DateTime(), nullable=True),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['mention_id'], ['mentions.id']),
        sa.PrimaryKeyConstraint('mention_id')
    )
    _create_index('ix_triage_unlabelled', 'triage', ['labelled', 'mention_id'])
    # the queue's order is (priority DESC, created_epoch, mention_id)
    _create_index("ix_triage_order", "triage",
                  [sa.text("priority DESC"), "created_epoch", "mention_id"])
    _create_index("ix_triage_open_order", "triage",
                  ["is_open", sa.text("priority DESC"), "created_epoch", "mention_id"])
    _create_index("ix_triage_status_order", "triage",
                  ["status", sa.text("priority DESC"), "created_epoch", "mention_id"])


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
