"""The Twitter source against a local fake of API v2 recent search, with tweets from the
exchanges tweepy recorded against the live API."""

from __future__ import annotations

import json
import logging
import socket
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from listener.cli.main import main
from listener.config import load_config
from listener.errors import PermanentSourceError, SourceError
from listener.pipeline.collect import collect as collect_step
from listener.sources.contract import SourceContext
from listener.sources.twitter import TwitterSettings, TwitterSource
from listener.storage import store
from listener.storage.models import Mention
from tests.conftest import ROOT
from tests.fakes.clock import FakeTime
from tests.fakes.twitter import (
    SNOWFLAKE_EPOCH_MS,
    FakeTwitter,
    Scripted,
    make_tweet,
    make_user,
    recorded_search_page,
    recorded_tweets,
    snowflake_time,
)

TOKEN = "AAAA-test-bearer-token-0123456789"
AFTER_RECORDING = datetime(2022, 10, 7, 22, 45, tzinfo=UTC)   # just after the recorded tweets
BRANDS = ["tweepy", "@twitter OR twitter"]
CONFIG = """
brands:
  - {name: Tweepy, query: tweepy}
  - {name: Twitter, query: "@twitter OR twitter"}
sources:
  twitter: {bearer_token: "${TWITTER_BEARER_TOKEN}", api_url: "URL", max_results: 10}
"""


@pytest.fixture()
def fake():
    with FakeTwitter(token=TOKEN) as server:
        yield server


def fill(fake: FakeTwitter, recorded) -> list[dict]:
    """The 20 recorded tweets, completed with created_at, lang, metrics and an author each."""
    tweets = []
    for i, t in enumerate(recorded_tweets(recorded)):
        author = make_user(str(1000 + i % 3), f"user{i % 3}", followers=100 * (i % 3 + 1))
        tweet, _ = make_tweet(t, author=author)
        fake.add(tweet, author)
        tweets.append(tweet)
    return tweets


def config(fake: FakeTwitter):
    return load_config(CONFIG.replace("URL", fake.url), env={"TWITTER_BEARER_TOKEN": TOKEN})


def source(fake: FakeTwitter, clock: FakeTime | None = None, token: str = TOKEN,
           **settings) -> TwitterSource:
    clock = clock or FakeTime(AFTER_RECORDING)
    return TwitterSource(SourceContext(
        TwitterSettings(bearer_token=token, api_url=fake.url, **{"max_results": 10, **settings}),
        queries=BRANDS, sleep=clock.sleep, wall_clock=clock))


def collect(engine, fake, src):
    return collect_step(engine, config=config(fake), name="twitter", source=src,
                            now=AFTER_RECORDING)


def stored(engine) -> list[Mention]:
    with Session(engine) as s:
        return list(s.exec(select(Mention).order_by(Mention.external_id)))


def cursor(engine) -> dict:
    with Session(engine) as s:
        return store.source_state(s, name="twitter").cursor


def test_a_page_of_recorded_tweets_is_stored_with_author_reach_time_url_and_language(
        sqlite_engine, fake, recorded):
    tweets = fill(fake, recorded)
    r = collect(sqlite_engine, fake, source(fake))
    assert (r.fetched, r.stored, r.dropped, r.error) == (10, 10, 0, None)

    (req,) = fake.requests
    assert req["auth"] == f"Bearer {TOKEN}"
    assert req["params"] == {
        "query": "tweepy OR @twitter OR twitter", "max_results": "10",
        "tweet.fields": "created_at,lang,public_metrics,author_id,conversation_id,"
                        "referenced_tweets",
        "expansions": "author_id", "user.fields": "username,public_metrics",
        "start_time": "2022-10-07T21:45:00Z"}

    newest = tweets[0]
    m = next(m for m in stored(sqlite_engine) if m.external_id == newest["id"])
    author = fake.users[newest["author_id"]]
    assert m.text == newest["text"] and m.lang == "en"
    assert m.author == author["username"]
    assert m.author_reach == author["public_metrics"]["followers_count"]
    assert m.url == f"https://x.com/{author['username']}/status/{newest['id']}"
    assert m.created_at.replace(tzinfo=UTC) == snowflake_time(newest["id"])
    assert m.raw["author"]["username"] == author["username"]
    assert m.raw["public_metrics"]["like_count"] == 1
    assert m.brand == "Twitter"          # '@Twitter @TwitterSupport this is my ENTIRE feed ...'


def test_a_restart_between_pages_continues_from_the_cursor_without_gap_or_repeat(
        sqlite_engine, fake, recorded):
    tweets = fill(fake, recorded)
    collect(sqlite_engine, fake, source(fake))                    # page 1 of 2
    first = cursor(sqlite_engine)["queries"]["tweepy OR @twitter OR twitter"]
    assert first["next_token"] and first["newest_id"] == tweets[0]["id"]
    assert "since_id" not in first

    late = make_user("2000", "latecomer", 5)
    new_id = str(int(tweets[0]["id"]) + 1000)
    fake.add(make_tweet({"id": new_id, "text": "tweepy posted after page 1"}, author=late)[0],
             late)

    r = collect(sqlite_engine, fake, source(fake))                # a new process: page 2
    assert (r.fetched, r.stored, r.duplicates) == (10, 10, 0)
    assert fake.requests[-1]["params"]["next_token"] == first["next_token"]
    done = cursor(sqlite_engine)["queries"]["tweepy OR @twitter OR twitter"]
    assert done == {"since_id": tweets[0]["id"]}                  # moved only after the last page

    r = collect(sqlite_engine, fake, source(fake))                # the next pagination
    assert fake.requests[-1]["params"]["since_id"] == tweets[0]["id"]
    assert "start_time" not in fake.requests[-1]["params"]
    assert (r.fetched, r.stored) == (1, 1)
    ids = [m.external_id for m in stored(sqlite_engine)]
    assert sorted(ids) == sorted([t["id"] for t in tweets] + [new_id])


def test_429_waits_until_the_reset_on_the_injected_clock_and_retries_the_same_page(
        sqlite_engine, fake, recorded, caplog):
    fill(fake, recorded)
    clock = FakeTime(AFTER_RECORDING)
    src = source(fake, clock)
    collect(sqlite_engine, fake, src)
    token = cursor(sqlite_engine)["queries"]["tweepy OR @twitter OR twitter"]["next_token"]
    reset = int((clock.now + timedelta(seconds=40)).timestamp())
    fake.script.append(Scripted(429, {"title": "Too Many Requests", "detail": "Too Many Requests",
                                      "type": "about:blank", "status": 429},
                                {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0",
                                 "x-rate-limit-reset": str(reset)}))
    with caplog.at_level(logging.WARNING):
        r = collect(sqlite_engine, fake, src)
    assert clock.slept == [41.0]
    assert (r.stored, r.error) == (10, None)
    assert [q["params"].get("next_token") for q in fake.requests[-2:]] == [token, token]
    assert "rate limited; waiting 41s until 22:45:40 UTC" in caplog.text
    assert len(stored(sqlite_engine)) == 20


def test_a_rate_limit_longer_than_max_wait_ends_the_run_and_nothing_is_asked_before_the_reset(
        sqlite_engine, fake, recorded):
    fill(fake, recorded)
    clock = FakeTime(AFTER_RECORDING)
    src = source(fake, clock, max_wait="1m")
    reset = int((clock.now + timedelta(minutes=10)).timestamp())
    fake.script.append(Scripted(429, {"title": "Too Many Requests"},
                                {"x-rate-limit-reset": str(reset)}))
    r = collect(sqlite_engine, fake, src)
    assert r.error == ("twitter: rate limited until 22:55:00 UTC (HTTP 429); the next run after "
                       "that retries the same page")
    assert cursor(sqlite_engine) is None and clock.slept == []
    clock.now += timedelta(minutes=5)
    asked = len(fake.requests)
    assert collect(sqlite_engine, fake, src).error == (
        "twitter: rate limited until 22:55:00 UTC (will retry then)")
    assert len(fake.requests) == asked
    clock.now += timedelta(minutes=6)
    assert collect(sqlite_engine, fake, src).stored == 10


def test_a_rate_limit_that_persists_after_two_resets_ends_the_run(sqlite_engine, fake):
    clock = FakeTime(AFTER_RECORDING)
    reset = str(int((clock.now + timedelta(seconds=9)).timestamp()))
    fake.script = [Scripted(429, {"title": "Too Many Requests"}, {"x-rate-limit-reset": reset})
                   ] * 3
    r = collect(sqlite_engine, fake, source(fake, clock))
    assert r.error == ("twitter: still rate limited after waiting for the reset twice "
                       "(will retry)")
    assert clock.slept == [10.0, 1.0] and len(fake.requests) == 3


@pytest.mark.parametrize("status, why", [
    (401, "the bearer token was refused"),
    (403, "the bearer token may not use recent search (the project's access level?)"),
])
def test_401_and_403_are_permanent_name_the_setting_and_never_show_the_token(
        sqlite_engine, fake, status, why, caplog):
    fake.script.append(Scripted(status, {"title": "Unauthorized", "status": status,
                                         "detail": "Unauthorized", "type": "about:blank"}))
    with caplog.at_level(logging.DEBUG), pytest.raises(PermanentSourceError) as info:
        collect(sqlite_engine, fake, source(fake))
    assert str(info.value) == (f"twitter: HTTP {status}: {why}; check "
                               "sources.twitter.bearer_token")
    assert "Making API request" in caplog.text            # tweepy's debug log was on ...
    assert TOKEN not in caplog.text                        # ... and redacted
    with Session(sqlite_engine) as s:
        assert TOKEN not in store.source_state(s, name="twitter").last_error


def test_a_wrong_token_is_refused_by_the_fake_like_the_api(sqlite_engine, fake):
    with pytest.raises(PermanentSourceError) as info:
        collect(sqlite_engine, fake, source(fake, token="not-the-token"))
    assert str(info.value) == ("twitter: HTTP 401: the bearer token was refused; check "
                               "sources.twitter.bearer_token")


@pytest.mark.parametrize("scripted, message", [
    (Scripted(503, {"title": "Service Unavailable"}),
     "twitter: search page: HTTP 503 (will retry)"),
    (Scripted(200, b"<html>upstream error</html>"),
     "twitter: search page: the answer is not JSON (will retry)"),
    (Scripted(200, b'["not", "a", "page"]'),
     "twitter: search page: the answer is not a JSON object (will retry)"),
    (Scripted(200, {"data": {"id": "1"}, "meta": {}}),
     "twitter: search page: 'data' is not a list (will retry)"),
])
def test_5xx_and_malformed_pages_are_retryable_and_leave_the_cursor(
        sqlite_engine, fake, recorded, scripted, message):
    fill(fake, recorded)
    fake.script.append(scripted)
    r = collect(sqlite_engine, fake, source(fake))
    assert r.error == message and r.stored == 0
    assert cursor(sqlite_engine) is None
    assert collect(sqlite_engine, fake, source(fake)).stored == 10   # the next run: same page


def test_a_timeout_is_retryable():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)                       # accepts the connection, never answers
    try:
        src = TwitterSource(SourceContext(TwitterSettings(
            bearer_token=TOKEN, api_url=f"http://127.0.0.1:{silent.getsockname()[1]}",
            timeout="200ms"), queries=BRANDS))
        with pytest.raises(SourceError) as info:
            src.fetch(None)
    finally:
        silent.close()
    assert str(info.value) == "twitter: search page: no answer within 0.2s (will retry)"
    assert not isinstance(info.value, PermanentSourceError)


def test_the_recorded_page_without_fields_or_authors_is_stored_with_what_it_has(
        sqlite_engine, fake, recorded):
    page = recorded_search_page(recorded)
    fake.script.append(Scripted(200, page["json"], {k: v for k, v in page["headers"].items()
                                                    if k.startswith("x-rate-limit")}))
    r = collect(sqlite_engine, fake, source(fake))
    assert (r.fetched, r.stored, r.malformed) == (10, 10, 0)
    m = next(m for m in stored(sqlite_engine) if m.external_id == "1578516068309794817")
    assert m.text == "2022-10-07 22:42:12.637103 tweepy"
    assert (m.author, m.author_reach, m.lang) == ("", 0, None)
    assert m.url == "https://x.com/i/web/status/1578516068309794817"
    # no created_at in the payload: the time in the tweet's id, just after the time it tells
    assert m.created_at.replace(tzinfo=UTC) == datetime(2022, 10, 7, 22, 42, 12, 752000, UTC)
    assert cursor(sqlite_engine)["queries"]["tweepy OR @twitter OR twitter"]["next_token"] == \
        page["json"]["meta"]["next_token"]


def test_unreadable_tweets_are_counted_a_repeated_one_is_stored_once_and_html_is_unescaped(
        sqlite_engine, fake, caplog):
    a, _ = make_tweet({"id": "1578516068309794817", "text": "tweepy &amp; &lt;3"})
    b, _ = make_tweet({"id": "1578516068309794818", "text": "tweepy again"})
    fake.script.append(Scripted(200, {
        "data": [a, b, a, {"id": "1578516068309794819"}, {"id": "x1", "text": "tweepy"},
                 "not a tweet"],
        "meta": {"newest_id": b["id"], "oldest_id": a["id"], "result_count": 6}}))
    with caplog.at_level(logging.WARNING):
        r = collect(sqlite_engine, fake, source(fake))
    assert (r.fetched, r.stored, r.duplicates, r.malformed) == (3, 2, 1, 3)
    assert "skipped malformed tweet 1578516068309794819: no text" in caplog.text
    assert "skipped malformed tweet x1: id 'x1' is not a tweet id" in caplog.text
    assert stored(sqlite_engine)[0].text == "tweepy & <3"
    assert cursor(sqlite_engine)["queries"]["tweepy OR @twitter OR twitter"] == {
        "since_id": b["id"]}


def test_an_empty_page_keeps_the_cursor_and_looks_back_again_next_time(sqlite_engine, fake):
    r = collect(sqlite_engine, fake, source(fake))
    assert (r.fetched, r.error) == (0, None)
    assert cursor(sqlite_engine) == {"queries": {"tweepy OR @twitter OR twitter": {}}}


def test_a_retweet_links_to_its_original(sqlite_engine, fake):
    user = make_user("7", "fan", 3)
    rt, _ = make_tweet({"id": "1578516068309794900", "text": "RT @lumi: tweepy rocks"},
                       author=user, retweet_of="1578516068309794817")
    fake.add(rt, user)
    collect(sqlite_engine, fake, source(fake))
    (m,) = stored(sqlite_engine)
    assert m.raw["retweet_of"] == "1578516068309794817"
    assert m.raw["referenced_tweets"] == [{"type": "retweeted", "id": "1578516068309794817"}]


def test_a_page_token_the_api_refuses_restarts_the_pagination(sqlite_engine, fake, recorded,
                                                              caplog):
    fill(fake, recorded)
    with Session(sqlite_engine) as s:
        state = store.source_state(s, name="twitter")
        state.cursor = {"queries": {"tweepy OR @twitter OR twitter": {
            "next_token": "expired", "start_time": "2022-10-07T21:45:00Z"}}}
        s.add(state)
        s.commit()
    with caplog.at_level(logging.WARNING):
        r = collect(sqlite_engine, fake, source(fake))
    assert r.stored == 10 and r.error is None
    assert "the API refused the cursor of 'tweepy OR @twitter OR twitter' (The `next_token` " \
           "query parameter value [expired] is not valid); starting that query over" in caplog.text
    assert [q["params"].get("next_token") for q in fake.requests] == ["expired", None]


def test_brand_queries_longer_than_the_limit_are_split_and_each_part_is_searched(fake):
    brands = [" OR ".join(f"brand{i}x{j}" for j in range(30)) for i in range(4)]
    src = TwitterSource(SourceContext(
        TwitterSettings(bearer_token=TOKEN, api_url=fake.url, lang="en"), queries=brands,
        wall_clock=lambda: AFTER_RECORDING))
    assert len(src.queries) > 1 and all(len(q) <= 512 for q in src.queries)
    assert all(q.endswith(" lang:en") for q in src.queries)
    batch = src.fetch(None)
    assert sorted(r["params"]["query"] for r in fake.requests) == sorted(src.queries)
    assert set(batch.cursor["queries"]) == set(src.queries)


def test_a_query_twitter_cannot_search_is_refused_when_the_source_is_built():
    with pytest.raises(PermanentSourceError) as info:
        TwitterSource(SourceContext(TwitterSettings(bearer_token=TOKEN), queries=["lang:en -job"]))
    assert str(info.value) == (
        "twitter: 'lang:en -job' cannot be searched on Twitter: it needs a word, a \"phrase\" or "
        "author: that Twitter can search for on its own (lang: and exclusions only narrow a "
        "search)")


# -- the command line ------------------------------------------------------------------------


def mint_id(at: datetime, seq: int) -> str:
    """A tweet id whose snowflake time is `at` (what the API would give a tweet posted then)."""
    return str(((int(at.timestamp() * 1000) - SNOWFLAKE_EPOCH_MS) << 22) + seq)


def test_collect_once_from_the_fake_api_then_list_the_mentions(tmp_path, fake, recorded):
    now = datetime.now(UTC).replace(microsecond=0)
    author = make_user("42", "lumifan", 1234)
    texts = [t["text"] for t in recorded_tweets(recorded)[:3]]
    for i, text in enumerate(texts):
        tweet, _ = make_tweet({"id": mint_id(now - timedelta(minutes=5 + i), i), "text": text},
                              author=author if i else None)   # the newest has no author
        fake.add(tweet, author)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(CONFIG.replace("URL", fake.url))
    env = {"LISTENER_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
           "TWITTER_BEARER_TOKEN": TOKEN}
    runner = CliRunner()
    res = runner.invoke(main, ["--config", str(cfg), "collect", "--once", "--source", "twitter"],
                        env=env)
    assert res.exit_code == 0, res.output
    assert res.output.strip() == ("twitter: fetched 3, stored 3, duplicates 0, not matching any "
                                  "brand 0, malformed 0")
    res = runner.invoke(main, ["--config", str(cfg), "mentions", "--format", "jsonl"], env=env)
    records = [json.loads(line) for line in res.output.splitlines()]
    assert [r["text"] for r in records] == texts[::-1]
    assert [r["author"] for r in records] == ["lumifan", "lumifan", ""]
    assert [r["author_reach"] for r in records] == [1234, 1234, 0]
    assert [r["created_at"] for r in records] == [
        (now - timedelta(minutes=5 + i)).isoformat().replace("+00:00", "Z") for i in (2, 1, 0)]
    assert all(r["source"] == "twitter" and r["url"].startswith("https://x.com/")
               for r in records)


def test_the_example_sources_config_passes_config_check():
    env = {"TWITTER_BEARER_TOKEN": TOKEN, "REDDIT_CLIENT_ID": "id",
           "REDDIT_CLIENT_SECRET": "secret", "TRUSTPILOT_API_KEY": "tp-key",
           "BLUESKY_APP_PASSWORD": "bsky-pass"}
    res = CliRunner().invoke(main, ["config", "check", str(ROOT / "examples" / "sources.yaml")],
                             env=env)
    assert res.exit_code == 0, res.output
    assert TOKEN not in res.output
