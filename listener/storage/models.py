"""Database tables (SQLModel). Timestamps are timezone-aware UTC in Python and stored as UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Text, TypeDecorator, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC (SQLite keeps no timezone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware UTC time")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=UTC) if value is not None else None


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(**kw) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class Mention(SQLModel, table=True):
    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_mention_source_external_id"),
        Index("ix_mentions_brand_epoch", "brand", "created_epoch"),
        Index("ix_mentions_fingerprint_epoch", "fingerprint", "created_epoch"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=32)
    external_id: str = Field(max_length=128)
    url: str = ""
    author: str = Field(default="", max_length=256)
    author_reach: int = 0
    text: str = Field(sa_column=Column(Text, nullable=False))
    lang: str | None = Field(default=None, max_length=16)
    created_at: datetime = _ts()
    created_epoch: int = Field(index=True, description="created_at in Unix seconds, for bucketing")
    collected_at: datetime = _ts()
    brand: str = Field(max_length=128)
    product: str | None = Field(default=None, max_length=128)
    raw: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # near-duplicates (storage.dedup): the id of the cluster's first mention, its own for a first
    cluster_id: int | None = Field(default=None, index=True)
    fingerprint: str | None = Field(default=None, max_length=40,
                                    description="digest of the normalised text")
    repost: bool = Field(False, description="a retweet or quote of someone else's post")


class MentionBand(SQLModel, table=True):
    """MinHash LSH bands of a mention's text: mentions sharing a band are near-duplicate
    candidates (listener.storage.dedup)."""

    __tablename__ = "mention_bands"
    __table_args__ = (Index("ix_mention_bands_key_epoch", "key", "created_epoch"),)

    mention_id: int = Field(foreign_key="mentions.id", primary_key=True)
    band: int = Field(primary_key=True)
    key: str = Field(max_length=40, description="band number and the digest of its rows")
    created_epoch: int


class Label(SQLModel, table=True):
    __tablename__ = "labels"

    mention_id: int = Field(foreign_key="mentions.id", primary_key=True)
    sentiment: str = Field(max_length=16, index=True)
    sentiment_score: float
    topics: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False),
                         description="topic -> {score, evidence}")
    complaint: float | None = Field(default=None, description="probability of a complaint")
    language: str | None = Field(default=None, max_length=16, description="detected language")
    model_version: str = Field(max_length=256)
    classified_at: datetime = _ts()


class MentionTopic(SQLModel, table=True):
    """One row per (mention, topic) so detection counts topics with SQL."""

    __tablename__ = "mention_topics"

    mention_id: int = Field(foreign_key="mentions.id", primary_key=True)
    topic: str = Field(max_length=64, primary_key=True, index=True)
    score: float
    created_epoch: int = Field(index=True)


class SourceState(SQLModel, table=True):
    __tablename__ = "source_states"

    name: str = Field(primary_key=True, max_length=64)
    cursor: dict | None = Field(default=None, sa_column=Column(JSON))
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    dropped: int = Field(0, description="fetched but matching no brand query")
    malformed: int = 0
    exhausted: bool = False
    last_error: str | None = None
    updated_at: datetime = _ts()
    # health (listener.pipeline.health)
    runs: int = 0
    last_run_at: datetime | None = _ts(default=None)
    last_success_at: datetime | None = _ts(default=None)
    newest_mention_at: datetime | None = _ts(default=None, description="for the lag")
    errors: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, default=dict),
                         description="error kind -> count")
    rate_limit_waits: int = 0
    last_run_mentions: int = 0
    mentions_per_run: float = Field(0.0, description="moving average of mentions fetched per run")
    consecutive_failures: int = 0


class Incident(SQLModel, table=True):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_key_status", "key", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=512, description="rule + group_by labels")
    rule: str = Field(max_length=64)
    brand: str | None = None
    product: str | None = None
    topic: str | None = None
    title: str
    status: str = Field(default="open", max_length=16)   # open | resolved
    level: int = Field(description="severity 1-10")
    peak_level: int
    opened_at: datetime = _ts()
    escalated_at: datetime | None = _ts(default=None)
    last_signal_at: datetime = _ts()
    last_notified_at: datetime | None = _ts(default=None)
    resolved_at: datetime | None = _ts(default=None)
    resolved_by: str | None = Field(default=None, max_length=128,
                                    description="who resolved it by hand; None: resolved by quiet")
    observed: float
    expected: float
    evidence: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    acknowledged_by: str | None = Field(default=None, max_length=128)
    acknowledged_at: datetime | None = _ts(default=None)


class OutboxMessage(SQLModel, table=True):
    """The outbox: every message for Slack (alert notifications, SLA reminders, daily digests),
    delivered by the notify step oldest first. A row is marked sent only after Slack answered
    ok; the unique dedup_key is the record that it went out once, across restarts.

    An incident's later messages are replies in its first message's thread (`first_id`); each
    can carry the first message as it should now read (`first_update`, written over it with
    chat.update once the reply is out), and a first message the chart to upload into its thread
    (`chart`)."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16, description=(
        "first | grouped | escalated | repeat | resolved | acknowledged | sla_reminder | digest"))
    dedup_key: str = Field(max_length=256, unique=True)
    incident_id: int | None = Field(default=None, foreign_key="incidents.id", index=True)
    mention_id: int | None = Field(default=None, foreign_key="mentions.id", index=True,
                                   description="the mention an SLA reminder is about")
    channel: str = Field(max_length=128)
    message: dict = Field(sa_column=Column(JSON, nullable=False), description="text + blocks")
    first_id: int | None = Field(default=None, foreign_key="outbox.id", description=(
        "the incident's first message: this one is a reply in its thread"))
    first_update: dict | None = Field(default=None, sa_column=Column(JSON), description=(
        "the first message in its current state, for chat.update once this one is out"))
    chart: dict | None = Field(default=None, sa_column=Column(JSON), description=(
        "the chart (alerts/chart.py spec) to upload into this message's thread once it is out"))
    status: str = Field(default="pending", max_length=16, index=True)  # pending|sent|failed
    attempts: int = 0
    next_attempt_at: datetime = _ts()
    last_error: str | None = None
    delivered_to: str | None = None
    slack_ts: str | None = None
    slack_channel: str | None = Field(default=None, max_length=32,
                                      description="the channel id Slack answered (chat.update)")
    thread_ts: str | None = None
    created_at: datetime = _ts()
    sent_at: datetime | None = _ts(default=None)


class Decision(SQLModel, table=True):
    """Every send or skip the alert lifecycle took, with its reason."""

    __tablename__ = "decisions"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts()
    rule: str = Field(max_length=64)
    key: str = Field(max_length=512, index=True)
    incident_id: int | None = None
    action: str = Field(max_length=16)   # first|escalated|repeat|resolved|skip|inhibited
    code: str = Field(default="", max_length=64, description="stable name of the reason")
    reason: str


class Silence(SQLModel, table=True):
    """Mutes the notifications of incidents whose labels match, from starts_at to ends_at
    (alerts/silences.py decides). Expiring a silence sets ends_at to now."""

    __tablename__ = "silences"

    id: int | None = Field(default=None, primary_key=True)
    matchers: list = Field(sa_column=Column(JSON, nullable=False),
                           description="[{name, op, value}], op one of = != =~ !~")
    starts_at: datetime = _ts()
    ends_at: datetime = _ts(index=True)
    created_by: str = Field(default="", max_length=128)
    comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = _ts()


class User(SQLModel, table=True):
    """A web queue account. Agents triage; admins also manage users."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=256, description="argon2id")
    role: str = Field(default="agent", max_length=16)   # agent | admin
    created_at: datetime = _ts()


class ApiToken(SQLModel, table=True):
    """A JSON API token of a user. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _ts()


class Triage(SQLModel, table=True):
    """The queue's state of one mention. `priority`, `is_open` and the copied `created_epoch` are
    what the queue sorts by, so one index walk serves a page at any size."""

    __tablename__ = "triage"
    __table_args__ = (
        # the queue's order is (priority DESC, created_epoch, mention_id)
        Index("ix_triage_order", sql_text("priority DESC"), "created_epoch", "mention_id"),
        Index("ix_triage_open_order", "is_open", sql_text("priority DESC"), "created_epoch",
              "mention_id"),
        Index("ix_triage_status_order", "status", sql_text("priority DESC"), "created_epoch",
              "mention_id"),
        Index("ix_triage_unlabelled", "labelled", "mention_id"),
    )

    mention_id: int = Field(foreign_key="mentions.id", primary_key=True)
    # new | claimed | escalated (open) | responded | no_response | closed
    status: str = Field(default="new", max_length=16)
    is_open: bool = Field(default=True, description="status is new, claimed or escalated")
    priority: int = Field(default=0, description="urgency score, higher first")
    labelled: bool = Field(default=False, description="priority includes the mention's labels")
    created_epoch: int = Field(description="the mention's created_epoch, for the keyset")
    assignee: str | None = Field(default=None, max_length=64)
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    claimed_at: datetime | None = _ts(default=None)
    first_response_at: datetime | None = _ts(default=None)
    closed_at: datetime | None = _ts(default=None)
    updated_at: datetime | None = _ts(default=None)


class Correction(SQLModel, table=True):
    """A person's relabelling of a mention from the queue, kept for training the models again."""

    __tablename__ = "corrections"

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mentions.id", index=True)
    field: str = Field(max_length=16, description="sentiment | topic")
    old: str | None = Field(default=None, max_length=64,
                            description="the label before; for a topic, the topic removed")
    new: str | None = Field(default=None, max_length=64,
                            description="the label after; for a topic, the topic added")
    user: str = Field(max_length=64)
    at: datetime = _ts()


class ConfigLoad(SQLModel, table=True):
    """Every config load and reload of the daemon: when, which file and content, who, result."""

    __tablename__ = "config_loads"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts()
    path: str = Field(default="", max_length=1024)
    sha256: str = Field(default="", max_length=64)
    ok: bool
    who: str = Field(max_length=64, description="OS user at start, sighup or watch on reload")
    error: str | None = Field(default=None, sa_column=Column(Text))
    changes: str = Field(default="", sa_column=Column(Text, nullable=False, default=""),
                         description="sections changed; what waits for a restart")
