"""Mastodon posts from configured instances, with Mastodon.py: hashtag timelines, and the
instance's full-text search for the brand terms when an access token allows it.

Hashtag timelines are read forwards with `min_id` (the statuses immediately newer than the
last one seen), which cannot skip posts however many arrive between runs; `since_id` would
return only the newest page and drop the rest. Search results come newest first, so a search
is paged with `offset` above a fixed `min_id` and its `min_id` moves up only once the pages are
exhausted. A post is identified by its ActivityPub URI, so the same post seen through two
instances (federation) is one mention.

Public hashtag timelines need no token on most instances; some require one, and search always
does (Mastodon 4.2+, and it only finds posts whose authors opted in to search).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
from pydantic import Field, SecretStr, field_validator

from listener.config.types import Duration, Strict
from listener.errors import PermanentSourceError, RateLimited, SourceError
from listener.sources.contract import Batch, Cursor, RawMention, SourceContext
from listener.sources.listing import Keyed, fetch_each
from listener.sources.plaintext import join_title, strip_html
from listener.sources.searchterms import search_terms
from listener.sources.webapi import USER_AGENT, WebSettings, parse_time, stable_id

log = logging.getLogger(__name__)


class Instance(Strict):
    url: str = Field(pattern=r"^https?://", description="the instance, e.g. https://mastodon.social")
    hashtags: list[str] = Field(default_factory=list, description=(
        "hashtags whose public timeline to read, without # (e.g. lumitoys)"))
    access_token: SecretStr | None = Field(None, description=(
        "token of an app on that instance (Preferences > Development, scope read); needed for "
        "search and by instances that hide public timelines; write ${MASTODON_TOKEN:-}"))
    search: bool = Field(False, description=(
        "also search the instance for the brands' terms (needs access_token)"))

    @field_validator("hashtags")
    @classmethod
    def _bare(cls, value: list[str]) -> list[str]:
        return [tag.lstrip("#") for tag in value if tag.lstrip("#")]

    @field_validator("access_token", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value in ("", None) else value


class MastodonSettings(WebSettings):
    every: Duration = Field("5m", description="how often to read the timelines")
    instances: list[Instance] = Field(min_length=1, description="the instances to read")
    per_page: int = Field(40, ge=1, le=40, description="statuses per request (at most 40)")
    max_pages: int = Field(10, ge=1, le=100, description=(
        "most pages per hashtag or search per run; a longer backlog is read on at the next run"))
    lookback: Duration = Field("1d", description=(
        "the very first read of a hashtag returns posts this recent"))


def _order(status_id: str) -> tuple[int, int | str]:
    # Mastodon ids are numbers; Pleroma and GoToSocial ids are sortable strings
    return (0, int(status_id)) if status_id.isdigit() else (1, status_id)


def read_status(status: dict, *, host: str) -> RawMention:
    """One status as a mention; ValueError when a field it cannot do without is missing."""
    account = status.get("account") or {}
    uri = str(status.get("uri") or status.get("url") or "")
    text = join_title(strip_html(status.get("spoiler_text")), strip_html(status.get("content")))
    missing = [k for k, v in (("uri", uri), ("created_at", status.get("created_at")),
                              ("content", text)) if not v]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    acct = str(account.get("acct") or account.get("username") or "")
    followers = account.get("followers_count")
    lang = status.get("language")
    return RawMention(
        source="mastodon",
        external_id=stable_id(uri),
        created_at=parse_time(status["created_at"]),
        text=text,
        author=acct if "@" in acct or not acct else f"{acct}@{host}",  # local accounts: bare
        author_reach=followers if isinstance(followers, int) else 0,
        url=str(status.get("url") or uri),
        lang=str(lang).split("-")[0].lower() if lang else None,
        raw=_plain(status),
    )


def _plain(value: Any) -> Any:
    """Mastodon.py's entities (datetimes, attribute dicts) as JSON for the raw column."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


class MastodonSource:
    """Mastodon hashtag timelines and search on chosen instances (Mastodon.py)"""

    name: ClassVar[str] = "mastodon"
    Settings: ClassVar[type[Strict]] = MastodonSettings

    def __init__(self, context: SourceContext) -> None:
        from mastodon import Mastodon  # imported once a source is built: the config needs none

        self.context = context
        self.settings = settings = context.settings
        self.terms = search_terms(context.queries)
        session = context.session or requests.Session()
        self.clients = [
            Mastodon(api_base_url=inst.url.rstrip("/"), session=session,
                     access_token=inst.access_token.get_secret_value() if inst.access_token
                     else None,
                     request_timeout=settings.timeout.total_seconds(),
                     ratelimit_method="throw",  # waits go through the context's wait counter
                     version_check_mode="none", user_agent=USER_AGENT)
            for inst in settings.instances]

    def fetch(self, cursor: Cursor | None) -> Batch:
        now = self.context.wall_clock()
        readers: dict[str, Callable[[Any], Keyed]] = {}
        for i, inst in enumerate(self.settings.instances):
            base = inst.url.rstrip("/")
            for tag in inst.hashtags:
                readers[f"{base}#{tag}"] = (
                    lambda state, i=i, tag=tag: self._hashtag(i, tag, state, now))
            if inst.search:
                for term in self.terms:
                    readers[f"{base}?q={term}"] = (
                        lambda state, i=i, term=term: self._search(i, term, state, now))
        if not readers:
            raise PermanentSourceError("mastodon: nothing to read; give an instance hashtags, "
                                       "or search: true with an access_token")
        return fetch_each(self.name, cursor, readers)

    # -- hashtag timelines: forwards from min_id ---------------------------------------------
    def _hashtag(self, i: int, tag: str, state: dict | None, now: datetime) -> Keyed:
        s, inst = self.settings, self.settings.instances[i]
        host = urlsplit(inst.url).netloc
        min_id = (state or {}).get("min_id")
        out, malformed, error = [], 0, None
        for n in range(s.max_pages):
            what = f"{host} #{tag}, page {n + 1}"
            try:
                statuses = self._call(i, what, lambda after=min_id: (
                    self.clients[i].timeline_hashtag(tag, min_id=after, limit=s.per_page)))
            except PermanentSourceError:
                raise
            except SourceError as exc:
                if n == 0:
                    raise
                error = exc  # keep the pages read; min_id resumes after them
                break
            got, bad = self._read(statuses, host, what)
            malformed += bad
            ids = [str(st["id"]) for st in statuses if isinstance(st, dict) and st.get("id")]
            if min_id is None:  # first read: only the newest page, and only recent posts
                out += [m for m in got if m.created_at >= now - s.lookback]
            else:
                out += got
            if ids:
                min_id = max(ids + ([min_id] if min_id else []), key=_order)
            if state is None or len(statuses) < s.per_page:
                break
        return Keyed(out, {"min_id": min_id}, malformed, error)

    # -- search: newest first, offset paging above a fixed min_id ----------------------------
    def _search(self, i: int, term: str, state: dict | None, now: datetime) -> Keyed:
        s, inst = self.settings, self.settings.instances[i]
        host = urlsplit(inst.url).netloc
        if inst.access_token is None:
            raise PermanentSourceError(f"mastodon: {host}: search needs an access token; set "
                                       f"sources.mastodon.instances[{i}].access_token")
        first = state is None
        state = dict(state or {})
        min_id, offset, top = state.get("min_id"), state.get("offset", 0), state.get("top")
        out, malformed, error, done = [], 0, None, False
        for n in range(s.max_pages):
            what = f"{host} search {term!r}, page {n + 1}"
            try:
                result = self._call(i, what, lambda skip=offset: self.clients[i].search_v2(
                    term, result_type="statuses", resolve=False, min_id=min_id,
                    offset=skip, limit=s.per_page))
            except PermanentSourceError:
                raise
            except SourceError as exc:
                if n == 0:
                    raise
                error = exc
                break
            statuses = list(result.get("statuses") or []) if isinstance(result, dict) else []
            got, bad = self._read(statuses, host, what)
            out += [m for m in got if not first or m.created_at >= now - s.lookback]
            malformed += bad
            ids = [str(st["id"]) for st in statuses if isinstance(st, dict) and st.get("id")]
            if ids:
                top = max(ids + ([top] if top else []), key=_order)
            offset += len(statuses)
            if len(statuses) < s.per_page:
                done = True
                break
        if done:
            return Keyed(out, {"min_id": top or min_id}, malformed, error)
        return Keyed(out, {"min_id": min_id, "offset": offset, "top": top}, malformed, error)

    # -- shared ------------------------------------------------------------------------------
    def _read(self, statuses: Any, host: str, what: str) -> tuple[list[RawMention], int]:
        out, malformed = [], 0
        for status in statuses if isinstance(statuses, list) else []:
            try:
                if not isinstance(status, dict):
                    raise ValueError("not an object")
                if status.get("reblog"):
                    continue  # a boost repeats a post; it is not a new voice
                out.append(read_status(status, host=host))
            except (ValueError, TypeError, AttributeError) as exc:
                malformed += 1
                log.warning("mastodon: %s: skipped a status: %s", what, exc)
        return out, malformed

    def _call(self, i: int, what: str, call: Callable[[], Any]) -> Any:
        """Run one Mastodon.py call, mapping its exceptions to the listener's."""
        from mastodon.errors import (
            MastodonAPIError,
            MastodonError,
            MastodonNetworkError,
            MastodonNotFoundError,
            MastodonRatelimitError,
            MastodonServerError,
            MastodonUnauthorizedError,
        )

        token_setting = f"sources.mastodon.instances[{i}].access_token"
        for attempt in (1, 2):
            try:
                return call()
            except MastodonRatelimitError:
                reset = self.clients[i].ratelimit_reset
                wait = max(0.0, reset - time.time()) if reset else None
                limit = self.settings.max_wait.total_seconds()
                if attempt == 1 and wait is not None and wait <= limit:
                    log.info("mastodon: %s: rate limited; waiting %.0fs", what, wait)
                    self.context.waits(wait)
                    continue
                raise RateLimited(f"mastodon: {what}: rate limited (HTTP 429)", wait) from None
            except MastodonUnauthorizedError:
                has = self.settings.instances[i].access_token is not None
                fix = f"check {token_setting}" if has else f"this instance needs {token_setting}"
                raise PermanentSourceError(f"mastodon: {what}: access refused (HTTP 401); "
                                           f"{fix}") from None
            except MastodonNotFoundError:
                raise PermanentSourceError(
                    f"mastodon: {what}: not found (HTTP 404); check "
                    f"sources.mastodon.instances[{i}].url") from None
            except MastodonNetworkError as exc:
                kind = "no answer in time" if "timed out" in str(exc).lower() else "cannot connect"
                raise SourceError(f"mastodon: {what}: {kind}") from None
            except MastodonServerError as exc:
                raise SourceError(f"mastodon: {what}: HTTP {_status(exc)}") from None
            except MastodonAPIError as exc:
                status = _status(exc)
                if status == 403:
                    raise PermanentSourceError(f"mastodon: {what}: access refused (HTTP 403); "
                                               f"check {token_setting}") from None
                detail = f"HTTP {status}" if status else "the answer is not JSON"
                raise SourceError(f"mastodon: {what}: {detail}") from None
            except MastodonError as exc:
                raise SourceError(f"mastodon: {what}: {type(exc).__name__}") from None
            except RecursionError:
                # Mastodon.py 2.x recurses without end when a search needs the server version
                # and GET /api/v1/instance/ fails
                raise SourceError(f"mastodon: {what}: the instance's version could not be read "
                                  "(GET /api/v1/instance/ failed)") from None
        raise AssertionError("unreachable")


def _status(exc: Exception) -> int | None:
    # Mastodon.py raises ('Mastodon API returned error', status, reason, message)
    return exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None

