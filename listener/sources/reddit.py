"""Reddit through praw: new posts matching the brand queries, and new comments in named subreddits.

Streams, each read newest first until it reaches what the previous fetch returned:

    search:QUERY   r/SUBS/search?q=QUERY&sort=new    the brand queries compiled to Reddit's
                                                     syntax (`listener.query.native`), split at
                                                     512 characters; posts only
    comments       r/SUBS/comments                   every new comment in the named subreddits
                                                     (not r/all: that is the whole site)

Cursor, per stream (JSON):

    {"since": newest created_utc returned so far,
     "seen":  {fullname: created_utc} of returned items created at or after since - overlap}

An item is new when it was created at or after `since - overlap` and its fullname is not in
`seen`: items sharing the newest second are neither lost nor repeated, and posts that Reddit's
search index adds a few minutes late are still picked up. A fetch reads at most `max_pages`
pages per stream; the first fetch reaches back `lookback`. The cursor moves only with the batch
it belongs to, so a fetch that fails half way is repeated whole at the next run.

Reach is the author's karma (link + comment), looked up in bulk by author fullname and cached.
401 raises `PermanentSourceError` naming the client id and secret settings; 403/404 name the
subreddits; 429 waits for the reset on the context's wait counter, once; timeouts and 5xx
(after prawcore's own two retries) raise `SourceError`.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import requests
from pydantic import Field, SecretStr, field_validator

from listener.config.types import Duration, Strict
from listener.errors import PermanentSourceError, QueryError, SourceError
from listener.query.native import REDDIT, approximations, native_queries
from listener.sources.contract import Batch, Cursor, RawMention, SourceContext

log = logging.getLogger(__name__)

SUBREDDIT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")
WEB = "https://www.reddit.com"
DELETED = {"[deleted]", "[removed]"}
KARMA_CACHE = 10_000


class RedditSettings(Strict):
    client_id: SecretStr = Field(description=(
        "id of a Reddit app (reddit.com/prefs/apps, type script); write ${REDDIT_CLIENT_ID}"))
    client_secret: SecretStr = Field(description=(
        "the app's secret; write ${REDDIT_CLIENT_SECRET}"))
    user_agent: str = Field(description=(
        "how the app introduces itself, as Reddit requires: "
        "<platform>:<app id>:<version> (by /u/<your reddit username>)"))
    subreddits: list[str] = Field(default_factory=lambda: ["all"], min_length=1, description=(
        "where to search (all: the whole site) and, for named ones, whose comments to read"))
    comments: bool = Field(True, description=(
        "also read every new comment in the named subreddits (Reddit's search finds posts only)"))
    every: Duration = Field("5m", description="how often to poll")
    api_url: str = Field("https://oauth.reddit.com", pattern=r"^https?://", description=(
        "API base URL: the real host, or a proxy or test server"))
    auth_url: str = Field(WEB, pattern=r"^https?://", description=(
        "where access tokens come from (api/v1/access_token): the real host, or a test server"))
    limit: int = Field(100, ge=1, le=100, description="items per page, 1 to 100")
    max_pages: int = Field(5, ge=1, le=10, description=(
        "pages per stream and fetch; more new items than that between two polls are missed"))
    lookback: Duration = Field("1h", description="how far back the first poll reaches")
    overlap: Duration = Field("10m", description=(
        "how far below the newest item each poll looks again, for posts Reddit's search "
        "indexes late"))
    timeout: Duration = Field("20s", description="how long to wait for an answer")
    max_wait: Duration = Field("2m", description=(
        "longest rate-limit wait to sit out within a run; after a longer one the next run "
        "retries"))

    @field_validator("user_agent")
    @classmethod
    def _descriptive(cls, value: str) -> str:
        if "u/" not in value or len(value) < 12:
            raise ValueError(f"{value!r} does not say who runs the app; write e.g. "
                             "\"python:acme-listener:1.0 (by /u/acme_social)\"")
        return value

    @field_validator("subreddits")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        names = [v.strip().removeprefix("/").removeprefix("r/") for v in value]
        bad = [v for v in names if not SUBREDDIT.match(v)]
        if bad:
            raise ValueError(f"{', '.join(map(repr, bad))}: not a subreddit name; write names "
                             "without r/, e.g. [all] or [toys, parenting]")
        return names


class TimeoutSession(requests.Session):
    """prawcore asks for its own fixed timeout (16s) on every request; this one applies the
    configured timeout instead."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, method, url, *args, **kwargs):
        kwargs["timeout"] = self.timeout
        return super().request(method, url, *args, **kwargs)


def read_item(kind: str, data: Any, karma: dict[str, int]) -> RawMention:
    """A post (t3) or comment (t1) of a listing -> RawMention; raises KeyError/TypeError/
    ValueError when it cannot be read."""
    if not isinstance(data, dict):
        raise TypeError("not a JSON object")
    name = str(data["name"])
    created = datetime.fromtimestamp(float(data["created_utc"]), tz=UTC)
    if kind == "t3":
        title, body = str(data.get("title") or ""), str(data.get("selftext") or "")
        text = f"{title}\n\n{body}" if body and body not in DELETED else title
    elif kind == "t1":
        text = str(data["body"])
    else:
        raise ValueError(f"kind {kind!r} is neither a post nor a comment")
    if not text.strip():
        raise ValueError("no text")
    permalink = str(data.get("permalink") or "")
    if not permalink and kind == "t1":   # older payloads: build it from the post's id
        post = str(data.get("link_id", "")).removeprefix("t3_")
        permalink = f"/r/{data.get('subreddit')}/comments/{post}/_/{data.get('id')}/"
    author = str(data.get("author") or "")
    return RawMention(
        source="reddit", external_id=name, created_at=created, text=text,
        author="" if author in DELETED else author,
        author_reach=karma.get(str(data.get("author_fullname") or ""), 0),
        url=WEB + permalink if permalink.startswith("/") else permalink,
        lang=None, raw={"kind": kind, **data})


def time_filter(age: timedelta) -> str:
    """The narrowest search period (Reddit's t=) that still covers `age`."""
    for name, span in (("hour", timedelta(hours=1)), ("day", timedelta(days=1)),
                       ("week", timedelta(days=7)), ("month", timedelta(days=30))):
        if age < span:
            return name
    return "all"


class RedditSource:
    """Reddit: new posts matching the brand queries, new comments in named subreddits."""

    name: ClassVar[str] = "reddit"
    Settings: ClassVar[type[Strict]] = RedditSettings

    def __init__(self, context: SourceContext) -> None:
        import praw  # imported once a source is built: the config needs none

        # the context's `clock` is the daemon's (simulated during a replay); Reddit lives in
        # real time, so the windows use its `wall_clock`
        self.context = context
        self.settings = settings = context.settings
        try:
            self.queries = native_queries(context.queries, REDDIT)
        except QueryError as exc:
            raise PermanentSourceError(f"reddit: {exc}") from None
        for term in approximations(context.queries, REDDIT):
            log.warning("reddit: %s is searched as %s (Reddit has no wildcards); posts with only "
                        "longer words are found by the comments stream at most", term,
                        term.rstrip("*"))
        named = [s for s in settings.subreddits if s.lower() != "all"]
        self.where = "all" if len(named) < len(settings.subreddits) else "+".join(named)
        self.comment_subs = "+".join(named) if settings.comments and named else None
        if not self.queries and not self.comment_subs:
            raise PermanentSourceError("reddit: nothing to read: no brand query can match on "
                                       "Reddit and no named subreddit's comments are read")
        self.reddit = praw.Reddit(
            client_id=settings.client_id.get_secret_value(),
            client_secret=settings.client_secret.get_secret_value(),
            user_agent=settings.user_agent, oauth_url=settings.api_url.rstrip("/"),
            reddit_url=settings.auth_url.rstrip("/"), check_for_updates=False,
            requestor_kwargs={"session": context.session
                              or TimeoutSession(settings.timeout.total_seconds())})
        self.karma: dict[str, int] = {}

    def streams(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Cursor key -> (API path, parameters)."""
        out = {}
        restrict = "on" if self.where != "all" else "off"
        for q in self.queries:
            out[f"search:{q}"] = (f"r/{self.where}/search", {
                "q": q, "sort": "new", "restrict_sr": restrict, "include_over_18": "on",
                "type": "link"})
        if self.comment_subs:
            out["comments"] = (f"r/{self.comment_subs}/comments", {})
        return out

    def fetch(self, cursor: Cursor | None) -> Batch:
        previous = copy.deepcopy(cursor or {})
        now = self.context.wall_clock()
        items: list[tuple[str, dict]] = []
        states: dict[str, dict] = {}
        malformed = 0
        for key, (path, params) in self.streams().items():
            state, new, bad = self._drain(key, path, params, previous.get(key) or {}, now)
            states[key] = state
            items.extend(new)
            malformed += bad
        self._look_up_karma(d.get("author_fullname") for _, d in items)
        mentions = []
        for kind, data in items:
            try:
                mentions.append(read_item(kind, data, self.karma))
            except (KeyError, TypeError, ValueError) as exc:
                malformed += 1
                log.warning("reddit: skipped malformed item %s: %s", data.get("name"), exc)
        return Batch(mentions, states, malformed)

    # -- one stream ---------------------------------------------------------------------------
    def _drain(self, key: str, path: str, params: dict, state: dict, now: datetime
               ) -> tuple[dict, list[tuple[str, dict]], int]:
        since = state.get("since")
        seen: dict[str, float] = dict(state.get("seen") or {})
        overlap = self.settings.overlap.total_seconds()
        floor = since - overlap if since is not None else (now - self.settings.lookback).timestamp()
        if "q" in params:
            params = {**params, "t": time_filter(now - datetime.fromtimestamp(floor, tz=UTC))}
        new: dict[str, tuple[str, dict, float]] = {}
        malformed = 0
        after = None
        for _page in range(self.settings.max_pages):
            listing = self._get(path, {**params, "limit": self.settings.limit,
                                       **({"after": after} if after else {})}, key)
            children, after = _children(listing, key)
            reached_floor = not children
            for child in children:
                try:
                    kind, data = child["kind"], child["data"]
                    name, created = str(data["name"]), float(data["created_utc"])
                except (KeyError, TypeError, ValueError) as exc:
                    malformed += 1
                    log.warning("reddit: %s: skipped malformed item: %s", key, exc)
                    continue
                if created < floor:
                    reached_floor = True
                elif name not in seen and name not in new:
                    new[name] = (kind, data, created)
            if reached_floor or not after:
                break
        else:
            log.warning("reddit: %s: more than %d pages of new items since the last poll; older "
                        "ones are skipped (poll more often or raise max_pages)", key,
                        self.settings.max_pages)
        newest = max([c for _, _, c in new.values()] + ([since] if since is not None else []),
                     default=None)
        if newest is None:
            return {}, [], malformed    # nothing yet: the next fetch looks back `lookback` again
        seen.update({n: c for n, (_, _, c) in new.items()})
        keep = {n: c for n, c in seen.items() if c >= newest - overlap}
        return {"since": newest, "seen": keep}, [(k, d) for k, d, _ in new.values()], malformed

    def _get(self, path: str, params: dict, what: str) -> Any:
        import prawcore
        from praw.exceptions import RedditAPIException

        for attempt in (1, 2):
            try:
                return self.reddit.request(method="GET", path=path, params=params)
            except prawcore.TooManyRequests as exc:
                wait = _reset_seconds(exc.response.headers)
                if attempt == 2 or wait > self.settings.max_wait.total_seconds():
                    raise SourceError(f"reddit: {what}: rate limited (HTTP 429) for {wait:.0f}s "
                                      "more (will retry)") from None
                log.warning("reddit: %s: rate limited; waiting %.0fs", what, wait)
                self.context.waits(wait)
            except (prawcore.OAuthException, prawcore.InvalidToken):
                raise _refused(401) from None
            except prawcore.Forbidden:
                raise PermanentSourceError(
                    f"reddit: {what}: access refused (HTTP 403): a subreddit is private, "
                    "quarantined or banned; check sources.reddit.subreddits") from None
            except (prawcore.NotFound, prawcore.Redirect):
                raise PermanentSourceError(
                    f"reddit: {what}: not found: a subreddit in sources.reddit.subreddits does "
                    "not exist (or sources.reddit.api_url is wrong)") from None
            except prawcore.ResponseException as exc:
                status = exc.response.status_code
                if status == 401:
                    raise _refused(401) from None
                raise SourceError(f"reddit: {what}: HTTP {status} (will retry)") from None
            except prawcore.RequestException as exc:
                if isinstance(exc.original_exception, requests.Timeout):
                    raise SourceError(f"reddit: {what}: no answer within "
                                      f"{self.settings.timeout.total_seconds():g}s "
                                      "(will retry)") from None
                raise SourceError(f"reddit: {what}: cannot connect "
                                  f"({type(exc.original_exception).__name__}; will retry)"
                                  ) from None
            except RedditAPIException as exc:
                raise SourceError(f"reddit: {what}: {exc} (will retry)") from None
        raise AssertionError("unreachable")

    # -- reach ---------------------------------------------------------------------------------
    def _look_up_karma(self, fullnames: Iterable[str | None]) -> None:
        import prawcore
        from praw.exceptions import PRAWException

        wanted = sorted({f for f in fullnames if f and str(f).startswith("t2_")} - set(self.karma))
        if not wanted:
            return
        try:
            for user in self.reddit.redditors.partial_redditors(wanted):
                self.karma[user.fullname] = (int(getattr(user, "link_karma", 0) or 0)
                                             + int(getattr(user, "comment_karma", 0) or 0))
        except (prawcore.PrawcoreException, PRAWException, ValueError,
                TypeError) as exc:
            log.warning("reddit: author karma not available this time (%s); reach 0",
                        type(exc).__name__)
        if len(self.karma) > KARMA_CACHE:
            self.karma.clear()


def _children(listing: Any, what: str) -> tuple[list[dict], str | None]:
    try:
        data = listing["data"]
        children = data["children"]
        if not isinstance(children, list):
            raise TypeError("children is not a list")
    except (KeyError, TypeError) as exc:
        raise SourceError(f"reddit: {what}: the answer is not a listing ({exc}; will retry)"
                          ) from None
    after = data.get("after")
    return [c for c in children if isinstance(c, dict)], str(after) if after else None


def _reset_seconds(headers) -> float:
    for name in ("x-ratelimit-reset", "retry-after"):
        value = headers.get(name)
        try:
            return max(0.0, float(value)) + 1
        except (TypeError, ValueError):
            continue
    return 60.0


def _refused(status: int) -> PermanentSourceError:
    return PermanentSourceError(
        f"reddit: HTTP {status}: the app's credentials were refused; check "
        "sources.reddit.client_id and sources.reddit.client_secret")
