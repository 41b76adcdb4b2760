"""Source health recorded by each collect run, `listener sources`, and the clocks `collect
--once` gives the sources."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
import requests
from click.testing import CliRunner

from listener.cli.main import main
from listener.daemon.runner import build_sources
from listener.errors import PermanentSourceError, RateLimited, SourceError
from listener.pipeline.collect import collect
from listener.pipeline.health import FAILING_AFTER, error_kind
from listener.sources.contract import SourceContext, WaitCounter
from listener.sources.hackernews import HackerNewsSource
from tests.conftest import ROOT
from tests.fakes.collecting import config_with, state
from tests.fakes.opennets import FakeHackerNews, hn_story
from tests.fakes.webserver import Reply

NOW = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("exc, kind", [
    (PermanentSourceError("twitter: HTTP 401: the bearer token was refused"), "permanent"),
    (RateLimited("hackernews: search 'x', page 1: rate limited (HTTP 429)", 60), "rate_limited"),
    (SourceError("twitter: rate limited until 12:00:00 UTC (will retry then)"), "rate_limited"),
    (SourceError("appstore: app 1 (us), page 1: no answer within 20s"), "timeout"),
    (SourceError("bluesky: search 'x': cannot connect (ConnectionError)"), "connection"),
    (SourceError("hackernews: search 'x', page 1: HTTP 500"), "http"),
    (SourceError("twitter: search page: HTTP 503 (will retry)"), "http"),
    (SourceError("hackernews: search 'x', page 1: the answer is not JSON (41 bytes)"),
     "bad_answer"),
    (SourceError("hackernews: search 'x', page 1: the answer has no hits"), "bad_answer"),
    (SourceError("something else"), "other"),
])
def test_errors_are_counted_by_kind(exc, kind):
    assert error_kind(exc) == kind


def make(web, sleeps: list[float]):
    config = config_with(f"  hackernews:\n    api_url: {web.base_url}\n    timeout: 2s\n")
    source = HackerNewsSource(SourceContext(config.sources.hackernews, wall_clock=lambda: NOW,
                                            queries=["lumitoys"], session=requests.Session(),
                                            sleep=sleeps.append))
    return config, source


def test_each_run_records_health_and_repeated_failures_are_logged_as_errors(engine, caplog):
    hn = FakeHackerNews()
    hn.add(hn_story(id=1, created=NOW - timedelta(hours=2), title="lumitoys one"))
    hn.add(hn_story(id=2, created=NOW - timedelta(hours=1), title="lumitoys two"))
    sleeps = []
    with hn.serve() as web:
        config, source = make(web, sleeps)
        web.fail_next(Reply(429, {"message": "slow"}, headers={"Retry-After": "2"}))
        assert collect(engine, config=config, name="hackernews", source=source, now=NOW).stored == 2
        ok = state(engine, "hackernews")
        assert (ok.runs, ok.last_success_at, ok.newest_mention_at) == (
            1, NOW, NOW - timedelta(hours=1))
        assert (ok.rate_limit_waits, ok.last_run_mentions, ok.mentions_per_run) == (1, 2, 2.0)
        assert sleeps == [2.0] and source.context.waits.count == 1   # the wait it recorded
        caplog.set_level(logging.WARNING, logger="listener.pipeline.collect")
        for i in range(FAILING_AFTER):
            web.fail_next(Reply(500, {"message": "oops"}))
            r = collect(engine, config=config, name="hackernews", source=source,
                        now=NOW + timedelta(minutes=5 * (i + 1)))
            assert r.error == "hackernews: search 'lumitoys', page 1: HTTP 500"
        web.fail_next(Reply(200, b"<html>", headers={"Content-Type": "text/html"}))
        collect(engine, config=config, name="hackernews", source=source,
                now=NOW + timedelta(minutes=20))
        bad = state(engine, "hackernews")
        later = NOW + timedelta(minutes=25)
        assert collect(engine, config=config, name="hackernews", source=source,
                       now=later).error is None
    assert (bad.consecutive_failures, bad.errors) == (4, {"http": 3, "bad_answer": 1})
    assert (bad.last_success_at, bad.last_run_mentions) == (NOW, 0)
    assert "not JSON" in bad.last_error
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [
        "source hackernews has failed 3 runs in a row; last error: hackernews: search "
        "'lumitoys', page 1: HTTP 500",
        "source hackernews has failed 4 runs in a row; last error: hackernews: search "
        "'lumitoys', page 1: the answer is not JSON (6 bytes)"]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING
                and r.name == "listener.pipeline.collect"]
    assert len(warnings) == FAILING_AFTER - 1
    recovered = state(engine, "hackernews")
    assert (recovered.consecutive_failures, recovered.last_success_at, recovered.runs) == (
        0, later, 6)
    assert recovered.mentions_per_run == pytest.approx(0.8 * 2)   # over the runs that worked


def test_a_permanent_failure_is_recorded_before_it_is_raised(engine):
    hn = FakeHackerNews()
    with hn.serve() as web:
        config, source = make(web, [])
        web.fail_next(Reply(403, {"message": "no"}))
        with pytest.raises(PermanentSourceError):
            collect(engine, config=config, name="hackernews", source=source, now=NOW)
    st = state(engine, "hackernews")
    assert (st.errors, st.consecutive_failures, st.last_success_at) == ({"permanent": 1}, 1, None)


def test_collect_once_gives_the_far_future_clock_to_the_replay_only(tmp_path):
    config = config_with(
        f"  replay: {{path: {ROOT / 'listener/data/demo_stream.jsonl'}}}\n"
        "  hackernews: {api_url: 'http://127.0.0.1:9'}\n")
    real = lambda: NOW  # noqa: E731
    far = lambda: datetime.max.replace(tzinfo=UTC)  # noqa: E731
    built = build_sources(config, tmp_path, clock=real, clocks={"replay": far})
    assert built["replay"].context.clock is far
    assert built["hackernews"].context.clock is real
    assert isinstance(built["hackernews"].context.waits, WaitCounter)
    assert built["hackernews"].api.sleep is built["hackernews"].context.waits
    assert built["hackernews"].context.waits is not built["replay"].context.waits


def test_listener_sources_shows_health_as_a_table_and_as_jsonl(tmp_path):
    hn = FakeHackerNews()
    hn.add(hn_story(id=1, created=datetime.now(UTC) - timedelta(hours=2), title="lumitoys"))
    with hn.serve() as web:
        path = tmp_path / "config.yaml"
        path.write_text("brands:\n  - {name: Lumi Toys, query: lumitoys}\nsources:\n"
                        f"  hackernews: {{api_url: '{web.base_url}'}}\n"
                        "  rss: {feeds: ['http://127.0.0.1:9/feed.xml'], timeout: 1s}\n")
        env = {"LISTENER_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"}
        args = ["--config", str(path)]
        runner = CliRunner()
        res = runner.invoke(main, [*args, "collect", "--once"], env=env)
        assert res.exit_code == 0, res.output
        res = runner.invoke(main, [*args, "sources", "--format", "jsonl"], env=env)
        table = runner.invoke(main, [*args, "sources"], env=env)
    assert res.exit_code == 0, res.output
    rss_rec, hn_rec = [json.loads(line) for line in res.output.splitlines()]  # registry order
    assert (hn_rec["source"], hn_rec["status"], hn_rec["stored"], hn_rec["errors"]) == (
        "hackernews", "ok", 1, {})
    assert 7100 < hn_rec["lag_seconds"] < 7300
    assert (rss_rec["source"], rss_rec["status"], rss_rec["errors"]) == (
        "rss", "error", {"connection": 1})
    lines = table.output.splitlines()
    assert lines[0].split()[:4] == ["source", "status", "last_success", "lag"]
    assert lines[1].split()[:2] == ["rss", "error"] and "connection 1" in lines[1]
    assert lines[2].split()[:2] == ["hackernews", "ok"] and " 2h " in lines[2]
    assert lines[-1] == "(2 rows)"
