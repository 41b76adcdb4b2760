"""Near-duplicates: clusters assigned at ingest (SQLite and PostgreSQL), and detection counting
distinct voices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from listener.sources.contract import RawMention
from listener.storage import counts, dedup, store
from listener.storage.models import Mention

T0 = datetime(2026, 10, 30, 9, 0, tzinfo=UTC)
REPORT = "My daughter burned her hand on the @lumitoys Pumpkin Glow flashlight tonight"


def raw(i: int, text: str, *, minutes: float = 0, author: str | None = None,
        extra: dict | None = None, source: str = "twitter") -> RawMention:
    return RawMention(source=source, external_id=str(i), text=text, author=author or f"u{i}",
                      created_at=T0 + timedelta(minutes=minutes), raw=dict(extra or {}))


def ingest(engine, mentions: list[RawMention]) -> dict[str, Mention]:
    with Session(engine) as s:
        store.add_mentions(s, source_name="twitter",
                           mentions=[(m, "Lumi Toys", None) for m in mentions], cursor=None,
                           fetched=len(mentions), dropped=0, malformed=0, exhausted=False,
                           now=T0)
        s.commit()
        return {m.external_id: m for m in s.exec(select(Mention))}


@pytest.mark.parametrize("second, same", [
    (REPORT, True),
    ("  my DAUGHTER burned her hand on the @LumiToys pumpkin glow flashlight tonight!! 🔥😡",
     True),
    (f"{REPORT} https://t.co/abc123", True),
    (f"RT @u1: {REPORT}", True),
    (f'"@u1: {REPORT}"', True),
    (f"{REPORT} (via @u1)", True),
    ("@lumitoys_help My daughter burned her hand on the Pumpkin Glow flashlight tonight", True),
    ("My daughter burned her hand on the @lumitoys Pumpkin Glow flashlight last night", True),
    ("My son loves the Pumpkin Glow flashlight from @lumitoys, best gift this year", False),
    ("Lumi Toys is hiring a firmware engineer in Portland, apply today", False),
], ids=["identical", "case-space-emoji", "url", "rt-prefix", "quote-prefix", "via", "handle",
        "one-word", "other-text", "unrelated"])
def test_a_copy_joins_the_first_mentions_cluster(engine, second, same):
    rows = ingest(engine, [raw(1, REPORT), raw(2, second, minutes=5)])
    assert rows["1"].cluster_id == rows["1"].id
    assert (rows["2"].cluster_id == rows["1"].id) is same


def test_a_retweet_joins_its_original_by_id_even_when_truncated(engine):
    rows = ingest(engine, [
        raw(1, REPORT),
        raw(2, "Unrelated words about a lamp that is lovely", minutes=1),
        raw(3, "RT @u1: My daughter burned her…", minutes=2, extra={"retweet_of": "1"}),
        raw(4, "RT @u2: Unrelated words about a lamp that is lovely", minutes=3),
    ])
    assert rows["3"].cluster_id == rows["1"].id and rows["3"].repost
    assert rows["4"].cluster_id == rows["2"].id and rows["4"].repost
    assert not rows["1"].repost


def test_short_texts_and_copies_a_week_apart_are_not_clustered(engine):
    rows = ingest(engine, [
        raw(1, "lol @lumitoys"), raw(2, "LOL @lumitoys", minutes=1),
        raw(3, REPORT), raw(4, REPORT, minutes=7 * 24 * 60 + 1),
        raw(5, REPORT, minutes=7 * 24 * 60 - 1)])
    assert rows["2"].cluster_id == rows["2"].id
    assert rows["4"].cluster_id == rows["4"].id
    assert rows["5"].cluster_id == rows["3"].id


def test_clusters_span_ingest_batches_and_sources(engine):
    ingest(engine, [raw(1, REPORT)])
    rows = ingest(engine, [raw(9, f"{REPORT} https://forum.example.com/t/1", source="rss",
                               author="forum")])
    assert rows["9"].cluster_id == rows["1"].id


def test_spikes_count_clusters_and_the_rare_rule_counts_authors_not_reposts(engine):
    ingest(engine, [
        raw(1, REPORT, author="ann"),
        raw(2, f"RT @ann: {REPORT}", minutes=1, author="bob", extra={"retweet_of": "1"}),
        raw(3, f"RT @ann: {REPORT}", minutes=2, author="cat"),
        raw(4, REPORT, minutes=3, author="dan"),     # copy-paste: a person of their own
        raw(5, "The Pumpkin Glow got so hot it melted the case, be careful", minutes=4,
            author="eve"),
    ])
    since, until = int(T0.timestamp()), int((T0 + timedelta(minutes=5)).timestamp())
    b = since // 300
    with Session(engine) as s:
        assert counts.count_buckets(s, step=300, since=since, until=until) == {b: 2}
        assert counts.new_author_buckets(s, step=300, since=since, until=until) == {b: 3}


@pytest.mark.parametrize("text, repost", [
    ("RT @ann: hello", True), ("rt @ann hello", False), ("RT: @ann: hi", True),
    ("MT @ann: hi", True), ("“@ann: hi”", True), ("@ann: hi", False), ("ART @ann: x", False),
    ("I will RT @ann: later", False),
])
def test_reposts_are_recognised_by_their_prefix(text, repost):
    assert dedup.is_repost(text) is repost


def test_normalising_keeps_words_of_every_script():
    assert dedup.normalise("RT @a: Ünïcode 熱い!! 🔥 https://x.co/1 #Lumi") == "ünïcode 熱い lumi"
