"""The pieces the web-API sources share: Retry-After, search terms, HTML to text, listing
drains, and settings that document themselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel

from listener.sources.appstore import AppStoreSource
from listener.sources.bluesky import BlueskySource
from listener.sources.contract import RawMention
from listener.sources.hackernews import HackerNewsSource
from listener.sources.listing import Page, drain
from listener.sources.mastodon import MastodonSource
from listener.sources.plaintext import clean_text, strip_html
from listener.sources.rss import RssSource
from listener.sources.searchterms import search_terms
from listener.sources.trustpilot import TrustpilotSource
from listener.sources.webapi import retry_after

T = 1_800_000_000.0  # "now" for the rate-limit headers
NOW = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)
MINE = [AppStoreSource, TrustpilotSource, RssSource, BlueskySource, MastodonSource,
        HackerNewsSource]


@pytest.mark.parametrize("headers, seconds", [
    ({"Retry-After": "30"}, 30.0),
    ({"Retry-After": "Wed, 15 Jan 2027 08:00:10 GMT"},
     datetime(2027, 1, 15, 8, 0, 10, tzinfo=UTC).timestamp() - T),
    ({"RateLimit-Reset": str(int(T) + 45)}, 45.0),             # Bluesky: epoch seconds
    ({"X-RateLimit-Reset": "60"}, 60.0),                       # some proxies: seconds left
    ({"X-RateLimit-Reset": datetime.fromtimestamp(T + 90, UTC).isoformat()}, 90.0),  # Mastodon
    ({"Retry-After": "soon"}, None),
    ({}, None),
])
def test_retry_after_reads_every_form_the_platforms_send(headers, seconds):
    got = retry_after(headers, now=T)
    assert got == pytest.approx(seconds) if seconds is not None else got is None


@pytest.mark.parametrize("queries, searches", [
    (['("lumi toys" OR lumitoys OR @lumitoys) -job -hiring'], ['"lumi toys"', "lumitoys"]),
    (["#pumpkinglow OR \"pumpkin glow\""], ["pumpkinglow", '"pumpkin glow"']),
    (["(lumi OR lumitoys) (lamp OR flashlight)"],
     ["lumi lamp", "lumi flashlight", "lumitoys lamp", "lumitoys flashlight"]),
    (["flash* NEAR/3 burn"], ["flash burn"]),                 # no wildcard search: the stem
    (["lumitoys lang:en", "lumitoys author:bob"], ["lumitoys"]),  # fields stay local
    (["lumitoys OR source:reddit"], ["lumitoys"]),
    (["café"], ["cafe"]),                                      # folded like the local match
    ([], []),
])
def test_brand_queries_become_the_plain_searches_that_cover_them(queries, searches):
    assert search_terms(queries) == searches


@pytest.mark.parametrize("html, text", [
    ("<p>Hot &amp; <b>melted</b></p><p>again</p>", "Hot & melted\nagain"),
    ("line<br>break<br/>twice", "line\nbreak\ntwice"),
    ("<script>alert(1)</script><style>p{}</style>visible", "visible"),
    ("<p>熱い 🔥 ожог</p>", "熱い 🔥 ожог"),
    ("  spaced\u00a0 out  ", "spaced out"),
    ("", ""),
    (None, ""),
])
def test_html_becomes_plain_text(html, text):
    assert strip_html(html) == text


@pytest.mark.parametrize("plain, text", [
    ("5 < 6 and I <3 it", "5 < 6 and I <3 it"),
    ("fish &amp; chips", "fish &amp; chips"),                  # plain text is not decoded twice
    ("it <b>burned</b>", "it burned"),
])
def test_plain_text_keeps_angle_brackets_unless_it_holds_tags(plain, text):
    assert clean_text(plain) == text


def mention(i: str, at: datetime) -> RawMention:
    return RawMention(source="x", external_id=i, created_at=at, text="t")


def test_a_watermark_in_the_future_does_not_hide_everything_until_then():
    state = {"since": "9999-12-30T00:00:00+00:00", "seen": {}}
    pages = [Page([mention("a", NOW - timedelta(minutes=5))])]
    got = drain(state, read_page=lambda lo, up, token: pages.pop(0), now=NOW,
                lookback=timedelta(days=1), overlap=timedelta(minutes=10), max_pages=5)
    assert [m.external_id for m in got.mentions] == ["a"]
    assert got.state["since"] == NOW.isoformat()


def _fields(model: type[BaseModel], path: str = ""):
    for name, field in model.model_fields.items():
        yield f"{path}{name}", field
        for arg in (field.annotation, *getattr(field.annotation, "__args__", ())):
            inner = getattr(arg, "__args__", (arg,))
            for t in inner:
                if isinstance(t, type) and issubclass(t, BaseModel):
                    yield from _fields(t, f"{path}{name}.")


@pytest.mark.parametrize("source", MINE, ids=lambda s: s.name)
def test_every_setting_is_described_and_every_source_has_an_interval(source):
    fields = dict(_fields(source.Settings))
    assert [p for p, f in fields.items() if not f.description] == []
    assert "every" in fields and "timeout" in fields and "max_wait" in fields
    assert source.__doc__ and source.name in {"appstore", "trustpilot", "rss", "bluesky",
                                              "mastodon", "hackernews"}
    if source not in (RssSource, MastodonSource):  # their URLs are the feeds and instances
        assert "api_url" in fields
