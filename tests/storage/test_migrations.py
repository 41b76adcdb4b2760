"""Alembic migrations (storage/migrations, storage.revision) on SQLite and PostgreSQL: an old
database keeps its rows through an upgrade, the migrated schema equals the models, databases
of the releases before migrations are adopted, a newer database is refused."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import inspect, text
from sqlmodel import Session, SQLModel, select

from listener.errors import ListenerError
from listener.storage.db import create_tables, make_engine
from listener.storage.models import Incident, Label, Mention, OutboxMessage
from listener.storage.revision import alembic_config, head, schema_state
from tests.conftest import BACKENDS, CONFIG, _pg_database

T = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)
TRIAGE_EXPRESSION_INDEXES = {"ix_triage_order", "ix_triage_open_order", "ix_triage_status_order"}


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    """The URL of an empty database: a SQLite file, or a PostgreSQL database of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    gen = _pg_database()
    yield next(gen)
    gen.close()


@pytest.fixture()
def engine(url):
    eng = make_engine(url)
    yield eng
    eng.dispose()


def upgrade_to(engine, revision: str) -> None:
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def revision_of(engine) -> str | None:
    return schema_state(engine).revision


def columns(engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def insert_baseline_rows(engine) -> None:
    """A mention, its label, an incident and its notification, in the 0001 schema's columns."""
    ts = T.replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO mentions (id, source, external_id, url, author, author_reach, text, "
            "created_at, created_epoch, collected_at, brand, raw, repost) VALUES (1, 'reddit', "
            "'t3_1', 'https://example.com/1', 'ana', 10, 'the lamp caught fire', :ts, :ep, :ts, "
            "'Lumi Toys', '{}', false)"), {"ts": ts, "ep": int(T.timestamp())})
        conn.execute(text(
            "INSERT INTO labels (mention_id, sentiment, sentiment_score, topics, complaint, "
            "model_version, classified_at) VALUES (1, 'negative', 0.9, "
            "'{\"safety\": {\"score\": 0.8}}', 0.7, 'm1', :ts)"), {"ts": ts})
        conn.execute(text(
            "INSERT INTO incidents (id, key, rule, title, status, level, peak_level, opened_at, "
            "last_signal_at, observed, expected, evidence) VALUES (1, 'safety|Lumi Toys', "
            "'safety', 'Safety reports', 'open', 5, 5, :ts, :ts, 12, 2, '{}')"), {"ts": ts})
        conn.execute(text(
            "INSERT INTO notifications (id, incident_id, dedup_key, kind, channel, message, "
            "status, attempts, next_attempt_at, slack_channel, created_at) VALUES (1, 1, "
            "'1:first', 'first', '#alerts', '{\"text\": \"fire\"}', 'sent', 1, :ts, 'C123', "
            ":ts)"), {"ts": ts})


def assert_rows_survived(engine) -> None:
    with Session(engine) as s:
        mention, label = s.get(Mention, 1), s.get(Label, 1)
        incident, notification = s.get(Incident, 1), s.get(OutboxMessage, 1)
    assert mention.text == "the lamp caught fire" and mention.created_at == T
    assert label.sentiment == "negative" and label.topics == {"safety": {"score": 0.8}}
    assert incident.title == "Safety reports" and incident.resolved_by is None
    assert notification.message == {"text": "fire"} and notification.slack_channel == "C123"


@pytest.mark.parametrize("versioned", [True, False], ids=["at-0001", "unversioned-d4a684f"])
def test_upgrade_from_the_baseline_keeps_the_rows(engine, versioned):
    upgrade_to(engine, "0001")
    assert "posts" not in inspect(engine).get_table_names()
    assert "resolved_by" not in columns(engine, "incidents")
    insert_baseline_rows(engine)
    if not versioned:       # the d4a684f release made this database: no alembic_version
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE alembic_version"))
    create_tables(engine)
    assert revision_of(engine) == head()
    assert_rows_survived(engine)
    assert "resolved_by" in columns(engine, "incidents")
    assert {"ix_outbox_status", "ix_outbox_mention_id", "ix_outbox_incident_id"} <= {
        i["name"] for i in inspect(engine).get_indexes("outbox")}
    assert not {"notifications", "posts"} & set(inspect(engine).get_table_names())
    with Session(engine) as s:      # the new column and table work
        incident = s.get(Incident, 1)
        incident.resolved_by = "ana"
        s.add(incident)
        s.commit()
        assert s.get(Incident, 1).resolved_by == "ana"


def insert_0002_outbox_rows(engine) -> None:
    """What the two outboxes of 0002 held: an incident's first message with its chart, an
    escalation carrying the first message's update, an acknowledgement still pending; an SLA
    reminder and a digest."""
    ts = T.replace(tzinfo=None)
    rows = [
        ("notifications", 1, "'first'", "'1:first'",
         '{"text": "SEV 7", "chart": {"recent": [1, 3]}}', "'sent'"),
        ("notifications", 2, "'escalated'", "'1:escalated'",
         '{"text": "SEV 9", "update": {"text": "SEV 9 now"}}', "'sent'"),
        ("notifications", 3, "'acknowledged'", "'1:ack'",
         '{"text": "ack", "update": {"text": "a"}}', "'pending'"),
        ("posts", 1, "'sla_reminder'", "'sla:1'", '{"text": "waiting 2h"}', "'sent'"),
        ("posts", 2, "'digest'", "'digest:2026-10-30'", '{"text": "digest"}', "'pending'"),
    ]
    with engine.begin() as conn:
        for table, rid, kind, key, message, status in rows:
            owner = "incident_id" if table == "notifications" else "mention_id"
            conn.execute(text(
                f"INSERT INTO {table} (id, {owner}, dedup_key, kind, channel, message, status, "
                f"attempts, next_attempt_at, slack_ts, created_at) VALUES ({rid}, 1, {key}, "
                f"{kind}, '#crisis', :message, {status}, 1, :ts, '17.{rid}', :ts)"),
                {"message": message, "ts": ts})


def test_0003_moves_both_outboxes_into_one_table_with_explicit_columns(engine):
    upgrade_to(engine, "0002")
    insert_baseline_rows(engine)        # the mention and incident the outbox rows point at
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM notifications"))
    insert_0002_outbox_rows(engine)
    upgrade_to(engine, "0003")
    with Session(engine) as s:
        rows = {r.id: r for r in s.exec(select(OutboxMessage))}
    assert sorted(rows) == [1, 2, 3, 4, 5]          # posts follow the notifications
    first, escalated, ack, reminder, digest = (rows[i] for i in range(1, 6))
    assert (first.kind, first.message, first.chart, first.first_id) == (
        "first", {"text": "SEV 7"}, {"recent": [1, 3]}, None)
    assert (escalated.message, escalated.first_update, escalated.first_id) == (
        {"text": "SEV 9"}, {"text": "SEV 9 now"}, 1)
    assert (ack.status, ack.first_id, ack.first_update) == ("pending", 1, {"text": "a"})
    assert (reminder.kind, reminder.mention_id, reminder.incident_id, reminder.dedup_key) == (
        "sla_reminder", 1, None, "sla:1")
    assert (digest.status, digest.slack_ts, digest.message) == ("pending", "17.2",
                                                                {"text": "digest"})
    with Session(engine) as s:          # new rows take ids after the moved ones
        s.add(OutboxMessage(kind="digest", dedup_key="digest:next", channel="#c",
                            message={}, next_attempt_at=T, created_at=T))
        s.commit()
        assert max(s.exec(select(OutboxMessage.id))) == 6
    with engine.begin() as conn:       # and back: 0002's two tables, every row where it was
        command.downgrade(alembic_config(conn), "0002")
        back = conn.execute(text("SELECT id, kind, message FROM notifications ORDER BY id")).all()
        posts = conn.execute(text("SELECT id, kind FROM posts ORDER BY id")).all()
    assert [(i, k) for i, k, _ in back] == [(1, "first"), (2, "escalated"), (3, "acknowledged")]
    message = back[0][2]
    assert (json.loads(message) if isinstance(message, str) else message) == {
        "text": "SEV 7", "chart": {"recent": [1, 3]}}
    assert [(i, k) for i, k in posts] == [(4, "sla_reminder"), (5, "digest"), (6, "digest")]


def differences(engine) -> list:
    """Alembic's autogenerate diff between the database and the models, less dialect noise:
    SQLite's reflection cannot see the expressions of the triage queue's `priority DESC`
    indexes, so autogenerate (with a warning) proposes dropping and re-adding them there."""
    with engine.connect() as conn, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, SQLModel.metadata)
    if engine.dialect.name == "sqlite":
        diff = [d for d in diff if not (isinstance(d, tuple) and d[0] in {"add_index",
                "remove_index"} and d[1].name in TRIAGE_EXPRESSION_INDEXES)]
    return diff


@pytest.mark.parametrize("start", ["empty", "0001", "0002-by-create_all"])
def test_migrated_schema_equals_the_models(engine, start):
    if start == "0001":
        upgrade_to(engine, "0001")
        assert differences(engine) != []    # the guard sees what 0002 adds
    elif start == "0002-by-create_all":   # what create_tables does with an empty database
        SQLModel.metadata.create_all(engine)
    if start != "empty":
        create_tables(engine)
    else:
        upgrade_to(engine, "head")      # every revision from nothing
    assert revision_of(engine) == head()
    assert differences(engine) == []


def test_a_database_without_alembic_version_is_stamped_and_up_to_date(engine):
    SQLModel.metadata.create_all(engine)        # made by the last release before migrations
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (username, password_hash, role, created_at) "
                          "VALUES ('ana', 'x', 'admin', :ts)"), {"ts": T.replace(tzinfo=None)})
    assert revision_of(engine) is None
    create_tables(engine)
    found = schema_state(engine)
    assert found.revision == head() and found.up_to_date
    with engine.connect() as conn:
        assert conn.execute(text("SELECT username FROM users")).scalar_one() == "ana"
    create_tables(engine)       # again: nothing to do
    assert revision_of(engine) == head()


def test_a_newer_database_is_refused_untouched(engine):
    create_tables(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_future'"))
    before = set(inspect(engine).get_table_names())
    with pytest.raises(ListenerError, match=r"0099_future.*upgrade the listener"):
        create_tables(engine)
    assert revision_of(engine) == "0099_future"
    assert set(inspect(engine).get_table_names()) == before


def listener_db(url: str, *args: str):
    from listener.cli.main import main
    return CliRunner().invoke(main, ["--config", str(CONFIG), "--database-url", url, "db",
                                     *args])


def test_db_current_and_upgrade_commands(url, engine):
    res = listener_db(url, "current")
    assert res.exit_code == 1 and "empty database" in res.output
    upgrade_to(engine, "0001")
    res = listener_db(url, "current")
    assert res.exit_code == 1
    assert res.output == f"0001: behind head {head()}: run `listener db upgrade`\n"
    res = listener_db(url, "upgrade")
    assert res.exit_code == 0, res.output
    assert res.output == f"upgraded from 0001: {head()} (head): up to date\n"
    res = listener_db(url, "current")
    assert res.exit_code == 0 and res.output == f"{head()} (head): up to date\n"
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    res = listener_db(url, "current")
    assert res.exit_code == 1 and "ffff: unknown to this listener" in res.output
    res = listener_db(url, "upgrade")
    assert res.exit_code == 1 and "upgrade the listener" in res.output
