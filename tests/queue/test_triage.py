"""Queue data functions on SQLite and PostgreSQL: urgency, keyset pages, the triage moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from listener.errors import QueueError
from listener.queue import triage
from listener.storage.models import Label, Mention, MentionTopic, Triage

NOW = datetime(2026, 10, 30, 12, tzinfo=UTC)
SEVERITIES = {"product_safety": "critical", "shipping": "low"}


def add(session, n: int, *, minutes_ago: int, reach: int = 0, text: str = "hello") -> None:
    t = NOW - timedelta(minutes=minutes_ago)
    session.add(Mention(id=n, source="twitter", external_id=str(n), text=text, created_at=t,
                        created_epoch=int(t.timestamp()), collected_at=NOW, brand="Lumi",
                        author_reach=reach, raw={}))


def label(session, n: int, sentiment: str, topic: str | None = None) -> None:
    session.add(Label(mention_id=n, sentiment=sentiment, sentiment_score=0.9, model_version="t",
                      complaint=0.1, classified_at=NOW))
    if topic:
        session.add(MentionTopic(mention_id=n, topic=topic, score=1.0, created_epoch=0))


@pytest.fixture()
def queue(engine):
    with Session(engine) as s:
        add(s, 1, minutes_ago=5)
        add(s, 2, minutes_ago=30, reach=20_000)
        add(s, 3, minutes_ago=90, text="is it safe?")
        add(s, 4, minutes_ago=10)
        s.commit()
        label(s, 1, "negative", "product_safety")
        label(s, 2, "positive")
        s.commit()
        assert triage.sync_triage(s, severities=SEVERITIES) == 4
        s.commit()
        yield s


def order(s, **kw) -> list[int]:
    return [r.mention.id for r in triage.queue_page(s, filters=triage.QueueFilter(**kw))]


def test_urgency_orders_the_queue_and_late_labels_rerank(queue):
    # 1: critical topic + negative = 60; 2: reach 10; 3: question 5; 4: nothing (oldest first)
    assert order(queue) == [1, 2, 3, 4]
    label(queue, 4, "negative", "shipping")        # labelled after its triage row existed
    queue.commit()
    assert triage.sync_triage(queue, severities=SEVERITIES) == 1
    queue.commit()
    assert queue.get(Triage, 4).priority == 25 and order(queue) == [1, 4, 2, 3]
    assert triage.sync_triage(queue, severities=SEVERITIES) == 0


def test_keyset_pages_cover_everything_once(queue):
    seen, after = [], None
    while True:
        page = triage.queue_page(queue, filters=triage.QueueFilter(status="all"), after=after,
                                 limit=1)
        if not page:
            break
        seen.append(page[0].mention.id)
        after = page[0].cursor
    assert seen == [1, 2, 3, 4]


def test_claim_respond_close_and_filters(queue):
    triage.claim(queue, mention_id=1, user="bob", now=NOW)
    queue.commit()
    with pytest.raises(QueueError, match="mention 1 is already claimed by bob"):
        triage.claim(queue, mention_id=1, user="alice", now=NOW)
    row = triage.respond(queue, mention_id=1, user="bob", now=NOW)
    triage.close(queue, mention_id=3, user="alice", now=NOW)
    queue.commit()
    assert row.first_response_at == NOW and not row.is_open
    assert triage.sla(row, NOW - timedelta(minutes=5), timedelta(hours=1), NOW) == {
        "state": "met", "running": False, "seconds": 300}
    assert order(queue) == [2, 4]
    assert order(queue, status="responded") == [1]
    assert order(queue, status="all", sentiment="negative") == [1]
    assert order(queue, status="all", topic="product_safety") == [1]
    assert order(queue, status="all", q="SAFE") == [3]
    assert triage.status_counts(queue) == {"new": 2, "claimed": 0, "escalated": 0,
                                           "responded": 1, "no_response": 0, "closed": 1}
    assert triage.overdue_count(queue, target=timedelta(minutes=20), now=NOW) == 1
    assert triage.sla_attainment(queue, target=timedelta(minutes=4), since=NOW) == {
        "answered": 1, "within": 0.0, "median": 300}


def test_a_backlog_is_worked_off_a_slice_per_call(engine):
    with Session(engine) as s:
        for n in range(1, 6):
            add(s, n, minutes_ago=n)
        s.commit()
        assert [triage.sync_triage(s, severities={}, new_batch=2) for _ in range(4)] == [2, 2, 1, 0]


@pytest.mark.parametrize("kwargs, message", [
    ({"status": "lost"}, "status 'lost' is not one of open, all, new, claimed, escalated, "
                         "responded, no_response, closed"),
    ({"sentiment": "angry"}, "sentiment 'angry' is not one of negative, neutral, positive"),
])
def test_bad_filters_are_named(kwargs, message):
    with pytest.raises(QueueError) as err:
        triage.QueueFilter(**kwargs)
    assert str(err.value) == message
