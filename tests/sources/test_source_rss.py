"""RSS and Atom feeds (Google Alerts, Discourse) served from a local fake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from listener.errors import PermanentSourceError, SourceError
from listener.pipeline.collect import collect
from listener.sources.contract import SourceContext
from listener.sources.rss import RssSource
from tests.fakes.collecting import config_with, mentions, queries, state
from tests.fakes.reviews import FakeFeeds, google_alerts_atom, rss
from tests.fakes.webserver import Reply

NOW = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)
ALERT = "/alerts/feeds/0123456789/987654321"
FORUM = "/latest.rss"


def make(web, *paths: str, timeout: str = "2s", now=NOW):
    feeds = "".join(f"      - {web.base_url}{p}\n" for p in paths)
    config = config_with(f"  rss:\n    timeout: {timeout}\n    feeds:\n{feeds}")
    source = RssSource(SourceContext(config.sources.rss, wall_clock=lambda: now,
                                     queries=queries(config), session=requests.Session(),
                                     sleep=lambda s: None))
    return config, source


def run(engine, config, source, now=NOW):
    return collect(engine, config=config, name="rss", source=source, now=now)


def alert(i: int, title: str, hours_ago: float = 1, **kw) -> dict:
    return {"id": f"tag:google.com,2013:googlealerts/feed:{1000 + i}", "title": title,
            "url": f"https://news.example.com/story-{i}", "date": NOW - timedelta(hours=hours_ago),
            **kw}


def topic(i: int, title: str, hours_ago: float = 1, **kw) -> dict:
    return {"title": title, "link": f"https://forum.example.com/t/{i}",
            "guid": f"forum.example.com-topic-{i}", "date": NOW - timedelta(hours=hours_ago),
            "creator": f"user{i}", "description": f"<p>Topic {i}</p>", **kw}


def test_google_alerts_and_a_forum_feed_are_stored_and_off_brand_items_dropped(sqlite_engine):
    feeds = FakeFeeds({
        ALERT: google_alerts_atom([
            alert(1, "<b>Lumi Toys</b> recalls Pumpkin Glow flashlight",
                  content="Regulators say the <b>Lumi Toys</b> light can overheat &amp; burn"),
            alert(2, "Unrelated toy fair news")]),
        FORUM: rss([topic(7, "Is the lumitoys lantern safe?",
                          description="<p>Mine got <strong>very</strong> hot 🔥</p>"
                                      "<blockquote>quote</blockquote>")]),
    })
    with feeds.serve() as web:
        config, source = make(web, ALERT, FORUM)
        result = run(sqlite_engine, config, source)
    assert (result.fetched, result.stored, result.dropped, result.error) == (3, 2, 1, None)
    by_id = {m.external_id: m for m in mentions(sqlite_engine)}
    news = by_id["tag:google.com,2013:googlealerts/feed:1001"]
    assert news.text == ("Lumi Toys recalls Pumpkin Glow flashlight\nRegulators say the Lumi "
                         "Toys light can overheat & burn")
    assert news.url == "https://news.example.com/story-1"  # the Google redirect unwrapped
    assert news.created_at == NOW - timedelta(hours=1)
    assert news.product == "Pumpkin Glow flashlight"
    forum = by_id[f"{web.base_url}{FORUM}#forum.example.com-topic-7"]
    assert forum.text == "Is the lumitoys lantern safe?\nMine got very hot 🔥\nquote"
    assert (forum.author, forum.lang, forum.url) == ("user7", "en", "https://forum.example.com/t/7")
    assert forum.raw["feed"] == web.base_url.split("//")[1]


def test_only_new_items_come_back_after_a_restart_and_an_unchanged_feed_costs_a_304(
        sqlite_engine):
    feeds = FakeFeeds({FORUM: rss([topic(i, f"lumitoys topic {i}", hours_ago=10 - i)
                                   for i in range(5)])})
    with feeds.serve() as web:
        config, source = make(web, FORUM)
        assert run(sqlite_engine, config, source).stored == 5
        _, restarted = make(web, FORUM)
        assert run(sqlite_engine, config, restarted).fetched == 0
        assert web.requests[-1].headers.get("if-none-match")  # answered 304
        # the feed shows its latest five: two new topics push two old ones out, and one old
        # topic is re-dated by an edit
        items = [topic(i, f"lumitoys topic {i}", hours_ago=10 - i) for i in range(2, 5)]
        items += [topic(5, "lumitoys topic 5", 0.5), topic(6, "lumitoys topic 6", 0.2)]
        items[0]["date"] = NOW
        feeds.documents[FORUM] = rss(items)
        result = run(sqlite_engine, config, restarted)
    assert (result.fetched, result.stored, result.duplicates) == (2, 2, 0)
    assert len(mentions(sqlite_engine)) == 7


def test_the_first_read_reaches_back_only_as_far_as_lookback(sqlite_engine):
    feeds = FakeFeeds({FORUM: rss([topic(1, "lumitoys old", hours_ago=24 * 5),
                                   topic(2, "lumitoys recent", hours_ago=3),
                                   {"title": "lumitoys undated", "guid": "u-1"}])})
    with feeds.serve() as web:
        config, source = make(web, FORUM)
        result = run(sqlite_engine, config, source)
    assert sorted(m.text.split("\n")[0] for m in mentions(sqlite_engine)) == [
        "lumitoys recent", "lumitoys undated"]
    undated = next(m for m in mentions(sqlite_engine) if m.text == "lumitoys undated")
    assert undated.created_at == NOW and undated.raw["dated"] is False
    assert result.stored == 2


def test_empty_items_repeats_and_an_empty_feed(sqlite_engine):
    feeds = FakeFeeds({FORUM: rss([topic(1, "lumitoys once"), topic(1, "lumitoys once"),
                                   {"guid": "x", "date": NOW}]),
                       ALERT: google_alerts_atom([])})
    with feeds.serve() as web:
        config, source = make(web, FORUM, ALERT)
        result = run(sqlite_engine, config, source)
    assert (result.stored, result.malformed, result.duplicates) == (1, 1, 0)


@pytest.mark.parametrize("reply, kind, message", [
    (Reply(200, b"\x00\x01 this is not xml <<<", content_type="text/html"), SourceError,
     "rss: feed 1 (127.0.0.1:PORT): the answer is not an RSS or Atom feed"),
    (Reply(500, "oops"), SourceError, "rss: feed 1 (127.0.0.1:PORT): HTTP 500"),
    (Reply(429, "", headers={"Retry-After": "120"}), SourceError,
     "rss: feed 1 (127.0.0.1:PORT): rate limited (HTTP 429); the platform asks to wait 120s"),
    (Reply(200, b"", delay=1.0), SourceError,
     "rss: feed 1 (127.0.0.1:PORT): no answer within 0.3s"),
    (Reply(404, "gone"), PermanentSourceError,
     "rss: feed 1 (127.0.0.1:PORT): not found (HTTP 404); check sources.rss.feeds[0]"),
    (Reply(403, "denied"), PermanentSourceError,
     "rss: feed 1 (127.0.0.1:PORT): access refused (HTTP 403); check sources.rss.feeds[0] (a "
     "private feed's URL carries its token)"),
])
def test_each_failure_is_an_error_of_the_right_kind_and_never_shows_the_feed_url(
        sqlite_engine, reply, kind, message):
    private = "/posts.rss?api_key=s3cret-token&api_username=bot"
    feeds = FakeFeeds({"/posts.rss": rss([topic(1, "lumitoys")])})
    with feeds.serve() as web:
        config, source = make(web, private, timeout="0.3s")
        web.fail_next(reply)
        with pytest.raises(kind) as info:
            source.fetch(None)
        port = web.base_url.rsplit(":", 1)[1]
        assert str(info.value).startswith(message.replace("PORT", port))
        assert "s3cret" not in str(info.value)
        assert run(sqlite_engine, config, source).stored == 1  # the next run recovers


def test_one_failing_feed_does_not_stop_the_others_and_is_retried_next_time(sqlite_engine):
    feeds = FakeFeeds({FORUM: rss([topic(1, "lumitoys one")]),
                       "/other.rss": rss([topic(2, "lumitoys two")])})
    with feeds.serve() as web:
        config, source = make(web, "/other.rss", FORUM)
        web.fail_next(Reply(500, "down"))  # the first feed read
        first = run(sqlite_engine, config, source)
        assert (first.stored, first.error) == (1, None)
        assert list(state(sqlite_engine, "rss").cursor["keys"]) == [f"{web.base_url}{FORUM}"]
        second = run(sqlite_engine, config, source)
        web.fail_next(Reply(500, "down"), Reply(503, "down"))
        third = run(sqlite_engine, config, source)
    assert second.stored == 1 and third.error.startswith("rss: feed 1")
    assert sorted(m.text for m in mentions(sqlite_engine)) == ["lumitoys one\nTopic 1",
                                                               "lumitoys two\nTopic 2"]


def test_a_feed_url_must_be_a_url():
    from listener.errors import ConfigError
    with pytest.raises(ConfigError) as info:
        config_with("  rss:\n    feeds: [forum.example.com/latest.rss]\n")
    assert info.value.problems == ['sources.rss.feeds: "forum.example.com/latest.rss" is not a '
                                   'feed URL; write e.g. "https://forum.example.com/latest.rss"']
