"""Hacker News through a local fake of the Algolia HN search API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from listener.errors import PermanentSourceError, SourceError
from listener.pipeline.collect import collect
from listener.sources.contract import SourceContext
from listener.sources.hackernews import HackerNewsSource
from tests.fakes.collecting import config_with, mentions, queries, state
from tests.fakes.opennets import FakeHackerNews, hn_comment, hn_story
from tests.fakes.webserver import NOT_JSON, Reply

NOW = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)
SEARCH = "/api/v1/search_by_date"


def make(web, *, per_page: int = 100, max_pages: int = 10, sleeps=None, now=NOW,
         timeout: str = "2s", brand_queries=None):
    config = config_with(
        f"  hackernews:\n    api_url: {web.base_url}\n    per_page: {per_page}\n"
        f"    max_pages: {max_pages}\n    timeout: {timeout}\n")
    source = HackerNewsSource(SourceContext(
        config.sources.hackernews, wall_clock=lambda: now[0] if isinstance(now, list) else now,
        queries=queries(config) if brand_queries is None else brand_queries,
        session=requests.Session(),
        sleep=(sleeps.append if sleeps is not None else lambda s: None)))
    return config, source


def run(engine, config, source, now=NOW):
    return collect(engine, config=config, name="hackernews", source=source, now=now)


def test_stories_and_comments_are_stored_with_points_as_reach(sqlite_engine):
    hn = FakeHackerNews()
    hn.add(hn_story(id=41000001, created=NOW - timedelta(hours=3), points=87, author="pg",
                    title="Lumi Toys recalls the Pumpkin Glow flashlight"))
    hn.add(hn_comment(id=41000002, created=NOW - timedelta(hours=2), author="tptacek",
                      text="<p>My kid&#x27;s lumitoys lamp got <i>hot</i>.<p>See <a href=\"https:"
                           "&#x2F;&#x2F;example.com\">example.com</a> — 熱い 🔥"))
    hn.add(hn_story(id=41000003, created=NOW - timedelta(hours=1), title="Lumi Toys is hiring",
                    points=3))
    with hn.serve() as web:
        config, source = make(web)
        result = run(sqlite_engine, config, source)
        searches = [r.query for r in web.requests if r.path == SEARCH]
    assert (result.fetched, result.stored, result.dropped) == (3, 2, 1)
    assert [q["query"] for q in searches] == ['"lumi toys"', "lumitoys", '"pumpkin glow"',
                                              "pumpkinglow"]
    since = int((NOW - timedelta(days=1, minutes=10)).timestamp())
    assert searches[0]["tags"] == "(story,comment)"
    assert searches[0]["numericFilters"] == (f"created_at_i>{since},"
                                             f"created_at_i<={int(NOW.timestamp())}")
    story, comment = mentions(sqlite_engine)
    assert (story.external_id, story.author, story.author_reach) == ("41000001", "pg", 87)
    assert story.url == "https://news.ycombinator.com/item?id=41000001"
    assert story.product == "Pumpkin Glow flashlight" and "_highlightResult" not in story.raw
    assert comment.text == "My kid's lumitoys lamp got hot.\nSee example.com — 熱い 🔥"
    assert (comment.author_reach, comment.created_at) == (0, NOW - timedelta(hours=2))


def test_a_restart_between_pages_continues_and_late_indexed_items_are_caught(sqlite_engine):
    hn = FakeHackerNews()
    for i in range(7):
        hn.add(hn_story(id=100 + i, created=NOW - timedelta(hours=7 - i),
                        title=f"lumitoys story {i}"))
    clock = [NOW]
    with hn.serve() as web:
        config, source = make(web, per_page=2, max_pages=2, now=clock)
        assert run(sqlite_engine, config, source).stored == 4
        _, restarted = make(web, per_page=2, max_pages=2, now=clock)
        assert run(sqlite_engine, config, restarted).stored == 3  # the drain ends
        # Algolia indexes a comment late: dated 5 minutes before the newest item already read
        hn.add(hn_comment(id=200, created=NOW - timedelta(hours=1, minutes=5),
                          text="lumitoys late"))
        clock[0] = NOW + timedelta(minutes=10)
        late = run(sqlite_engine, config, restarted)
    assert late.stored == 1 and late.duplicates == 0
    assert len(mentions(sqlite_engine)) == 8
    assert state(sqlite_engine, "hackernews").duplicates == 0


def test_hits_with_missing_fields_or_repeated_are_counted_not_stored(sqlite_engine):
    good = hn_story(id=1, created=NOW - timedelta(hours=1), title="lumitoys")
    page = {"hits": [good, good, {**good, "objectID": None},
                     {k: v for k, v in good.items() if k not in ("created_at", "created_at_i")},
                     {**good, "objectID": "4", "title": None},
                     {**good, "objectID": "5", "created_at_i": None, "created_at": "soon"},
                     "junk"], "nbPages": 1, "page": 0}
    hn = FakeHackerNews()
    with hn.serve() as web:
        web.handler = lambda req: Reply(200, page)
        config, source = make(web, brand_queries=["lumitoys"])
        result = run(sqlite_engine, config, source)
        web.handler = lambda req: Reply(200, {"hits": [], "nbPages": 0, "page": 0})
        empty = run(sqlite_engine, config, source)
    assert (result.stored, result.malformed, result.duplicates) == (1, 5, 0)
    assert (empty.fetched, empty.error) == (0, None)


@pytest.mark.parametrize("reply, kind, message", [
    (NOT_JSON, SourceError,
     "hackernews: search 'lumitoys', page 1: the answer is not JSON (41 bytes)"),
    (Reply(200, {"hits": None}), SourceError,
     "hackernews: search 'lumitoys', page 1: the answer has no hits"),
    (Reply(500, {"message": "oops"}), SourceError,
     "hackernews: search 'lumitoys', page 1: HTTP 500"),
    (Reply(429, {"message": "quota"}, headers={"Retry-After": "3600"}), SourceError,
     "hackernews: search 'lumitoys', page 1: rate limited (HTTP 429); the platform asks to "
     "wait 3600s"),
    (Reply(200, {"hits": []}, delay=1.0), SourceError,
     "hackernews: search 'lumitoys', page 1: no answer within 0.3s"),
    (Reply(403, {"message": "Invalid Application-ID or API key", "status": 403}),
     PermanentSourceError, "hackernews: search 'lumitoys', page 1: access refused (HTTP 403); "
                           "check sources.hackernews.api_url (the public API needs no key)"),
])
def test_each_failure_is_an_error_of_the_right_kind(sqlite_engine, reply, kind, message):
    hn = FakeHackerNews()
    hn.add(hn_story(id=1, created=NOW - timedelta(hours=1), title="lumitoys"))
    with hn.serve() as web:
        config, source = make(web, timeout="0.3s", brand_queries=["lumitoys"])
        web.fail_next(reply)
        with pytest.raises(kind) as info:
            source.fetch(None)
        assert str(info.value) == message
        assert run(sqlite_engine, config, source).stored == 1  # the next run recovers


def test_a_429_with_a_short_retry_after_waits_and_keeps_the_page():
    hn = FakeHackerNews()
    hn.add(hn_story(id=1, created=NOW - timedelta(hours=1), title="lumitoys"))
    sleeps: list[float] = []
    with hn.serve() as web:
        web.fail_next(Reply(429, {"message": "slow down"}, headers={"Retry-After": "4"}))
        batch = make(web, sleeps=sleeps, brand_queries=["lumitoys"])[1].fetch(None)
    assert sleeps == [4.0] and [m.external_id for m in batch.mentions] == ["1"]


def test_a_query_without_words_is_a_permanent_error():
    with FakeHackerNews().serve() as web:
        _, source = make(web, brand_queries=[])
        with pytest.raises(PermanentSourceError, match="give no word to search for"):
            source.fetch(None)
