"""Backfill: a source's history read once, through the same store path, its cursor untouched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from click.testing import CliRunner

from listener.cli.context import Ctx
from listener.cli.main import main
from listener.config import load_config
from listener.errors import ListenerError
from listener.sources.twitter import RECENT_SEARCH_REACH
from listener.tools.backfill import backfill, build_backfill_source, state_name
from tests.fakes.collecting import config_with, mentions, state
from tests.fakes.opennets import FakeHackerNews, hn_story
from tests.fakes.twitter import SNOWFLAKE_EPOCH_MS, FakeTwitter, make_tweet, make_user
from tests.fakes.webserver import Reply

NOW = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)
TOKEN = "AAAA-test-bearer-token-0123456789"


def test_backfill_hackernews_from_the_cli_with_a_progress_bar_and_idempotent(tmp_path):
    now = datetime.now(UTC)
    hn = FakeHackerNews()
    for i, days in enumerate([0.8, 2, 3, 4, 6, 10]):
        hn.add(hn_story(id=100 + i, created=now - timedelta(days=days),
                        title=f"lumitoys story {i}"))
    with hn.serve() as web:
        path = tmp_path / "config.yaml"
        path.write_text("brands:\n  - {name: Lumi Toys, query: lumitoys}\nsources:\n"
                        f"  hackernews: {{api_url: '{web.base_url}', per_page: 2, "
                        "max_pages: 1}\n")
        env = {"LISTENER_DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}"}
        args = ["--config", str(path)]
        runner = CliRunner()
        res = runner.invoke(main, [*args, "collect", "--once"], env=env)
        assert "stored 1," in res.output                   # the usual lookback: 1 day
        engine = Ctx(path, env["LISTENER_DATABASE_URL"], 0).engine()
        cursor = state(engine, "hackernews").cursor
        res = runner.invoke(main, [*args, "backfill", "--source", "hackernews", "--since", "7d"],
                            env=env)
        assert res.exit_code == 0, res.output
        again = runner.invoke(main, [*args, "backfill", "--source", "hackernews", "--since",
                                     "7d"], env=env)
    assert "backfill hackernews" in res.output            # tqdm's bar (stderr, mixed in)
    assert res.output.rstrip().endswith(
        "hackernews: backfilled 3 run(s): fetched 5, stored 4, duplicates 1, not matching any "
        "brand 0, malformed 0")
    assert "fetched 5, stored 0, duplicates 5" in again.output
    assert sorted(m.external_id for m in mentions(engine)) == ["100", "101", "102", "103", "104"]
    assert state(engine, "hackernews").cursor == cursor    # the daemon's place is kept
    assert state(engine, state_name("hackernews")).stored == 4


def tweet_id(when: datetime, n: int) -> str:
    return str((int(when.timestamp() * 1000) - SNOWFLAKE_EPOCH_MS) << 22 | n)


def test_backfill_twitter_pages_through_recent_search_cut_to_seven_days(engine, caplog):
    user = make_user("9", "ann", 50)
    with FakeTwitter(token=TOKEN) as fake:
        for i in range(25):
            fake.add(*make_tweet({"id": tweet_id(NOW - timedelta(hours=6 * i + 1), i),
                                  "text": f"lumitoys tweet {i}"}, author=user))
        config = load_config(
            "brands:\n  - {name: Lumi Toys, query: lumitoys}\nsources:\n"
            f"  twitter: {{bearer_token: '${{T}}', api_url: '{fake.url}', max_results: 10}}\n",
            env={"T": TOKEN})
        source = build_backfill_source(config, None, "twitter", timedelta(days=30),
                                       wall_clock=lambda: NOW, sleep=lambda s: None)
        runs = []
        result = backfill(engine, config=config, name="twitter", source=source, now=NOW,
                          progress=runs.append)
        starts = {r["params"].get("start_time") for r in fake.requests}
    assert "twitter reaches back 7 days, 0:00:00 at most" in caplog.text
    assert starts == {(NOW - RECENT_SEARCH_REACH).strftime("%Y-%m-%dT%H:%M:%SZ")}
    # 6-hourly tweets over 7 days: 28 would fit, 25 exist; pages of 10
    assert (result.runs, result.stored, result.error) == (3, 25, None)
    assert [r.fetched for r in runs] == [10, 10, 5]
    assert state(engine, "twitter") is None
    assert len(mentions(engine)) == 25


@pytest.mark.parametrize("block, name, message", [
    ("  rss: {feeds: ['https://example.com/f.xml']}\n", "rss",
     "rss cannot backfill (its API lists no history); sources that can: appstore, bluesky, "
     "hackernews, reddit, trustpilot, twitter"),
    ("  rss: {feeds: ['https://example.com/f.xml']}\n", "twitter",
     "source 'twitter' is not configured; configured: rss"),
])
def test_sources_that_cannot_backfill_say_so(block, name, message):
    with pytest.raises(ListenerError) as info:
        build_backfill_source(config_with(block), None, name, timedelta(days=7))
    assert str(info.value) == message


def hn_backfill(engine, web, query: str, fail):
    config = load_config(f"brands:\n  - {{name: Lumi Toys, query: '{query}'}}\nsources:\n"
                         f"  hackernews: {{api_url: '{web.base_url}', per_page: 1, "
                         "max_pages: 1}\n", env={})
    source = build_backfill_source(config, None, "hackernews", timedelta(days=7),
                                   wall_clock=lambda: NOW, session=requests.Session())
    calls = []

    def progress(r):
        calls.append(r)
        fail(web, len(calls))
    return backfill(engine, config=config, name="hackernews", source=source, now=NOW,
                    progress=progress)


def fail_before_runs(runs: set[int], times: int = 1):
    def fail(web, done: int) -> None:
        if done + 1 in runs:
            for _ in range(times):
                web.fail_next(Reply(500, {"message": "oops"}))
    return fail


@pytest.mark.parametrize("query, fail, stored, runs, error", [
    # a later page fails: what came before is kept and the backfill says where it stopped
    ("lumitoys", fail_before_runs({3}), 2, 3, "hackernews: search 'lumitoys', page 3: HTTP 500"),
    # a term's first page fails once: the next run reads it again
    ("lumitoys OR pumpkinglow", fail_before_runs({1}), 4, 5, None),
    # ... and keeps failing: the backfill stops, naming it
    ("lumitoys OR pumpkinglow", fail_before_runs({1, 2}), 0, 2,
     "lumitoys: could not be read (see the warnings above)"),
], ids=["later-page", "first-page-once", "first-page-twice"])
def test_a_failing_backfill_keeps_what_came_before(sqlite_engine, query, fail, stored, runs,
                                                   error):
    hn = FakeHackerNews()
    for i in range(4):
        hn.add(hn_story(id=i, created=NOW - timedelta(days=i + 1), title=f"lumitoys {i}"))
    with hn.serve() as web:
        fail(web, 0)
        result = hn_backfill(sqlite_engine, web, query, fail)
    assert (result.stored, result.runs, result.error) == (stored, runs, error)
