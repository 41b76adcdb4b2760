"""Trustpilot reviews against a local fake of the business-units reviews endpoint."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
import requests

from listener.errors import PermanentSourceError, SourceError
from listener.pipeline.collect import collect
from listener.sources.contract import SourceContext
from listener.sources.trustpilot import TrustpilotSource
from tests.fakes.collecting import config_with, mentions, queries, state
from tests.fakes.reviews import FakeTrustpilot, trustpilot_review
from tests.fakes.webserver import NOT_JSON, FakeWeb, Reply

NOW = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)
KEY = "tp-key-hunter2"
BU = "46d6a890ffa235a75b00021d"


def make(web, *, key: str = KEY, per_page: int = 100, max_pages: int = 10, sleeps=None,
         timeout: str = "2s"):
    config = config_with(
        f"  trustpilot:\n    api_url: {web.base_url}\n    api_key: ${{TRUSTPILOT_API_KEY}}\n"
        f"    business_unit_id: {BU}\n    per_page: {per_page}\n    max_pages: {max_pages}\n"
        f"    timeout: {timeout}\n", env={"TRUSTPILOT_API_KEY": key})
    source = TrustpilotSource(SourceContext(
        config.sources.trustpilot, wall_clock=lambda: NOW, queries=queries(config),
        session=requests.Session(),
        sleep=(sleeps.append if sleeps is not None else lambda s: None)))
    return config, source


def run(engine, config, source):
    return collect(engine, config=config, name="trustpilot", source=source, now=NOW)


def test_reviews_are_stored_and_a_review_not_about_the_brand_is_counted_as_dropped(
        sqlite_engine):
    tp = FakeTrustpilot()
    tp.add(id="r1", created=NOW - timedelta(hours=3), title="Lumi Toys <b>recall</b>?",
           text="The pumpkin glow light got too hot &amp; melted.", name="Sam K.", stars=1)
    tp.add(id="r2", created=NOW - timedelta(hours=2), title="Fast shipping",
           text="Arrived quickly, nice box.", stars=5)
    tp.add(id="r3", created=NOW - timedelta(hours=1), title="Пожар",
           text="lumitoys фонарик загорелся 🔥", name="Ирина", stars=1, language="ru")
    with tp.serve() as web:
        config, source = make(web)
        result = run(sqlite_engine, config, source)
        assert web.requests[0].headers["apikey"] == KEY
        assert KEY not in web.requests[0].path and not web.requests[0].query.get("apikey")
    assert (result.fetched, result.stored, result.dropped) == (3, 2, 1)
    first, second = mentions(sqlite_engine)
    assert (first.external_id, first.author, first.lang, first.product) == (
        "r1", "Sam K.", "en", "Pumpkin Glow flashlight")
    assert first.text == "Lumi Toys recall?\nThe pumpkin glow light got too hot &amp; melted."
    assert first.created_at == NOW - timedelta(hours=3)
    assert first.url == "https://www.trustpilot.com/reviews/r1" and first.raw["stars"] == 1
    assert (second.text, second.lang) == ("Пожар\nlumitoys фонарик загорелся 🔥", "ru")


def test_a_restart_between_pages_continues_from_the_cursor_without_gap_or_duplicate(
        sqlite_engine):
    tp = FakeTrustpilot()
    for i in range(25):
        tp.add(id=f"old{i:02d}", created=NOW - timedelta(hours=30 - i), title="lumitoys",
               text=f"review {i}")
    with tp.serve() as web:
        config, source = make(web, per_page=10, max_pages=1)
        assert run(sqlite_engine, config, source).stored == 10
        tp.add(id="new", created=NOW - timedelta(minutes=5), title="lumitoys", text="fresh")
        _, restarted = make(web, per_page=10, max_pages=1)
        stored = [run(sqlite_engine, config, restarted).stored for _ in range(4)]
    # pages 2 and 3 of the drain (the new review pushed one old one back onto page 2, where it
    # is recognised as seen), then the new review on top
    assert stored == [9, 6, 1, 0]
    assert sorted(m.external_id for m in mentions(sqlite_engine)) == sorted(
        [f"old{i:02d}" for i in range(25)] + ["new"])
    assert state(sqlite_engine, "trustpilot").duplicates == 0


def test_missing_fields_a_repeated_review_and_an_empty_page(sqlite_engine, caplog):
    good = trustpilot_review(id="ok", created=NOW - timedelta(hours=1), title="lumitoys",
                             text="fine")
    broken = [{**good, "id": None}, {k: v for k, v in good.items() if k != "createdAt"},
              {**good, "id": "t", "title": "", "text": ""}, {**good, "id": "d",
                                                            "createdAt": "yesterday"}, 7]
    pages = iter([{"links": [{"rel": "next-page", "href": "x", "method": "GET"}],
                   "reviews": [good, good, *broken]},
                  {"links": [], "reviews": []}])
    with FakeWeb(lambda req: Reply(200, next(pages))) as web, caplog.at_level(logging.WARNING):
        config, source = make(web)
        result = run(sqlite_engine, config, source)
    assert (result.stored, result.malformed, result.error) == (1, 5, None)
    assert "trustpilot: reviews of business unit 46d6a890ffa235a75b00021d, page 1: skipped a " \
           "review: missing id" in caplog.text


@pytest.mark.parametrize("reply, kind, message", [
    (NOT_JSON, SourceError, "trustpilot: reviews of business unit 46d6a890ffa235a75b00021d, "
                            "page 1: the answer is not JSON"),
    (Reply(200, {"reviews": "nope"}), SourceError,
     "trustpilot: reviews of business unit 46d6a890ffa235a75b00021d, page 1: the answer has no "
     "list of reviews"),
    (Reply(500, {"message": "Internal"}), SourceError,
     "trustpilot: reviews of business unit 46d6a890ffa235a75b00021d, page 1: HTTP 500"),
    (Reply(429, {"message": "Too many"}, headers={"Retry-After": "600"}), SourceError,
     "trustpilot: reviews of business unit 46d6a890ffa235a75b00021d, page 1: rate limited"),
    (Reply(200, {"reviews": []}, delay=1.0), SourceError,
     "trustpilot: reviews of business unit 46d6a890ffa235a75b00021d, page 1: no answer within"),
    (Reply(404, {"message": "Business unit not found"}), PermanentSourceError,
     "trustpilot: reviews of business unit 46d6a890ffa235a75b00021d, page 1: not found (HTTP "
     "404); check sources.trustpilot.business_unit_id"),
])
def test_each_failure_is_an_error_of_the_right_kind(sqlite_engine, reply, kind, message):
    tp = FakeTrustpilot()
    tp.add(id="r1", created=NOW - timedelta(hours=1), title="lumitoys", text="x")
    with tp.serve() as web:
        config, source = make(web, timeout="0.3s")
        web.fail_next(reply)
        with pytest.raises(kind, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
            source.fetch(None)
        assert run(sqlite_engine, config, source).stored == 1  # the next run recovers


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_is_permanent_names_the_setting_and_never_the_key(sqlite_engine, status):
    tp = FakeTrustpilot()
    with tp.serve() as web:
        config, source = make(web, key="wrong-secret-value")
        if status == 403:
            web.fail_next(Reply(403, {"message": "Forbidden"}))
        with pytest.raises(PermanentSourceError) as info:
            run(sqlite_engine, config, source)
    assert str(info.value) == (f"trustpilot: reviews of business unit {BU}, page 1: access "
                               f"refused (HTTP {status}); check sources.trustpilot.api_key")
    assert "wrong-secret-value" not in str(info.value)
    assert "wrong-secret-value" not in state(sqlite_engine, "trustpilot").last_error


def test_a_429_with_retry_after_waits_on_the_injected_sleep_and_loses_no_page():
    tp = FakeTrustpilot()
    tp.add(id="r1", created=NOW - timedelta(hours=1), title="lumitoys", text="x")
    sleeps: list[float] = []
    with tp.serve() as web:
        web.fail_next(Reply(429, {"message": "Too many"}, headers={"Retry-After": "2"}))
        batch = make(web, sleeps=sleeps)[1].fetch(None)
    assert sleeps == [2.0] and [m.external_id for m in batch.mentions] == ["r1"]
