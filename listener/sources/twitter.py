"""Twitter/X: API v2 recent search through tweepy, one page per query per fetch.

The config's brand queries are compiled to Twitter's syntax (`listener.query.native`), ORed and
split at the API's query length limit; each resulting query pages on its own. Its state in the
cursor (JSON):

    {"queries": {QUERY: {"since_id":   newest id of the last finished pagination,
                         "next_token": token of the next page of a pagination in progress,
                         "newest_id":  newest id of that pagination (its since_id to be),
                         "start_time": first poll only: how far back it reaches}}}

A pagination walks from the newest tweets back to `since_id`. The page token is in the cursor,
which is stored with the page's tweets, so a restart between pages continues with the next page:
no gap, no repeat. `since_id` moves up only when the last page is stored; tweets posted during a
pagination are found by the next one. A cursor the API refuses (expired page token, `since_id`
older than the 7 days recent search covers) is dropped and the query starts over, logged.

Failures: 401/403 raise `PermanentSourceError` naming `sources.twitter.bearer_token`; 429 waits
until `x-rate-limit-reset` on the context's wait counter and retries the same page (a longer
wait than `max_wait` ends the run, and no request is made before the reset); timeouts,
connection errors and 5xx raise `SourceError`, retried at the next run. The bearer token never
appears in a message, and tweepy's debug log of request headers is redacted.
"""

from __future__ import annotations

import copy
import html
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import requests
from pydantic import Field, SecretStr, field_validator

from listener.config.types import Duration, Strict
from listener.errors import PermanentSourceError, QueryError, SourceError
from listener.query.native import TWITTER, approximations, native_queries
from listener.query.parser import Field as FieldFilter
from listener.sources.contract import Batch, Cursor, RawMention, SourceContext

if TYPE_CHECKING:
    import tweepy

log = logging.getLogger(__name__)

TWEEPY_HOST = "https://api.twitter.com"   # tweepy's Client always calls this host
TWEET_FIELDS = ["created_at", "lang", "public_metrics", "author_id", "conversation_id",
                "referenced_tweets"]
USER_FIELDS = ["username", "public_metrics"]
NOT_A_LANGUAGE = {"und", "zxx", "qme", "qam", "qht", "qct", "qst"}  # Twitter's special codes
SNOWFLAKE_EPOCH_MS = 1288834974657
RECENT_SEARCH_REACH = timedelta(days=7) - timedelta(minutes=5)


class TwitterSettings(Strict):
    bearer_token: SecretStr = Field(description=(
        "app-only bearer token of a project with recent-search access; write "
        "${TWITTER_BEARER_TOKEN} and export it"))
    api_url: str = Field(TWEEPY_HOST, pattern=r"^https?://", description=(
        "API base URL: the real host, or a proxy, enterprise gateway or test server"))
    every: Duration = Field("2m", description="how often to poll (each query costs one request)")
    max_results: int = Field(100, ge=10, le=100, description="tweets per page, 10 to 100")
    lang: str | None = Field(None, description=(
        "only tweets Twitter tagged with this language (ISO 639-1 code, e.g. en); default: all"))
    lookback: Duration = Field("1h", description=(
        "how far back the first poll reaches (recent search covers at most 7 days)"))
    max_query_length: int = Field(512, ge=64, le=4096, description=(
        "longest query the project's access level accepts (512; 1024 or 4096 on higher "
        "levels); longer brand queries are split into several"))
    timeout: Duration = Field("20s", description="how long to wait for an answer")
    max_wait: Duration = Field("2m", description=(
        "longest rate-limit wait (until x-rate-limit-reset) to sit out within a run; after a "
        "longer one the next run retries the same page"))

    @field_validator("lang")
    @classmethod
    def _lang_code(cls, value: str | None) -> str | None:
        if value is not None and not (value.isascii() and value.isalpha() and 2 <= len(value) <= 3):
            raise ValueError(f"{value!r} is not a language code; write e.g. en, de or ja")
        return value.lower() if value else value


class ApiHostSession(requests.Session):
    """Sends tweepy's requests to `api_url` instead of api.twitter.com, with a timeout on every
    request (requests has none by default and tweepy sets none)."""

    def __init__(self, api_url: str, timeout: float) -> None:
        super().__init__()
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout

    def request(self, method, url, *args, **kwargs):
        if isinstance(url, str) and url.startswith(TWEEPY_HOST):
            url = self.api_url + url[len(TWEEPY_HOST):]
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


class _Redact(logging.Filter):
    """tweepy logs each request's headers, bearer token included, at DEBUG level."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            for s in self.secrets:
                message = message.replace(s, "[redacted]")
            record.msg, record.args = message, None
        return True


def _redact_tweepy_log(secret: str) -> None:
    logger = logging.getLogger("tweepy.client")
    redact = next((f for f in logger.filters if isinstance(f, _Redact)), None)
    if redact is None:
        redact = _Redact()
        logger.addFilter(redact)
    redact.secrets.add(secret)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def tweet_time(tweet: dict[str, Any]) -> datetime:
    """created_at, or when the payload lacks it, the time encoded in the tweet's snowflake id."""
    if tweet.get("created_at"):
        return datetime.fromisoformat(str(tweet["created_at"]).replace("Z", "+00:00"))
    ms = (int(tweet["id"]) >> 22) + SNOWFLAKE_EPOCH_MS
    return datetime.fromtimestamp(ms // 1000, tz=UTC).replace(microsecond=ms % 1000 * 1000)


def read_tweet(tweet: Any, users: dict[str, dict]) -> RawMention:
    """One tweet of a search page -> RawMention; raises ValueError/KeyError/TypeError when it
    cannot be read."""
    if not isinstance(tweet, dict):
        raise TypeError("not a JSON object")
    tid = str(tweet["id"])
    if not tid.isdigit():
        raise ValueError(f"id {tid!r} is not a tweet id")
    if not isinstance(tweet.get("text"), str):
        raise ValueError("no text")
    user = users.get(str(tweet.get("author_id")), {})
    username = str(user.get("username") or "")
    followers = (user.get("public_metrics") or {}).get("followers_count") or 0
    raw = dict(tweet)
    if user:
        raw["author"] = user
    retweet_of = next((str(r["id"]) for r in tweet.get("referenced_tweets") or []
                       if isinstance(r, dict) and r.get("type") == "retweeted" and r.get("id")),
                      None)
    if retweet_of:
        raw["retweet_of"] = retweet_of   # the same voice as the original, not a new one
    lang = tweet.get("lang")
    return RawMention(
        source="twitter", external_id=tid, created_at=tweet_time(tweet),
        text=html.unescape(tweet["text"]),   # the API escapes &, < and > in tweet text
        author=username, author_reach=int(followers),
        url=f"https://x.com/{username}/status/{tid}" if username
        else f"https://x.com/i/web/status/{tid}",
        lang=lang if isinstance(lang, str) and lang not in NOT_A_LANGUAGE else None,
        raw=raw)


class TwitterSource:
    """Twitter/X recent search (API v2): brand queries compiled to Twitter's syntax."""

    name: ClassVar[str] = "twitter"
    Settings: ClassVar[type[Strict]] = TwitterSettings

    def __init__(self, context: SourceContext) -> None:
        import tweepy  # imported once a source is built: the config needs none

        # the context's `clock` is the daemon's (simulated during a replay); the API lives in
        # real time, so start times and rate-limit resets use its `wall_clock`
        self.context = context
        self.settings = settings = context.settings
        also = FieldFilter("lang", settings.lang) if settings.lang else None
        try:
            self.queries = native_queries(context.queries, TWITTER,
                                          limit=settings.max_query_length, also=also)
        except QueryError as exc:
            raise PermanentSourceError(f"twitter: {exc}") from None
        if not self.queries:
            raise PermanentSourceError("twitter: no brand query can match a tweet (brands[].query"
                                       " all exclude source:twitter, or there are none)")
        for term in approximations(context.queries, TWITTER):
            log.warning("twitter: %s is searched as %s (Twitter has no wildcards); tweets with "
                        "only longer words are not fetched", term, term.rstrip("*"))
        token = settings.bearer_token.get_secret_value()
        _redact_tweepy_log(token)
        self.client = tweepy.Client(bearer_token=token, return_type=dict,
                                    wait_on_rate_limit=False)
        self.client.session = context.session or ApiHostSession(
            settings.api_url, settings.timeout.total_seconds())
        self.blocked_until: datetime | None = None   # rate limited: no request before this

    def fetch(self, cursor: Cursor | None) -> Batch:
        previous = copy.deepcopy((cursor or {}).get("queries") or {})
        states: dict[str, dict] = {}
        mentions: list[RawMention] = []
        malformed = 0
        for query in self.queries:
            state, page, bad = self._next_page(query, dict(previous.get(query) or {}))
            states[query] = state
            mentions.extend(page)
            malformed += bad
        return Batch(mentions, {"queries": states}, malformed)

    # -- one page of one query ------------------------------------------------------------
    def _next_page(self, query: str, state: dict) -> tuple[dict, list[RawMention], int]:
        import tweepy

        try:
            body = self._search(self._params(query, state))
        except tweepy.BadRequest as exc:
            if not (state.get("next_token") or state.get("since_id")):
                raise PermanentSourceError(
                    f"twitter: the API refused the query {query!r}: {_api_message(exc)}") from None
            log.warning("twitter: the API refused the cursor of %r (%s); starting that query "
                        "over", query, _api_message(exc))
            state = self._restart(state)
            try:
                body = self._search(self._params(query, state))
            except tweepy.BadRequest as again:
                raise PermanentSourceError(
                    f"twitter: the API refused the query {query!r}: {_api_message(again)}"
                ) from None
        mentions, malformed, meta = self._read_page(body)
        return self._advance(state, mentions, meta), mentions, malformed

    def _params(self, query: str, state: dict) -> dict[str, Any]:
        params: dict[str, Any] = {
            "query": query, "max_results": self.settings.max_results,
            "tweet_fields": TWEET_FIELDS, "expansions": ["author_id"],
            "user_fields": USER_FIELDS}
        if state.get("since_id"):
            params["since_id"] = state["since_id"]
        else:
            reach = min(self.settings.lookback, RECENT_SEARCH_REACH)
            state.setdefault("start_time", _iso(self.context.wall_clock() - reach))
            params["start_time"] = state["start_time"]
        if state.get("next_token"):
            params["next_token"] = state["next_token"]
        return params

    def _restart(self, state: dict) -> dict:
        """A fresh pagination: a refused page token is dropped first, a refused since_id
        (older than recent search reaches) next, for the oldest start time the API allows."""
        if state.get("next_token"):
            return {k: v for k, v in state.items() if k in ("since_id", "start_time")}
        return {"start_time": _iso(self.context.wall_clock() - RECENT_SEARCH_REACH)}

    @staticmethod
    def _advance(state: dict, mentions: list[RawMention], meta: dict) -> dict:
        state = dict(state)
        if not state.get("next_token"):   # the first page of a pagination: its newest tweet
            ids = [int(m.external_id) for m in mentions]
            if meta.get("newest_id") and str(meta["newest_id"]).isdigit():
                ids.append(int(meta["newest_id"]))
            if ids:
                state["newest_id"] = str(max(ids))
        token = meta.get("next_token")
        if token:
            state["next_token"] = str(token)
            return state
        state.pop("next_token", None)
        newest = state.pop("newest_id", None)
        if newest:
            state["since_id"] = newest
        state.pop("start_time", None)   # next time: since_id, or a fresh lookback if none
        return state

    def _read_page(self, body: Any) -> tuple[list[RawMention], int, dict]:
        if not isinstance(body, dict):
            raise SourceError("twitter: search page: the answer is not a JSON object "
                              "(will retry)")
        data = body.get("data") or []
        includes = body.get("includes") if isinstance(body.get("includes"), dict) else {}
        meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
        if not isinstance(data, list):
            raise SourceError("twitter: search page: 'data' is not a list (will retry)")
        users = {str(u["id"]): u for u in includes.get("users") or []
                 if isinstance(u, dict) and u.get("id")}
        mentions, malformed = [], 0
        for tweet in data:
            try:
                mentions.append(read_tweet(tweet, users))
            except (KeyError, TypeError, ValueError) as exc:
                malformed += 1
                tid = tweet.get("id") if isinstance(tweet, dict) else None
                log.warning("twitter: skipped malformed tweet %s: %s", tid, exc)
        return mentions, malformed, meta

    # -- the request, with rate-limit waits and error wording ------------------------------
    def _search(self, params: dict[str, Any]) -> Any:
        import tweepy

        self._check_not_blocked()
        for attempt in (1, 2, 3):
            try:
                return self.client.search_recent_tweets(**params)
            except tweepy.TooManyRequests as exc:
                if attempt == 3:
                    break
                self._wait_for_reset(exc.reset_time)
            except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
                status = exc.response.status_code
                why = ("the bearer token was refused" if status == 401 else
                       "the bearer token may not use recent search (the project's access level?)")
                raise PermanentSourceError(
                    f"twitter: HTTP {status}: {why}; check sources.twitter.bearer_token") from None
            except tweepy.NotFound:
                raise PermanentSourceError(
                    "twitter: HTTP 404 for the recent search endpoint; check "
                    "sources.twitter.api_url") from None
            except tweepy.BadRequest:
                raise
            except tweepy.TwitterServerError as exc:
                raise SourceError(f"twitter: search page: HTTP {exc.response.status_code} "
                                  "(will retry)") from None
            except tweepy.HTTPException as exc:
                raise SourceError(f"twitter: search page: HTTP {exc.response.status_code} "
                                  "(will retry)") from None
            except requests.Timeout:
                raise SourceError(f"twitter: search page: no answer within "
                                  f"{self.settings.timeout.total_seconds():g}s (will retry)"
                                  ) from None
            except ValueError:   # requests' JSONDecodeError is also a RequestException
                raise SourceError("twitter: search page: the answer is not JSON "
                                  "(will retry)") from None
            except requests.RequestException as exc:
                raise SourceError(f"twitter: search page: cannot connect "
                                  f"({type(exc).__name__}; will retry)") from None
        raise SourceError("twitter: still rate limited after waiting for the reset twice "
                          "(will retry)")

    def _wait_for_reset(self, reset_time: int | None) -> None:
        now = self.context.wall_clock()
        reset = (datetime.fromtimestamp(reset_time, tz=UTC) if reset_time
                 else now + timedelta(minutes=1))
        wait = max(0.0, (reset - now).total_seconds()) + 1   # the reset second itself counts
        if wait > self.settings.max_wait.total_seconds():
            self.blocked_until = reset
            raise SourceError(f"twitter: rate limited until {reset:%H:%M:%S} UTC (HTTP 429); "
                              "the next run after that retries the same page")
        log.warning("twitter: rate limited; waiting %.0fs until %s UTC", wait,
                    f"{reset:%H:%M:%S}")
        self.context.waits(wait)

    def _check_not_blocked(self) -> None:
        if self.blocked_until is not None:
            if self.context.wall_clock() < self.blocked_until:
                raise SourceError(f"twitter: rate limited until {self.blocked_until:%H:%M:%S} "
                                  "UTC (will retry then)")
            self.blocked_until = None


def _api_message(exc: tweepy.HTTPException) -> str:
    return "; ".join(str(m) for m in exc.api_messages) or f"HTTP {exc.response.status_code}"
