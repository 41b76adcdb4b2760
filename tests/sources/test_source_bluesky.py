"""Bluesky post search against a local fake of the PDS (createSession + searchPosts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from listener.errors import PermanentSourceError, SourceError
from listener.pipeline.collect import collect
from listener.sources.bluesky import BlueskySource
from listener.sources.contract import SourceContext
from tests.fakes.collecting import config_with, mentions, queries, state
from tests.fakes.opennets import FakeBluesky, bsky_post
from tests.fakes.webserver import NOT_JSON, Reply

NOW = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)
SEARCH = "/xrpc/app.bsky.feed.searchPosts"


def make(web, *, password: str = "app-pass-hunter2", per_page: int = 100, max_pages: int = 10,
         sleeps=None, now=NOW, timeout: str = "2s"):
    config = config_with(
        f"  bluesky:\n    api_url: {web.base_url}\n    handle: listener.bsky.social\n"
        f"    app_password: ${{BLUESKY_APP_PASSWORD}}\n    per_page: {per_page}\n"
        f"    max_pages: {max_pages}\n    timeout: {timeout}\n",
        env={"BLUESKY_APP_PASSWORD": password})
    source = BlueskySource(SourceContext(
        config.sources.bluesky, wall_clock=lambda: now[0] if isinstance(now, list) else now,
        queries=queries(config), session=requests.Session(),
        sleep=(sleeps.append if sleeps is not None else lambda s: None)))
    return config, source


def run(engine, config, source):
    return collect(engine, config=config, name="bluesky", source=source, now=NOW)


def failing_search(fake: FakeBluesky, *replies: Reply):
    """The fake's handler, answering the next searches with `replies` first."""
    queue = list(replies)

    def handler(req):
        if req.path == SEARCH and queue:
            return queue.pop(0)
        return fake.handler(req)
    return handler


def test_posts_found_by_the_brand_terms_are_stored_and_exclusions_dropped(sqlite_engine):
    bsky = FakeBluesky()
    bsky.add(handle="maria.bsky.social", rkey="3l2abc", text="A lumitoys lanterna queimou 🔥",
             created=NOW - timedelta(hours=2), langs=("pt-BR",))
    # a client may set any createdAt: Bluesky sorts by the earlier of it and indexedAt
    bsky.add(handle="ken.bsky.social", rkey="3l2abd", text="ルミトイズ lumitoys <b>熱い</b>",
             created=NOW + timedelta(days=30), indexed=NOW - timedelta(hours=1), langs=("ja",))
    bsky.add(handle="hr.bsky.social", rkey="3l2abe", text="lumitoys is hiring engineers",
             created=NOW - timedelta(minutes=30))
    bsky.add(handle="other.bsky.social", rkey="3l2abf", text="nothing about the brand",
             created=NOW - timedelta(minutes=10))
    with bsky.serve() as web:
        config, source = make(web)
        result = run(sqlite_engine, config, source)
        searches = [r for r in web.requests if r.path == SEARCH]
    assert (result.fetched, result.stored, result.dropped) == (3, 2, 1)  # "hiring" is excluded
    assert [r.query["q"] for r in searches] == ['"lumi toys"', "lumitoys", '"pumpkin glow"',
                                                "pumpkinglow"]
    assert searches[0].query["sort"] == "latest"
    assert searches[0].query["until"] == "2026-10-30T12:00:00Z"
    assert searches[0].query["since"] == "2026-10-29T11:50:00Z"  # lookback 1d, overlap 10m
    assert searches[0].headers["authorization"] == "Bearer access-jwt-1"
    maria, ken = mentions(sqlite_engine)
    assert maria.external_id.startswith("at://did:plc:") and maria.external_id.endswith("/3l2abc")
    assert (maria.author, maria.lang, maria.url) == (
        "maria.bsky.social", "pt", "https://bsky.app/profile/maria.bsky.social/post/3l2abc")
    assert maria.created_at == NOW - timedelta(hours=2)
    assert ken.created_at == NOW - timedelta(hours=1) and ken.text == "ルミトイズ lumitoys 熱い"
    assert maria.raw["record"]["langs"] == ["pt-BR"]


def test_a_restart_mid_drain_continues_from_the_cursor_without_gap_or_duplicate(sqlite_engine):
    bsky = FakeBluesky()
    for i in range(7):
        bsky.add(handle=f"u{i}.bsky.social", rkey=f"r{i}", text=f"lumitoys post {i}",
                 created=NOW - timedelta(hours=7 - i))
    clock = [NOW]
    with bsky.serve() as web:
        config, source = make(web, per_page=2, max_pages=2, now=clock)
        assert run(sqlite_engine, config, source).stored == 4
        assert state(sqlite_engine, "bluesky").cursor["keys"]["lumitoys"]["drain"]["page"] == "4"
        # posts arriving now are after the drain's upper bound: they wait for the next drain
        bsky.add(handle="late.bsky.social", rkey="late", text="lumitoys late",
                 created=NOW + timedelta(minutes=1))
        clock[0] = NOW + timedelta(minutes=5)
        _, restarted = make(web, per_page=2, max_pages=2, now=clock)
        stored = [run(sqlite_engine, config, restarted).stored for _ in range(3)]
    assert stored == [3, 1, 0]
    assert bsky.sessions == 2  # one sign-in per process, not per request
    assert sorted(m.author for m in mentions(sqlite_engine)) == sorted(
        [f"u{i}.bsky.social" for i in range(7)] + ["late.bsky.social"])
    assert state(sqlite_engine, "bluesky").duplicates == 0


def test_a_cursor_the_api_no_longer_accepts_restarts_the_drain_without_loss(sqlite_engine):
    bsky = FakeBluesky()
    for i in range(5):
        bsky.add(handle=f"u{i}.bsky.social", rkey=f"r{i}", text=f"lumitoys {i}",
                 created=NOW - timedelta(hours=5 - i))
    with bsky.serve() as web:
        config, source = make(web, per_page=2, max_pages=1)
        assert run(sqlite_engine, config, source).stored == 2
        bsky.reject_cursors = True
        second = run(sqlite_engine, config, source)  # restarts at the top: seen ids skipped
        bsky.reject_cursors = False
        rest = [run(sqlite_engine, config, source).stored for _ in range(3)]
    assert second.stored == 0 and second.error is None
    assert sum(rest) == 3 and len(mentions(sqlite_engine)) == 5
    assert state(sqlite_engine, "bluesky").duplicates == 0


def test_an_expired_token_signs_in_again_and_the_search_goes_on():
    bsky = FakeBluesky()
    bsky.add(handle="a.bsky.social", rkey="r1", text="lumitoys", created=NOW - timedelta(hours=1))
    with bsky.serve() as web:
        _, source = make(web)
        source.fetch(None)
        bsky.expire_next_search = True
        bsky.add(handle="b.bsky.social", rkey="r2", text="lumitoys again",
                 created=NOW - timedelta(minutes=30))
        batch = source.fetch(None)
    assert bsky.sessions == 2 and len(batch.mentions) == 2


def test_a_wrong_app_password_is_permanent_and_never_printed(sqlite_engine):
    with FakeBluesky().serve() as web:
        config, source = make(web, password="not-the-right-secret")
        with pytest.raises(PermanentSourceError) as info:
            run(sqlite_engine, config, source)
    assert str(info.value) == ("bluesky: sign-in: access refused (HTTP 401); check "
                               "sources.bluesky.handle and sources.bluesky.app_password")
    assert "not-the-right-secret" not in state(sqlite_engine, "bluesky").last_error


def test_posts_with_missing_fields_bad_times_or_repeated_are_counted_not_stored(sqlite_engine):
    good = bsky_post(handle="a.bsky.social", rkey="ok", text="lumitoys ok",
                     created=NOW - timedelta(hours=1))
    no_uri = {**good, "uri": None}
    no_text = {**good, "uri": good["uri"] + "x", "record": {**good["record"], "text": ""}}
    bad_time = {**good, "uri": good["uri"] + "y", "indexedAt": "soon",
                "record": {**good["record"], "createdAt": "yesterday"}}
    page = {"posts": [good, good, no_uri, no_text, bad_time, "junk"], "cursor": None}
    with FakeBluesky().serve() as web:
        fake_handler = web.handler
        web.handler = lambda req: Reply(200, page) if req.path == SEARCH else fake_handler(req)
        config, source = make(web)
        result = run(sqlite_engine, config, source)
    assert (result.stored, result.malformed, result.duplicates) == (1, 4 * 4, 0)


@pytest.mark.parametrize("reply, kind, message", [
    (NOT_JSON, SourceError, "bluesky: search '\"lumi toys\"': the answer is not JSON"),
    (Reply(200, {"posts": "none"}), SourceError,
     "bluesky: search '\"lumi toys\"': the answer has no posts"),
    (Reply(500, {"error": "InternalServerError"}), SourceError,
     "bluesky: search '\"lumi toys\"': HTTP 500"),
    (Reply(400, {"error": "BadQueryString", "message": "bad"}), SourceError,
     "bluesky: search '\"lumi toys\"': refused as BadQueryString"),
    (Reply(429, {"error": "RateLimitExceeded"}, headers={"Retry-After": "900"}), SourceError,
     "bluesky: search '\"lumi toys\"': rate limited (HTTP 429); the platform asks to wait 900s"),
    (Reply(200, {"posts": []}, delay=1.0), SourceError,
     "bluesky: search '\"lumi toys\"': no answer within 0.3s"),
    (Reply(403, {"error": "Forbidden"}), PermanentSourceError,
     "bluesky: search '\"lumi toys\"': access refused (HTTP 403); check sources.bluesky.handle "
     "and sources.bluesky.app_password"),
])
def test_each_failure_is_an_error_of_the_right_kind(reply, kind, message):
    bsky = FakeBluesky()
    with bsky.serve() as web:
        # every search fails the same way, so no search term can make progress
        web.handler = failing_search(bsky, *[reply] * 4)
        _, source = make(web, timeout="0.3s")
        with pytest.raises(kind) as info:
            source.fetch(None)
    assert str(info.value).split("; bluesky: ")[0].startswith(message)


def test_a_429_waits_for_the_ratelimit_reset_on_the_injected_sleep():
    import time
    bsky = FakeBluesky()
    bsky.add(handle="a.bsky.social", rkey="r1", text="lumitoys", created=NOW - timedelta(hours=1))
    sleeps: list[float] = []
    with bsky.serve() as web:
        reset = str(int(time.time()) + 20)
        web.handler = failing_search(bsky, Reply(429, {"error": "RateLimitExceeded"},
                                                 headers={"RateLimit-Reset": reset}))
        batch = make(web, sleeps=sleeps)[1].fetch(None)
    assert len(sleeps) == 1 and 15 <= sleeps[0] <= 20
    assert [m.author for m in batch.mentions] == ["a.bsky.social"]
