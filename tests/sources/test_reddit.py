"""The Reddit source against a local fake of the API praw talks to, with posts and comments from
the exchanges praw recorded against the live API."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
import requests
from sqlmodel import Session, select

from listener.config import load_config
from listener.errors import ConfigError, PermanentSourceError, SourceError
from listener.pipeline.collect import collect as collect_step
from listener.sources.contract import SourceContext
from listener.sources.reddit import RedditSettings, RedditSource
from listener.storage import store
from listener.storage.models import Mention
from tests.fakes.clock import FakeTime
from tests.fakes.reddit import (
    FakeReddit,
    Scripted,
    make_comment,
    recorded_comments,
    recorded_search,
)

CLIENT_ID, SECRET = "test-client-id", "test-client-secret"
AGENT = "python:listener-tests:0.1 (by /u/listener_tests)"
AFTER_RECORDING = datetime.fromtimestamp(1482373050 + 60, tz=UTC)  # a minute after the comments
BRANDS = ["praw OR oauth", "people"]
CONFIG = """
brands:
  - {name: PRAW, query: "praw OR oauth"}
  - {name: People, query: people}
sources:
  reddit: {client_id: "${REDDIT_CLIENT_ID}", client_secret: "${REDDIT_CLIENT_SECRET}",
           user_agent: "python:listener-tests:0.1 (by /u/listener_tests)"}
"""


@pytest.fixture()
def fake():
    with FakeReddit(CLIENT_ID, SECRET) as server:
        yield server


def source(fake: FakeReddit, clock: FakeTime | None = None, secret: str = SECRET,
           queries=BRANDS, **settings) -> RedditSource:
    clock = clock or FakeTime(AFTER_RECORDING)
    defaults = {"subreddits": ["redditdev", "learnpython"], "lookback": "1200d"}  # back to 2013
    return RedditSource(SourceContext(
        RedditSettings(client_id=CLIENT_ID, client_secret=secret, user_agent=AGENT,
                       api_url=fake.url, auth_url=fake.url, **{**defaults, **settings}),
        queries=queries, session=requests.Session(), sleep=clock.sleep, wall_clock=clock))


def collect(engine, src):
    cfg = load_config(CONFIG, env={"REDDIT_CLIENT_ID": CLIENT_ID, "REDDIT_CLIENT_SECRET": SECRET})
    return collect_step(engine, config=cfg, name="reddit", source=src, now=AFTER_RECORDING)


def stored(engine) -> dict[str, Mention]:
    with Session(engine) as s:
        return {m.external_id: m for m in s.exec(select(Mention))}


def cursor(engine) -> dict | None:
    with Session(engine) as s:
        return store.source_state(s, name="reddit").cursor


def gets(fake: FakeReddit) -> list[dict]:
    return [r for r in fake.requests if r["path"] != "/api/v1/access_token"]


def test_recorded_posts_and_comments_are_searched_read_and_stored(sqlite_engine, fake, recorded):
    fake.posts, fake.comments = recorded_search(recorded), recorded_comments(recorded)
    r = collect(sqlite_engine, source(fake))
    assert (r.fetched, r.malformed, r.error) == (6 + 417, 0, None)
    assert r.stored + r.dropped == r.fetched and r.stored >= 6

    search, *pages = gets(fake)
    assert search["path"] == "/r/redditdev+learnpython/search"
    assert search["params"] == {"q": "praw OR oauth OR people", "sort": "new",
                                "restrict_sr": "on", "include_over_18": "on", "type": "link",
                                "t": "all", "limit": "100", "raw_json": "1"}
    assert search["user_agent"].startswith(AGENT)
    assert [p["path"] for p in pages] == ["/r/redditdev+learnpython/comments"] * 5
    assert [p["params"].get("after") for p in pages][:2] == [
        None, fake.comments[99]["data"]["name"]]

    mentions = stored(sqlite_engine)
    post = mentions["t3_3gpbiu"]
    assert post.text.startswith("[PRAW][OAuth2Util] Problem using get_banned() : raise Forbid")
    assert "Problem solved with this" in post.text               # title, then the self text
    assert post.url.startswith("https://www.reddit.com/r/redditdev/comments/3gpbiu/")
    assert (post.author, post.brand, post.lang) == ("dClauzel", "PRAW", None)
    assert post.created_at.replace(tzinfo=UTC) == datetime.fromtimestamp(1439370514, tz=UTC)
    assert post.raw["kind"] == "t3" and post.raw["subreddit"] == "redditdev"
    comment = next(m for m in mentions.values() if m.external_id.startswith("t1_"))
    assert comment.brand == "People" and "people" in comment.text.lower()
    assert comment.url.startswith("https://www.reddit.com/r/")   # built from link_id and id
    assert f"/comments/{comment.raw['link_id'][3:]}/_/{comment.raw['id']}/" in comment.url


def test_a_restart_continues_from_the_cursor_without_gap_or_repeat_even_within_one_second(
        sqlite_engine, fake, recorded):
    everything = recorded_comments(recorded)
    fake.comments = everything[117:]              # the older 300 first
    first = source(fake, queries=["people"], comments=True).fetch(None)
    assert len(first.mentions) == 300
    newest = first.cursor["comments"]["since"]
    later = everything[:117]
    assert any(c["data"]["created_utc"] == newest for c in later)   # same second, after the poll

    fake.comments = everything                    # 117 more arrive on top
    again = source(fake, queries=["people"]).fetch(first.cursor)   # a new process
    assert [m.external_id for m in again.mentions] == [c["data"]["name"] for c in later]
    assert source(fake, queries=["people"]).fetch(again.cursor).mentions == []


def test_a_fetch_that_fails_half_way_is_repeated_whole_and_stores_each_item_once(
        sqlite_engine, fake, recorded):
    fake.posts, fake.comments = recorded_search(recorded), recorded_comments(recorded)
    clock = FakeTime(AFTER_RECORDING)
    src = source(fake, clock, max_wait="1m")
    first_pages = [Scripted(200, fake._listing(fake.posts, {"limit": "100"})),
                   Scripted(200, fake._listing(fake.comments, {"limit": "100"}))]
    fake.script = [*first_pages, Scripted(429, {"message": "Too Many Requests", "error": 429},
                                          {"x-ratelimit-reset": "300"})]
    r = collect(sqlite_engine, src)
    assert r.error == ("reddit: comments: rate limited (HTTP 429) for 301s more (will retry)")
    assert cursor(sqlite_engine) is None and stored(sqlite_engine) == {}
    r = collect(sqlite_engine, src)
    assert (r.fetched, r.duplicates) == (423, 0)
    assert collect(sqlite_engine, src).fetched == 0


def test_429_waits_for_the_reset_on_the_injected_clock_and_retries_the_same_page(
        sqlite_engine, fake, recorded, caplog):
    fake.posts = recorded_search(recorded)
    clock = FakeTime(AFTER_RECORDING)
    # (Reddit also sends x-ratelimit-remaining: 0, on which prawcore itself sleeps in real time
    # before the next request; left out so that only the injected clock waits here)
    fake.script = [Scripted(429, {"message": "Too Many Requests", "error": 429},
                            {"x-ratelimit-reset": "7"})]
    with caplog.at_level(logging.WARNING):
        r = collect(sqlite_engine, source(fake, clock, comments=False))
    assert clock.slept == [8.0] and (r.fetched, r.error) == (6, None)
    assert "reddit: search:praw OR oauth OR people: rate limited; waiting 8s" in caplog.text
    assert [g["path"] for g in gets(fake)] == ["/r/redditdev+learnpython/search"] * 2


def test_refused_credentials_are_permanent_name_the_settings_and_never_show_the_secret(
        sqlite_engine, fake, caplog):
    with caplog.at_level(logging.DEBUG), pytest.raises(PermanentSourceError) as info:
        collect(sqlite_engine, source(fake, secret="wrong-secret-value"))
    assert str(info.value) == ("reddit: HTTP 401: the app's credentials were refused; check "
                               "sources.reddit.client_id and sources.reddit.client_secret")
    assert "wrong-secret-value" not in caplog.text
    assert gets(fake) == []


@pytest.mark.parametrize("status, message", [
    (403, "reddit: search:praw OR oauth OR people: access refused (HTTP 403): a subreddit is "
          "private, quarantined or banned; check sources.reddit.subreddits"),
    (404, "reddit: search:praw OR oauth OR people: not found: a subreddit in "
          "sources.reddit.subreddits does not exist (or sources.reddit.api_url is wrong)"),
])
def test_a_subreddit_that_is_private_or_missing_is_a_permanent_error(sqlite_engine, fake, status,
                                                                    message):
    fake.script = [Scripted(status, {"message": "Forbidden", "error": status})]
    with pytest.raises(PermanentSourceError) as info:
        collect(sqlite_engine, source(fake))
    assert str(info.value) == message


def test_a_server_error_is_retryable_after_praws_own_retries(sqlite_engine, fake):
    fake.script = [Scripted(503, b"<html>503 Service Unavailable</html>")] * 3
    r = collect(sqlite_engine, source(fake))
    assert r.error == "reddit: search:praw OR oauth OR people: HTTP 503 (will retry)"
    assert cursor(sqlite_engine) is None


def test_unreadable_items_are_counted_and_a_page_that_is_not_a_listing_is_retried(
        sqlite_engine, fake, caplog):
    t = AFTER_RECORDING.timestamp() - 30
    good = make_comment("dbh001", "people love it", t, "alice")
    fake.comments = [good, "not an item", {"kind": "t1", "data": {"name": "t1_x"}},
                     make_comment("dbh002", "", t, "bob"), {"kind": "t9", "data": {
                         "name": "t9_x", "created_utc": t}}]
    with caplog.at_level(logging.WARNING):
        r = collect(sqlite_engine, source(fake, queries=["people"], subreddits=["toys"]))
    assert (r.fetched, r.stored, r.malformed) == (1, 1, 3)
    assert "reddit: comments: skipped malformed item: 'created_utc'" in caplog.text
    assert "reddit: skipped malformed item t1_dbh002: no text" in caplog.text
    assert "reddit: skipped malformed item t9_x: kind 't9' is neither a post nor a comment" \
        in caplog.text

    fake.script = [Scripted(200, {"kind": "Listing", "data": {"children": "oops"}})]
    r = collect(sqlite_engine, source(fake, queries=["people"], subreddits=["toys"]))
    assert r.error == ("reddit: search:people: the answer is not a listing (children is not a "
                       "list; will retry)")


def test_an_item_repeated_on_the_next_page_is_returned_once(fake):
    t = AFTER_RECORDING.timestamp()
    a, b, c = (make_comment(f"dbh00{i}", f"people {i}", t - i, "alice") for i in range(3))
    fake.comments = [a, b, a, c]
    batch = source(fake, queries=["people"], subreddits=["toys"], limit=2).fetch(None)
    assert [m.external_id for m in batch.mentions] == ["t1_dbh000", "t1_dbh001", "t1_dbh002"]


def test_reach_is_the_authors_karma_looked_up_in_bulk_and_cached(fake):
    t = AFTER_RECORDING.timestamp()
    fake.comments = [make_comment("dbh001", "people", t - 1, "alice", "t2_alice"),
                     make_comment("dbh002", "people", t - 2, "bob", "t2_bob"),
                     make_comment("dbh003", "people", t - 3, "[deleted]")]
    fake.users["t2_alice"] = {"name": "alice", "created_utc": 1.4e9, "link_karma": 120,
                              "comment_karma": 3, "profile_img": ""}
    src = source(fake, queries=["people"], subreddits=["toys"])
    batch = src.fetch(None)
    assert [(m.author, m.author_reach) for m in batch.mentions] == [
        ("alice", 123), ("bob", 0), ("", 0)]
    (lookup,) = [g for g in gets(fake) if g["path"] == "/api/user_data_by_account_ids"]
    assert lookup["params"]["ids"] == "t2_alice,t2_bob"
    fake.comments.insert(0, make_comment("dbh004", "people", t, "alice", "t2_alice"))
    assert [m.author_reach for m in src.fetch(batch.cursor).mentions] == [123]
    assert len([g for g in gets(fake) if g["path"] == "/api/user_data_by_account_ids"]) == 1


def test_an_empty_listing_keeps_looking_back_next_time(fake):
    batch = source(fake).fetch(None)
    assert batch.mentions == [] and batch.cursor == {"search:praw OR oauth OR people": {},
                                                     "comments": {}}


def test_built_from_its_settings_it_signs_in_and_introduces_itself(fake, recorded):
    fake.posts = recorded_search(recorded)
    src = RedditSource(SourceContext(RedditSettings(
        client_id=CLIENT_ID, client_secret=SECRET, user_agent=AGENT, api_url=fake.url,
        auth_url=fake.url, lookback="1200d"), queries=["praw"],
        wall_clock=lambda: AFTER_RECORDING))
    assert len(src.fetch(None).mentions) == 6
    token, search = fake.requests
    assert token["path"] == "/api/v1/access_token"
    assert search["path"] == "/r/all/search" and search["params"]["restrict_sr"] == "off"


@pytest.mark.parametrize("subreddits, streams", [
    (["all"], {"search:praw": "r/all/search"}),
    (["all", "toys"], {"search:praw": "r/all/search", "comments": "r/toys/comments"}),
    (["r/toys", "/r/Flashlight"], {"search:praw": "r/toys+Flashlight/search",
                                   "comments": "r/toys+Flashlight/comments"}),
])
def test_search_covers_the_subreddits_and_comments_are_read_from_named_ones(fake, subreddits,
                                                                            streams):
    src = source(fake, queries=["praw"], subreddits=subreddits)
    assert {k: path for k, (path, _) in src.streams().items()} == streams


@pytest.mark.parametrize("key, value, message", [
    ("user_agent", "listener", 'sources.reddit.user_agent: \'listener\' does not say who runs '
     'the app; write e.g. "python:acme-listener:1.0 (by /u/acme_social)"'),
    ("subreddits", ["toys!"], "sources.reddit.subreddits: 'toys!': not a subreddit name; write "
     "names without r/, e.g. [all] or [toys, parenting]"),
])
def test_settings_mistakes_are_config_errors_that_say_the_fix(key, value, message):
    import yaml
    data = yaml.safe_load(CONFIG)
    data["sources"]["reddit"][key] = value
    with pytest.raises(ConfigError) as info:
        load_config(yaml.safe_dump(data), env={"REDDIT_CLIENT_ID": "x",
                                               "REDDIT_CLIENT_SECRET": "y"})
    assert info.value.problems == [message]


def test_a_timeout_is_retryable(fake):
    import socket
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    try:
        src = RedditSource(SourceContext(RedditSettings(
            client_id=CLIENT_ID, client_secret=SECRET, user_agent=AGENT,
            api_url=f"http://127.0.0.1:{silent.getsockname()[1]}", auth_url=fake.url,
            timeout="100ms"), queries=["praw"]))
        with pytest.raises(SourceError) as info:
            src.fetch(None)
    finally:
        silent.close()
    assert not isinstance(info.value, PermanentSourceError)
    assert str(info.value) == "reddit: search:praw: no answer within 0.1s (will retry)"
