"""Bluesky posts, from the app.bsky.feed.searchPosts XRPC method.

    POST {api_url}/xrpc/com.atproto.server.createSession   {identifier, password}
    GET  {api_url}/xrpc/app.bsky.feed.searchPosts?q=...&sort=latest&since=...&until=...

Bluesky closed unauthenticated post search in 2025, so this needs an account: a handle and an
app password (Settings > Privacy and security > App passwords). The session's access token is
kept in memory only, never in the cursor, and renewed when it expires.

Plain HTTP through a `requests.Session`, not the atproto SDK: the SDK takes a base URL but
builds its own httpx client, validates whole responses against its models (one odd post would
fail a page) and cannot wait on an injected clock; a session is what every other collector
takes, so proxies, timeouts, 429 handling and the test server work the same way.

Each brand query is expanded into plain searches (listener.sources.searchterms), each with its
own place in the cursor; `since`/`until` bound the search so paging is stable.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, ClassVar

import requests
from pydantic import Field, SecretStr

from listener.config.types import Duration, Strict
from listener.errors import PermanentSourceError, SourceError, StaleToken
from listener.sources.contract import Batch, Cursor, RawMention, SourceContext
from listener.sources.listing import ListingSettings, Page
from listener.sources.plaintext import clean_text
from listener.sources.webapi import WebSource, parse_time, stable_id

log = logging.getLogger(__name__)

CREDENTIALS = "sources.bluesky.handle and sources.bluesky.app_password"


class BlueskySettings(ListingSettings):
    every: Duration = Field("5m", description="how often to search")
    handle: str = Field(min_length=3, description=(
        "the account that searches, e.g. yourbrand.bsky.social"))
    app_password: SecretStr = Field(description=(
        "an app password of that account (not its login password); write "
        "${BLUESKY_APP_PASSWORD} and export it"))
    api_url: str = Field("https://bsky.social", pattern=r"^https?://", description=(
        "the account's PDS, which signs in and forwards searches (a proxy or a test server)"))
    per_page: int = Field(100, ge=1, le=100, description="posts per request (at most 100)")


def _xrpc_time(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def read_post(post: dict) -> RawMention:
    """One post view as a mention; ValueError when a field it cannot do without is missing."""
    record = post.get("record") if isinstance(post.get("record"), dict) else {}
    author = post.get("author") if isinstance(post.get("author"), dict) else {}
    uri, text = str(post.get("uri") or ""), clean_text(record.get("text"))
    times = []
    for value in (record.get("createdAt"), post.get("indexedAt")):
        try:
            times.append(parse_time(value))
        except ValueError:
            pass
    missing = [k for k, v in (("uri", uri), ("text", text), ("createdAt", times)) if not v]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    handle = str(author.get("handle") or author.get("did") or "")
    rkey = uri.rsplit("/", 1)[-1]
    langs = record.get("langs") if isinstance(record.get("langs"), list) else []
    followers = author.get("followersCount")  # only in full profile views; basic ones lack it
    return RawMention(
        source="bluesky",
        external_id=stable_id(uri),
        # Bluesky sorts by the earlier of the two, since a client may set any createdAt
        created_at=min(times),
        text=text,
        author=handle,
        author_reach=followers if isinstance(followers, int) else 0,
        url=f"https://bsky.app/profile/{handle}/post/{rkey}" if handle else "",
        lang=str(langs[0]).split("-")[0].lower() if langs else None,
        raw=post,
    )


class BlueskySource(WebSource):
    """Bluesky post search (app.bsky.feed.searchPosts; handle + app password)"""

    name: ClassVar[str] = "bluesky"
    Settings: ClassVar[type[Strict]] = BlueskySettings
    credential: ClassVar[str | None] = CREDENTIALS

    def __init__(self, context: SourceContext) -> None:
        super().__init__(context)
        self._access: str | None = None
        self.base = self.settings.api_url.rstrip("/") + "/xrpc"

    def fetch(self, cursor: Cursor | None) -> Batch:
        return self.fetch_each_term(cursor)

    def _sign_in(self) -> str:
        resp = self.api.request(
            "POST", f"{self.base}/com.atproto.server.createSession", what="sign-in",
            json={"identifier": self.settings.handle,
                  "password": self.settings.app_password.get_secret_value()},
            accept=(400,))
        if resp.status_code == 400:  # atproto answers a wrong password with 400 or 401
            raise PermanentSourceError(f"bluesky: sign-in refused (HTTP 400); check {CREDENTIALS}")
        data = self.api.json_of(resp, what="sign-in")
        token = data.get("accessJwt") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise SourceError("bluesky: sign-in: the answer has no access token")
        return token

    def _page(self, term: str, lower: datetime, upper: datetime, page: str | None) -> Page:
        what = f"search {term!r}" + (", next page" if page else "")
        params = {"q": term, "sort": "latest", "since": _xrpc_time(lower),
                  "until": _xrpc_time(upper), "limit": self.settings.per_page}
        if page:
            params["cursor"] = page
        for attempt in (1, 2):
            if self._access is None:
                self._access = self._sign_in()
            resp = self.api.get(f"{self.base}/app.bsky.feed.searchPosts", what=what,
                                params=params, accept=(400, 401),
                                headers={"Authorization": f"Bearer {self._access}"})
            error = _xrpc_error(resp)
            if resp.status_code == 401 or error in ("ExpiredToken", "InvalidToken"):
                self._access = None  # expired or revoked: sign in again, once
                if attempt == 1:
                    continue
                raise PermanentSourceError(f"bluesky: {what}: access refused after signing in "
                                           f"again; check {CREDENTIALS}")
            if resp.status_code == 400:
                if page:
                    raise StaleToken(f"bluesky: {what}: the page cursor is no longer accepted")
                raise SourceError(f"bluesky: {what}: refused as {error or 'a bad request'}")
            break
        data: Any = self.api.json_of(resp, what=what)
        posts = data.get("posts") if isinstance(data, dict) else None
        if not isinstance(posts, list):
            raise SourceError(f"bluesky: {what}: the answer has no posts")
        items, malformed = [], 0
        for post in posts:
            try:
                if not isinstance(post, dict):
                    raise ValueError("not an object")
                items.append(read_post(post))
            except (ValueError, TypeError) as exc:
                malformed += 1
                log.warning("bluesky: %s: skipped a post: %s", what, exc)
        token = data.get("cursor")
        return Page(items, token if posts and isinstance(token, str) and token else None,
                    malformed)


def _xrpc_error(resp: requests.Response) -> str | None:
    if resp.status_code < 400:
        return None
    try:
        body = resp.json()
    except ValueError:
        return None
    return body.get("error") if isinstance(body, dict) else None
