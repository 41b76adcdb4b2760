"""App Store reviews against a local fake of Apple's customer-review JSON feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import requests

from listener.errors import PermanentSourceError, SourceError
from listener.pipeline.collect import collect
from listener.sources.appstore import AppStoreSource
from listener.sources.contract import SourceContext
from tests.fakes.collecting import config_with, mentions, queries, state
from tests.fakes.reviews import FakeAppStore, appstore_entry, appstore_feed
from tests.fakes.webserver import NOT_JSON, FakeWeb, Reply

APP = 1234567890
NOW = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)
PDT = timezone(timedelta(hours=-7))  # Apple dates reviews in the store's local time


def make(web, *, max_pages: int = 10, sleeps: list | None = None, now=NOW, timeout="2s"):
    config = config_with(
        f"  appstore:\n    api_url: {web.base_url}\n    apps: [{{id: {APP}, country: us}}]\n"
        f"    max_pages: {max_pages}\n    timeout: {timeout}\n")
    source = AppStoreSource(SourceContext(
        config.sources.appstore, wall_clock=lambda: now, queries=queries(config),
        session=requests.Session(),
        sleep=(sleeps.append if sleeps is not None else lambda s: None)))
    return config, source


def run(engine, config, source, now=NOW):
    return collect(engine, config=config, name="appstore", source=source, now=now)


def test_reviews_are_stored_with_their_fields_and_a_non_matching_one_is_dropped(sqlite_engine):
    apple = FakeAppStore()
    apple.add(APP, id="9001", updated=datetime(2026, 10, 29, 12, 15, tzinfo=PDT),
              title="Pumpkin Glow got <b>hot</b>", content="The Lumi Toys flashlight burned my "
              "daughter&#39;s hand &amp; I want a refund", author="worried mom", rating=1)
    apple.add(APP, id="9002", updated=datetime(2026, 10, 30, 3, 0, tzinfo=UTC),
              title="Great game", content="Nothing to do with the brand", rating=5)
    apple.add(APP, id="9003", updated=datetime(2026, 10, 30, 4, 0, tzinfo=UTC),
              title="ルミトイズ 🔦", content="lumitoys のライトが熱くなった 🔥😱", author="たろう",
              rating=2)
    with apple.serve() as web:
        config, source = make(web)
        result = run(sqlite_engine, config, source)
    assert (result.fetched, result.stored, result.dropped, result.error) == (3, 2, 1, None)
    first, second = mentions(sqlite_engine)
    assert first.external_id == "us:9001" and first.source == "appstore"
    assert first.created_at == datetime(2026, 10, 29, 19, 15, tzinfo=UTC)
    assert first.text == ("Pumpkin Glow got hot\nThe Lumi Toys flashlight burned my "
                          "daughter&#39;s hand &amp; I want a refund")
    assert first.author == "worried mom" and first.lang is None
    assert first.url == f"https://apps.apple.com/us/app/id{APP}?see-all=reviews"
    assert first.raw["rating"] == 1 and first.raw["im:rating"] == {"label": "1"}
    assert first.brand == "Lumi Toys" and first.product == "Pumpkin Glow flashlight"
    assert second.text == "ルミトイズ 🔦\nlumitoys のライトが熱くなった 🔥😱"
    assert state(sqlite_engine, "appstore").dropped == 1


def test_html_typed_into_a_review_is_stripped_and_plain_angle_brackets_survive():
    apple = FakeAppStore()
    apple.add(APP, id="1", updated=NOW - timedelta(hours=1), title="lumitoys <3",
              content="5 < 6 and I <3 it")
    apple.add(APP, id="2", updated=NOW - timedelta(hours=2), title="lumitoys",
              content="<p>It <i>melted</i><br>badly</p><script>alert(1)</script>")
    with apple.serve() as web:
        batch = make(web)[1].fetch(None)
    assert [m.text for m in batch.mentions] == ["lumitoys <3\n5 < 6 and I <3 it",
                                                "lumitoys\nIt melted\nbadly"]


def test_a_restart_between_pages_continues_from_the_cursor_without_gap_or_duplicate(
        sqlite_engine):
    apple = FakeAppStore()
    for i in range(120):  # three pages of 50
        apple.add(APP, id=str(5000 + i), updated=NOW - timedelta(minutes=120 - i),
                  title="lumitoys", content=f"review {i}")
    with apple.serve() as web:
        config, source = make(web, max_pages=1)
        r1 = run(sqlite_engine, config, source)
        cursor = state(sqlite_engine, "appstore").cursor["keys"][f"us/{APP}"]
        assert r1.stored == 50 and cursor["drain"]["page"] == 2
        # five new reviews arrive on top, pushing every older one down the pages
        for i in range(5):
            apple.add(APP, id=str(7000 + i), updated=NOW - timedelta(seconds=30 - i),
                      title="lumitoys", content=f"new {i}")
        _, restarted = make(web, max_pages=1)  # a new process: only the stored cursor remains
        results = [run(sqlite_engine, config, restarted) for _ in range(3)]
        assert [r.stored for r in results] == [45, 25, 0]  # page 2 repeats 5 (dropped as seen)
        assert sum(r.duplicates for r in results) == 0
        # the drain is over: the new reviews are read from the top on the next run
        final = run(sqlite_engine, config, restarted)
    stored = {m.external_id for m in mentions(sqlite_engine)}
    assert final.stored == 5
    assert stored == {f"us:{5000 + i}" for i in range(120)} | {f"us:{7000 + i}" for i in range(5)}
    assert len(mentions(sqlite_engine)) == 125


def test_a_one_review_feed_an_app_entry_a_repeat_missing_fields_and_an_empty_page(sqlite_engine):
    good = appstore_entry(id="1", updated=NOW - timedelta(hours=1), title="lumitoys", content="ok")
    app_entry = {"im:name": {"label": "Lumi Glow"}, "id": {"label": "https://apps.apple.com/x"}}
    no_id = appstore_entry(id="", updated=NOW, title="lumitoys", content="x")
    no_time = {k: v for k, v in appstore_entry(id="3", updated=NOW, title="lumitoys",
                                               content="x").items() if k != "updated"}
    no_text = appstore_entry(id="4", updated=NOW, title="", content="")
    pages = [appstore_feed([app_entry, good, good, no_id, no_time, no_text, "junk"],
                           country="us", app_id=APP, page=1),
             appstore_feed(None, country="us", app_id=APP, page=2)]
    web_pages = iter(pages)
    with FakeWeb(lambda req: Reply(200, next(web_pages))) as web:
        config, source = make(web)
        result = run(sqlite_engine, config, source)
    assert (result.stored, result.malformed, result.duplicates, result.error) == (1, 4, 0, None)
    # a feed holding one review sends an object, not a list
    single = appstore_feed(good, country="us", app_id=APP, page=1)
    empty = appstore_feed(None, country="us", app_id=APP, page=2)
    with FakeWeb(lambda req: Reply(200, single if "page=1/" in req.path else empty)) as web:
        batch = make(web)[1].fetch(None)
    assert [m.external_id for m in batch.mentions] == ["us:1"]


@pytest.mark.parametrize("reply, kind, message", [
    (NOT_JSON, SourceError, "appstore: app 1234567890 (us), page 1: the answer is not JSON"),
    (Reply(200, {"unexpected": True}), SourceError,
     "appstore: app 1234567890 (us), page 1: the answer has no feed"),
    (Reply(500, "oops", content_type="text/plain"), SourceError,
     "appstore: app 1234567890 (us), page 1: HTTP 500"),
    (Reply(429, "slow down", headers={"Retry-After": "3600"}), SourceError,
     "appstore: app 1234567890 (us), page 1: rate limited (HTTP 429); the platform asks to "
     "wait 3600s"),
    (Reply(403, "Forbidden"), PermanentSourceError,
     "appstore: app 1234567890 (us), page 1: access refused (HTTP 403); check "
     "sources.appstore.apps[0] (id and country)"),
    (Reply(404, "Not Found"), PermanentSourceError,
     "appstore: app 1234567890 (us), page 1: not found (HTTP 404); check sources.appstore.apps[0]"),
    (Reply(200, {"feed": {}}, delay=1.0), SourceError,
     "appstore: app 1234567890 (us), page 1: no answer within 0.3s"),
])
def test_each_failure_is_an_error_of_the_right_kind_and_nothing_moves(sqlite_engine, reply, kind,
                                                                      message):
    apple = FakeAppStore()
    apple.add(APP, id="1", updated=NOW - timedelta(hours=1), title="lumitoys", content="x")
    with apple.serve() as web:
        config, source = make(web, timeout="0.3s")
        web.fail_next(reply)
        with pytest.raises(kind) as info:
            source.fetch(None)
        assert str(info.value).startswith(message)
        # through the pipeline: a retryable error is recorded, a permanent one raised
        web.fail_next(reply)
        if kind is PermanentSourceError:
            with pytest.raises(PermanentSourceError):
                run(sqlite_engine, config, source)
        else:
            assert run(sqlite_engine, config, source).error.startswith(message)
        assert mentions(sqlite_engine) == [] and state(sqlite_engine, "appstore").cursor is None
        assert run(sqlite_engine, config, source).stored == 1  # and the next run recovers


def test_a_429_with_a_short_retry_after_waits_on_the_injected_sleep_and_keeps_the_page():
    apple = FakeAppStore()
    apple.add(APP, id="1", updated=NOW - timedelta(hours=1), title="lumitoys", content="x")
    sleeps: list[float] = []
    with apple.serve() as web:
        web.fail_next(Reply(429, "", headers={"Retry-After": "7"}))
        batch = make(web, sleeps=sleeps)[1].fetch(None)
    assert sleeps == [7.0] and [m.external_id for m in batch.mentions] == ["us:1"]


def test_a_failing_second_page_keeps_the_first_and_resumes_at_the_second(sqlite_engine):
    apple = FakeAppStore()
    for i in range(60):
        apple.add(APP, id=str(i), updated=NOW - timedelta(minutes=60 - i), title="lumitoys",
                  content=f"r{i}")
    with apple.serve() as web:
        config, source = make(web)
        web.handler = lambda req: Reply(500, "") if "page=2/" in req.path else apple.handler(req)
        first = run(sqlite_engine, config, source)
        web.handler = apple.handler
        second = run(sqlite_engine, config, source)
    assert (first.stored, first.error, second.stored) == (50, None, 10)
    assert len({m.external_id for m in mentions(sqlite_engine)}) == 60
