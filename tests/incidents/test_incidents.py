"""incidents.actions and .reading and queue.dashboard without the web app, on SQLite and
PostgreSQL: when a manual resolution posts to Slack and what the decision log says when it does
not; the linked mentions by cursor, the timeline and the dashboard's aggregates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from listener.config import load_config_file
from listener.errors import Conflict, NotFound, QueueError
from listener.incidents import actions, reading, silences
from listener.queue import dashboard
from listener.storage.models import Decision, Incident, Label, Mention, MentionTopic, OutboxMessage
from tests.conftest import CONFIG

NOW = datetime(2026, 10, 30, 16, 30, tzinfo=UTC)


@pytest.fixture()
def session(engine):
    with Session(engine) as s:
        yield s


def incident(session, *, rule="safety-reports", notified=True) -> Incident:
    row = Incident(key=f"{rule}|brand=Lumi Toys|topic=product_safety", rule=rule,
                   brand="Lumi Toys", topic="product_safety", title="Lumi Toys · product safety",
                   level=7, peak_level=7, opened_at=NOW - timedelta(hours=1),
                   last_signal_at=NOW, last_notified_at=NOW - timedelta(hours=1) if notified
                   else None, observed=5, expected=0.1,
                   evidence={"observed": 5, "expected": 0.1, "window": "3h", "examples": []})
    session.add(row)
    session.commit()
    return row


@pytest.mark.parametrize("rule, notified, send_resolved, sent, says", [
    ("safety-reports", True, True, ["resolved"], "resolved by ana in the queue"),
    ("safety-reports", False, True, [], "never notified, nothing to send"),
    ("safety-reports", True, False, [], "send_resolved is off"),
    ("gone-rule", True, True, [], "rule gone-rule is gone from the config"),
])
def test_a_manual_resolution_posts_as_the_detect_step_would(session, rule, notified,
                                                            send_resolved, sent, says):
    config = load_config_file(CONFIG, env={})
    config = config.model_copy(update={"alerts": config.alerts.model_copy(
        update={"send_resolved": send_resolved})})
    row = incident(session, rule=rule, notified=notified)
    actions.resolve(session, config=config, incident_id=row.id, user="ana", now=NOW)
    session.commit()
    assert (row.status, row.resolved_by, row.resolved_at) == ("resolved", "ana", NOW)
    assert session.exec(select(OutboxMessage.kind)).all() == sent
    logged = session.exec(select(Decision)).one()
    assert (logged.action, logged.code, logged.incident_id) == ("resolved", "resolved-by-hand",
                                                                 row.id)
    assert says in logged.reason
    with pytest.raises(Conflict, match="is already resolved"):
        actions.resolve(session, config=config, incident_id=row.id, user="bo", now=NOW)
    with pytest.raises(NotFound):
        actions.resolve(session, config=config, incident_id=999, user="bo", now=NOW)


def test_the_matchers_of_an_incident_whose_rule_is_gone_are_its_labels(session):
    config = load_config_file(CONFIG, env={})
    row = incident(session, rule="gone-rule")
    assert silences.incident_matchers(config, row) == [
        "rule=gone-rule", "brand=Lumi Toys", "topic=product_safety"]


def mentions(session, n: int, *, topic: str | None, sentiment: str = "negative",
             source: str = "twitter", start: datetime = NOW - timedelta(hours=2)) -> list[int]:
    """n labelled mentions of Lumi Toys, ten minutes apart from `start`."""
    ids = []
    for i in range(n):
        at = start + timedelta(minutes=10 * i)
        m = Mention(source=source, external_id=f"{source}-{topic}-{start:%H%M}-{i}", text=f"t{i}",
                    author=f"a{i}", created_at=at, created_epoch=int(at.timestamp()),
                    collected_at=at, brand="Lumi Toys")
        session.add(m)
        session.flush()
        session.add(Label(mention_id=m.id, sentiment=sentiment, sentiment_score=0.9,
                          model_version="test", classified_at=at))
        if topic:
            session.add(MentionTopic(mention_id=m.id, topic=topic, score=1.0,
                                     created_epoch=m.created_epoch))
        ids.append(m.id)
    session.commit()
    return ids


def test_linked_mentions_page_by_cursor_newest_first(session):
    config = load_config_file(CONFIG, env={})
    linked = mentions(session, 7, topic="product_safety")
    mentions(session, 3, topic="shipping")                                # another group
    mentions(session, 2, topic="product_safety", start=NOW - timedelta(hours=9))  # before
    row = incident(session)
    seen, cursor = [], None
    while True:
        page = reading.linked_page(session, config=config, incident=row, now=NOW,
                                     before=cursor, limit=3)
        assert page.total == 7
        seen += [m.id for m in page.mentions]
        if not (cursor := page.next):
            break
    assert seen == linked[::-1]
    with pytest.raises(QueueError, match=r"cursor 'x' is not of the form epoch\.id"):
        reading.linked_page(session, config=config, incident=row, now=NOW, before="x")


def test_the_timeline_counts_the_group_and_marks_its_moments(session):
    config = load_config_file(CONFIG, env={})
    mentions(session, 7, topic="product_safety")
    mentions(session, 3, topic="shipping")
    row = incident(session)
    row.acknowledged_at = NOW
    data = reading.timeline(session, config=config, incident=row, now=NOW)
    assert sum(data["counts"].values()) == 7 and data["n"] * data["step"] >= 12 * 3600
    assert [name for name, _ in data["marks"]] == ["opened", "acknowledged"]


def test_a_rare_rules_timeline_counts_new_authors_and_a_spikes_has_its_expected(session):
    """safety-reports is rare: the same seven authors reporting twice are seven new authors
    (a mention count would say 14). negative-spike's expected, 6 in its 1h window, is 1.5 per
    15-minute bucket, over the window that opened the incident to its last signal."""
    config = load_config_file(CONFIG, env={})
    mentions(session, 7, topic="product_safety")
    mentions(session, 7, topic="product_safety", start=NOW - timedelta(minutes=90))
    row = incident(session)
    data = reading.timeline(session, config=config, incident=row, now=NOW)
    assert sum(data["counts"].values()) == 7 and data["unit"] == "new author(s)"
    assert data["measure"].startswith("distinct authors new in each bucket")
    assert "alerting at 3 within 3h" in data["measure"] and data["expected"] is None

    spike = incident(session, rule="negative-spike")
    spike.expected = 6.0
    data = reading.timeline(session, config=config, incident=spike, now=NOW)
    assert sum(data["counts"].values()) == 14 and data["unit"] == "mention(s)"
    assert data["step"] == 900 and data["expected"] == {
        "per_bucket": 1.5, "since": NOW - timedelta(hours=2), "until": NOW}


def test_dashboard_volume_by_source_and_topic_and_the_sentiment_split(session):
    mentions(session, 4, topic="product_safety", source="reddit")
    mentions(session, 2, topic=None, sentiment="positive")
    since, until = int((NOW - timedelta(days=1)).timestamp()), int(NOW.timestamp())
    by_source = dashboard.volume_by_source(session, step=3600, since=since, until=until)
    assert {k: sum(v.values()) for k, v in by_source.items()} == {"reddit": 4, "twitter": 2}
    by_topic = dashboard.volume_by_topic(session, step=3600, since=since, until=until)
    assert {k: sum(v.values()) for k, v in by_topic.items()} == {"product_safety": 4}
    assert all(b * 3600 >= since for b in by_topic["product_safety"])
    assert dashboard.sentiment_split(session, since=since, until=until) == {
        "negative": 4, "positive": 2}
