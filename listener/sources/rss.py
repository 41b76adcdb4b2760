"""Any RSS or Atom feed: Google Alerts, Discourse forums (/latest.rss), news sites, a shop's
review feed. The bytes come through the session (so proxies, timeouts and tests behave as for
every other source) and feedparser reads them.

A feed shows its latest N items and has no search: every item not seen before is returned and
the brand query decides locally. The cursor keeps, per feed, digests of the items already seen
(a feed reorders and re-dates items, so ids are safer than times), the newest item time, and the
ETag / Last-Modified validators, so an unchanged feed costs one 304. Feed URLs may carry a
private token (Google Alerts, Discourse API keys), so messages name a feed by its position and
host, never by its URL.
"""

from __future__ import annotations

import hashlib
import io
import logging
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from pydantic import Field, field_validator

from listener.config.types import Duration, Strict
from listener.errors import SourceError
from listener.sources.contract import Batch, Cursor, RawMention
from listener.sources.listing import Keyed, fetch_each
from listener.sources.plaintext import join_title, strip_html
from listener.sources.webapi import WebSettings, WebSource, iso, stable_id

log = logging.getLogger(__name__)

MAX_SEEN = 1000  # per feed; far more than any feed lists at once


class RssSettings(WebSettings):
    every: Duration = Field("10m", description="how often to read the feeds")
    feeds: list[str] = Field(min_length=1, description=(
        "feed URLs (RSS or Atom), e.g. a Google Alerts feed or https://forum.example.com/latest.rss"))
    lookback: Duration = Field("2d", description=(
        "the very first read of a feed returns items this recent (and undated ones)"))

    @field_validator("feeds")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
                raise ValueError(f'"{url}" is not a feed URL; write e.g. '
                                 '"https://forum.example.com/latest.rss"')
        return value


def _digest(external_id: str) -> str:
    return hashlib.sha1(external_id.encode()).hexdigest()[:16]


def _time(entry: Any) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime(*parsed[:6], tzinfo=UTC) if parsed else None


def _link(entry: Any) -> str:
    link = str(entry.get("link") or "")
    url = urlsplit(link)
    if url.netloc.endswith("google.com") and url.path == "/url":  # Google Alerts redirect
        return parse_qs(url.query).get("url", [link])[0]
    return link


def _lang(entry: Any, feed: Any) -> str | None:
    detail = entry.get("summary_detail") or entry.get("title_detail") or {}
    lang = detail.get("language") or feed.get("language")
    return str(lang).split("-")[0].lower() if lang else None


def read_entry(entry: Any, *, feed_url: str, feed: Any, now: datetime) -> RawMention:
    body = entry.get("summary") or (entry.get("content") or [{}])[0].get("value") or ""
    text = join_title(strip_html(entry.get("title")), strip_html(body))
    if not text:
        raise ValueError("no title and no text")
    raw_id = str(entry.get("id") or entry.get("link") or "")
    if not raw_id:
        raw_id = hashlib.sha256(text.encode()).hexdigest()
    # a guid like "42" is unique only within its feed; a URL or URN is unique everywhere, and
    # the same article syndicated into two feeds is then one mention
    scoped = raw_id if ":" in raw_id else f"{feed_url}#{raw_id}"
    created = _time(entry)
    return RawMention(
        source="rss",
        external_id=stable_id(scoped),
        created_at=created or now,
        text=text,
        author=str(entry.get("author") or feed.get("title") or urlsplit(feed_url).netloc),
        url=_link(entry),
        lang=_lang(entry, feed),
        raw={"feed": urlsplit(feed_url).netloc, "feed_title": str(feed.get("title") or ""),
             "id": raw_id, "title": str(entry.get("title") or ""),
             "link": str(entry.get("link") or ""),
             "published": str(entry.get("published") or entry.get("updated") or ""),
             "author": str(entry.get("author") or ""), "summary": str(body),
             "dated": created is not None},
    )


class RssSource(WebSource):
    """RSS and Atom feeds: Google Alerts, forums, news (feedparser)"""

    name: ClassVar[str] = "rss"
    Settings: ClassVar[type[Strict]] = RssSettings

    def fetch(self, cursor: Cursor | None) -> Batch:
        now = self.context.wall_clock()
        readers = {url: (lambda state, i=i, url=url: self._feed(i, url, state, now))
                   for i, url in enumerate(self.settings.feeds)}
        return fetch_each(self.name, cursor, readers)

    def _feed(self, index: int, url: str, state: dict | None, now: datetime) -> Keyed:
        import feedparser  # imported when a feed is read: the config needs none

        what = f"feed {index + 1} ({urlsplit(url).netloc})"
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
                             "*/*;q=0.5"}
        if state and state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state and state.get("modified"):
            headers["If-Modified-Since"] = state["modified"]
        resp = self.api.get(url, what=what, headers=headers,
                            fix_404=f"check sources.rss.feeds[{index}]",
                            fix_auth=f"check sources.rss.feeds[{index}] (a private feed's URL "
                                     "carries its token)")
        if resp.status_code == 304:
            return Keyed([], state)
        parsed = feedparser.parse(io.BytesIO(resp.content),
                                  response_headers={k.lower(): v for k, v in resp.headers.items()})
        if parsed.bozo and not parsed.entries and not parsed.feed:
            raise SourceError(f"rss: {what}: the answer is not an RSS or Atom feed "
                              f"({type(parsed.get('bozo_exception')).__name__})")
        seen = list((state or {}).get("seen") or [])
        known = set(seen)
        first = state is None
        out, malformed, newest = [], 0, (state or {}).get("latest")
        for entry in parsed.entries:
            try:
                m = read_entry(entry, feed_url=url, feed=parsed.feed, now=now)
            except (ValueError, TypeError, AttributeError) as exc:
                malformed += 1
                log.warning("rss: %s: skipped an item: %s", what, exc)
                continue
            digest = _digest(m.external_id)
            if digest in known:
                continue  # seen before, or repeated within this document
            known.add(digest)
            seen.append(digest)
            if first and m.raw["dated"] and m.created_at < now - self.settings.lookback:
                continue  # older than the first run reaches: remembered, not returned
            out.append(m)
            if m.raw["dated"] and (newest is None or iso(m.created_at) > newest):
                newest = iso(m.created_at)
        new_state = {"seen": seen[-MAX_SEEN:], "latest": newest,
                     "etag": resp.headers.get("ETag"),
                     "modified": resp.headers.get("Last-Modified")}
        return Keyed(out, new_state, malformed)
