"""Trustpilot reviews of one business, from the Trustpilot business-units API.

    GET {api_url}/v1/business-units/{business_unit_id}/reviews?orderBy=createdat.desc
    header apikey: <key>

Needs an API key (a Trustpilot business account's application, developers.trustpilot.com) and
the business unit id (`GET /v1/business-units/find?name=yourdomain.com` returns it). The key
travels in a header, never in a URL, so it cannot leak into a log line. The endpoint has no
search: every new review is returned and the brand query decides locally; the star rating
stays in the raw payload (`raw["stars"]`).
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from pydantic import Field, SecretStr

from listener.config.types import Duration, Strict
from listener.errors import SourceError
from listener.sources.contract import Batch, Cursor, RawMention
from listener.sources.listing import ListingSettings, Page, drain, fetch_each
from listener.sources.plaintext import clean_text, join_title
from listener.sources.webapi import WebSource, parse_time, stable_id

log = logging.getLogger(__name__)


class TrustpilotSettings(ListingSettings):
    every: Duration = Field("15m", description="how often to read new reviews")
    api_key: SecretStr = Field(description=(
        "API key of your Trustpilot application; write ${TRUSTPILOT_API_KEY} and export it"))
    business_unit_id: str = Field(min_length=1, description=(
        "the business unit to read (GET /v1/business-units/find?name=yourdomain.com)"))
    api_url: str = Field("https://api.trustpilot.com", pattern=r"^https?://", description=(
        "base URL of the API (a proxy or a test server)"))
    per_page: int = Field(100, ge=1, le=100, description="reviews per request (at most 100)")
    lookback: Duration = Field("7d", description="how far back the very first run reaches")


def read_review(review: dict) -> RawMention:
    """One review as a mention; ValueError when a field it cannot do without is missing."""
    text = join_title(clean_text(review.get("title")), clean_text(review.get("text")))
    missing = [k for k, v in (("id", review.get("id")), ("createdAt", review.get("createdAt")),
                              ("text", text)) if not v]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    consumer = review.get("consumer") if isinstance(review.get("consumer"), dict) else {}
    return RawMention(
        source="trustpilot",
        external_id=stable_id(str(review["id"])),
        created_at=parse_time(review["createdAt"]),
        text=text,
        author=str(consumer.get("displayName") or ""),
        url=f"https://www.trustpilot.com/reviews/{review['id']}",
        lang=(review.get("language") or None),
        raw=review,
    )


def _has_next(data: dict, count: int, per_page: int) -> bool:
    links = data.get("links")
    if isinstance(links, list):
        return any(isinstance(x, dict) and x.get("rel") == "next-page" for x in links)
    return count >= per_page


class TrustpilotSource(WebSource):
    """Trustpilot reviews of your business (business-units API, API key)"""

    name: ClassVar[str] = "trustpilot"
    Settings: ClassVar[type[Strict]] = TrustpilotSettings
    credential: ClassVar[str | None] = "sources.trustpilot.api_key"

    def fetch(self, cursor: Cursor | None) -> Batch:
        s, now = self.settings, self.context.wall_clock()

        def read(state):
            return drain(state, read_page=lambda lo, up, page: self._page(page), now=now,
                         lookback=s.lookback, overlap=s.overlap, max_pages=s.max_pages)
        return fetch_each(self.name, cursor, {s.business_unit_id: read})

    def _page(self, page: int | None) -> Page:
        s, n = self.settings, page or 1
        what = f"reviews of business unit {s.business_unit_id}, page {n}"
        data: Any = self.api.get_json(
            f"{s.api_url.rstrip('/')}/v1/business-units/{s.business_unit_id}/reviews",
            what=what, params={"page": n, "perPage": s.per_page, "orderBy": "createdat.desc"},
            headers={"apikey": s.api_key.get_secret_value(), "Accept": "application/json"},
            fix_404="check sources.trustpilot.business_unit_id")
        reviews = data.get("reviews") if isinstance(data, dict) else None
        if not isinstance(reviews, list):
            raise SourceError(f"trustpilot: {what}: the answer has no list of reviews")
        items, malformed = [], 0
        for review in reviews:
            try:
                if not isinstance(review, dict):
                    raise ValueError("not an object")
                items.append(read_review(review))
            except (ValueError, TypeError) as exc:
                malformed += 1
                log.warning("trustpilot: %s: skipped a review: %s", what, exc)
        more = bool(reviews) and _has_next(data, len(reviews), s.per_page)
        return Page(items, n + 1 if more else None, malformed)
