"""Apple App Store customer reviews, from the public per-country JSON review feed.

    GET {api_url}/{country}/rss/customerreviews/page={n}/id={app_id}/sortby=mostrecent/json

No key is needed. Apple serves the 500 most recent reviews per app and country, 50 a page, ten
pages at most; each country's store has its own reviews, so an app is listed once per country.
The feed has no search: every new review is returned and the brand query decides locally.
The star rating stays in the raw payload (`raw["rating"]`, 1-5).
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from pydantic import Field, field_validator

from listener.config.types import Duration, Strict
from listener.errors import SourceError
from listener.sources.contract import Batch, Cursor, RawMention
from listener.sources.listing import ListingSettings, Page, drain, fetch_each
from listener.sources.plaintext import clean_text, join_title
from listener.sources.webapi import WebSource, parse_time, stable_id

log = logging.getLogger(__name__)

PAGES = 10  # Apple answers page 11 and beyond with an error


class App(Strict):
    id: int = Field(gt=0, description=(
        "the app's numeric id, the digits after /id in its App Store link"))
    country: str = Field("us", description=(
        "two-letter code of the store to read (us, gb, de, jp...); each store has its own "
        "reviews"))

    @field_validator("country")
    @classmethod
    def _two_letters(cls, value: str) -> str:
        if len(value) != 2 or not value.isascii() or not value.isalpha():
            raise ValueError(f'"{value}" is not a two-letter country code; write e.g. "us"')
        return value.lower()


class AppStoreSettings(ListingSettings):
    every: Duration = Field("30m", description="how often to read the review feeds")
    apps: list[App] = Field(min_length=1, description="the apps to read reviews of, per store")
    api_url: str = Field("https://itunes.apple.com", pattern=r"^https?://", description=(
        "base URL of the review feeds (a proxy or a test server)"))
    max_pages: int = Field(PAGES, ge=1, le=PAGES, description=(
        "most feed pages (50 reviews each) read per app per run; Apple serves 10"))
    lookback: Duration = Field("7d", description="how far back the very first run reaches")


def _label(node: Any, key: str) -> str:
    value = node.get(key) if isinstance(node, dict) else None
    if isinstance(value, dict):
        value = value.get("label")
    return value if isinstance(value, str) else ""


def read_review(entry: dict, app: App) -> RawMention:
    """One feed entry as a mention; ValueError when a field it cannot do without is missing."""
    review_id, updated = _label(entry, "id"), _label(entry, "updated")
    text = join_title(clean_text(_label(entry, "title")), clean_text(_label(entry, "content")))
    missing = [k for k, v in (("id", review_id), ("updated", updated), ("content", text)) if not v]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    rating = _label(entry, "im:rating")
    return RawMention(
        source="appstore",
        external_id=stable_id(f"{app.country}:{review_id}"),
        created_at=parse_time(updated),
        text=text,
        author=_label(entry.get("author"), "name"),
        url=f"https://apps.apple.com/{app.country}/app/id{app.id}?see-all=reviews",
        lang=None,  # a store's country says little about the review's language
        raw={**entry, "app_id": app.id, "country": app.country,
             "rating": int(rating) if rating.isdigit() else None},
    )


class AppStoreSource(WebSource):
    """Apple App Store customer reviews (public per-country review feed, no key)"""

    name: ClassVar[str] = "appstore"
    Settings: ClassVar[type[Strict]] = AppStoreSettings

    def fetch(self, cursor: Cursor | None) -> Batch:
        now = self.context.wall_clock()
        s = self.settings
        readers = {}
        for i, app in enumerate(s.apps):
            def read(state, app=app, i=i):
                return drain(state, read_page=lambda lo, up, page: self._page(app, i, page),
                             now=now, lookback=s.lookback, overlap=s.overlap,
                             max_pages=s.max_pages)
            readers[f"{app.country}/{app.id}"] = read
        return fetch_each(self.name, cursor, readers)

    def _page(self, app: App, index: int, page: int | None) -> Page:
        n = page or 1
        url = (f"{self.settings.api_url.rstrip('/')}/{app.country}/rss/customerreviews/"
               f"page={n}/id={app.id}/sortby=mostrecent/json")
        what = f"app {app.id} ({app.country}), page {n}"
        data = self.api.get_json(url, what=what,
                                 fix_404=f"check sources.appstore.apps[{index}]",
                                 fix_auth=f"check sources.appstore.apps[{index}] (id and country)")
        feed = data.get("feed") if isinstance(data, dict) else None
        if not isinstance(feed, dict):
            raise SourceError(f"appstore: {what}: the answer has no feed")
        entries = feed.get("entry") or []
        if isinstance(entries, dict):  # a feed of one review holds an object, not a list
            entries = [entries]
        items, malformed = [], 0
        for entry in entries:
            if isinstance(entry, dict) and "im:name" in entry and "im:rating" not in entry:
                continue  # the app's own entry, which older feeds put first
            try:
                if not isinstance(entry, dict):
                    raise ValueError("not an object")
                items.append(read_review(entry, app))
            except (ValueError, TypeError) as exc:
                malformed += 1
                log.warning("appstore: %s: skipped a review: %s", what, exc)
        more = bool(entries) and n < PAGES
        return Page(items, n + 1 if more else None, malformed)
