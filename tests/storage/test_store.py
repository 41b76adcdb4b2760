"""Storage on SQLite and on a real PostgreSQL (a database of its own per test)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from classifiers.base import Labels, TopicHit
from listener.sources.contract import RawMention
from listener.storage import counts, store

T0 = datetime(2026, 10, 30, 9, 0, tzinfo=UTC)


def raw(i: int, minutes: int, author: str | None = None) -> RawMention:
    return RawMention(source="twitter", external_id=str(i),
                      created_at=T0 + timedelta(minutes=minutes), text=f"lumitoys {i}",
                      author=author or f"u{i}", author_reach=i, url=f"https://x.com/{i}")


def add(session, mentions, cursor):
    return store.add_mentions(session, source_name="replay",
                              mentions=[(m, "Lumi Toys", None) for m in mentions], cursor=cursor,
                              fetched=len(mentions), dropped=0, malformed=0, exhausted=False,
                              now=T0)


def test_ingest_is_idempotent_on_source_and_external_id(engine):
    with Session(engine) as s:
        assert add(s, [raw(1, 0), raw(2, 1)], {"line": 2}) == (2, 0)
        s.commit()
    with Session(engine) as s:
        assert add(s, [raw(2, 1), raw(3, 2)], {"line": 3}) == (1, 1)
        s.commit()
    with Session(engine) as s:
        rows = store.mentions_page(s, limit=None)
        assert [m.external_id for m, _ in rows] == ["1", "2", "3"]
        assert rows[0][0].created_at == T0          # aware UTC round trip
        state = store.source_state(s, name="replay")
        assert state.cursor == {"line": 3} and state.stored == 3 and state.duplicates == 1


def test_the_cursor_moves_only_with_the_mentions(engine):
    with Session(engine) as s:
        add(s, [raw(1, 0)], {"line": 1})
        s.rollback()  # a crash before commit: neither the mention nor the cursor is kept
    with Session(engine) as s:
        assert store.mentions_page(s, limit=None) == []
        assert store.source_state(s, name="replay").cursor is None


def test_counts_and_new_authors_per_bucket_are_sql_aggregates(engine):
    with Session(engine) as s:
        add(s, [raw(1, 0, "ann"), raw(2, 3, "ann"), raw(3, 7, "bob"), raw(4, 12, "cat"),
                raw(5, 13, "bob")], None)
        s.commit()
        until = int((T0 + timedelta(minutes=15)).timestamp())
        since = int(T0.timestamp())
        b0 = since // 300
        assert counts.count_buckets(s, step=300, since=since, until=until, brand="Lumi Toys") == {
            b0: 2, b0 + 1: 1, b0 + 2: 2}
        assert counts.new_author_buckets(s, step=300, since=since, until=until) == {
            b0: 1, b0 + 1: 1, b0 + 2: 1}


def test_classification_claims_unlabelled_mentions_and_stores_topics(engine):
    with Session(engine) as s:
        add(s, [raw(1, 0), raw(2, 1)], None)
        s.commit()
    with Session(engine) as s:
        todo = store.unclassified(s, limit=10)
        store.save_labels(s, mentions=todo[:1], labels=[
            Labels("negative", 0.9, {"product_safety": TopicHit(1.0, 'keyword "burn*"')})],
            version="test-model@1", now=T0)
        s.commit()
    with Session(engine) as s:
        assert [m.external_id for m in store.unclassified(s, limit=10)] == ["2"]
        (_m, lab), _ = store.mentions_page(s, limit=None)
        assert lab.model_version == "test-model@1"
        assert lab.topics == {"product_safety": {"score": 1.0, "evidence": 'keyword "burn*"'}}
        since, until = int(T0.timestamp()), int(T0.timestamp()) + 3600
        assert counts.count_buckets(s, step=300, since=since, until=until,
                                   topic="product_safety", sentiment="negative") == {
            since // 300: 1}
