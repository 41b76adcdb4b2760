"""Hacker News stories and comments, from the Algolia HN search API (no key).

    GET {api_url}/api/v1/search_by_date?query=...&tags=(story,comment)
        &numericFilters=created_at_i>LOWER,created_at_i<=UPPER&page=N

Each brand query is expanded into plain searches (listener.sources.searchterms) and each search
keeps its own place in the cursor. The upper bound fixes the set being paged through, so page
numbers stay stable while new items arrive. A story's points are its reach; comments have none.
Algolia pages through at most 1,000 hits per search.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, ClassVar

from pydantic import Field

from listener.config.types import Duration, Strict
from listener.errors import SourceError
from listener.sources.contract import Batch, Cursor, RawMention
from listener.sources.listing import ListingSettings, Page
from listener.sources.plaintext import join_title, strip_html
from listener.sources.webapi import WebSource, parse_time, stable_id

log = logging.getLogger(__name__)


class HackerNewsSettings(ListingSettings):
    every: Duration = Field("5m", description="how often to search")
    api_url: str = Field("https://hn.algolia.com", pattern=r"^https?://", description=(
        "base URL of the Algolia HN search API (a proxy or a test server)"))
    kinds: list[str] = Field(["story", "comment"], min_length=1, description=(
        "which items to search: story, comment, poll, show_hn, ask_hn"))
    per_page: int = Field(100, ge=1, le=1000, description="hits per request")


def read_hit(hit: dict) -> RawMention:
    """One search hit as a mention; ValueError when a field it cannot do without is missing."""
    object_id = str(hit.get("objectID") or "")
    when = hit.get("created_at_i") or hit.get("created_at")
    text = join_title(strip_html(hit.get("title")),
                      strip_html(hit.get("story_text") or hit.get("comment_text")))
    missing = [k for k, v in (("objectID", object_id), ("created_at", when), ("text", text))
               if not v]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    points = hit.get("points")
    return RawMention(
        source="hackernews",
        external_id=stable_id(object_id),
        created_at=parse_time(when),
        text=text,
        author=str(hit.get("author") or ""),
        author_reach=points if isinstance(points, int) and points > 0 else 0,
        url=f"https://news.ycombinator.com/item?id={object_id}",
        lang=None,
        raw={k: v for k, v in hit.items() if k != "_highlightResult"},  # highlights: bulk only
    )


class HackerNewsSource(WebSource):
    """Hacker News stories and comments (Algolia HN search API, no key)"""

    name: ClassVar[str] = "hackernews"
    Settings: ClassVar[type[Strict]] = HackerNewsSettings

    def fetch(self, cursor: Cursor | None) -> Batch:
        return self.fetch_each_term(cursor)

    def _page(self, term: str, lower: datetime, upper: datetime, page: int | None) -> Page:
        s, n = self.settings, page or 0
        what = f"search {term!r}, page {n + 1}"
        data: Any = self.api.get_json(
            f"{s.api_url.rstrip('/')}/api/v1/search_by_date", what=what,
            params={"query": term, "tags": f"({','.join(s.kinds)})",
                    "numericFilters": f"created_at_i>{int(lower.timestamp())},"
                                      f"created_at_i<={int(upper.timestamp())}",
                    "hitsPerPage": s.per_page, "page": n},
            fix_404="check sources.hackernews.api_url",
            fix_auth="check sources.hackernews.api_url (the public API needs no key)")
        hits = data.get("hits") if isinstance(data, dict) else None
        if not isinstance(hits, list):
            raise SourceError(f"hackernews: {what}: the answer has no hits")
        items, malformed = [], 0
        for hit in hits:
            try:
                if not isinstance(hit, dict):
                    raise ValueError("not an object")
                items.append(read_hit(hit))
            except (ValueError, TypeError, OverflowError) as exc:
                malformed += 1
                log.warning("hackernews: %s: skipped a hit: %s", what, exc)
        pages = data.get("nbPages")
        more = bool(hits) and isinstance(pages, int) and n + 1 < pages
        return Page(items, n + 1 if more else None, malformed)
