"""HTTP plumbing for the collectors that call a web API through a `requests.Session`
(App Store, Trustpilot, RSS, Bluesky, Hacker News).

`WebApi.get` turns every failure into the listener's two error kinds, so a source's `fetch`
never lets a `requests` exception or a stray status escape:

    timeout, connection error, 5xx, other 4xx   SourceError            retry on the next run
    429                                         SourceError (RateLimited) after at most one
                                                wait of Retry-After on the injected sleep
    401, 403                                    PermanentSourceError   names the setting to fix
    404                                         PermanentSourceError   names the setting to fix

Messages say which request failed in the platform's terms ("app 123 (us), page 2") and never
quote a secret: credentials travel in headers, and URLs are not repeated in messages.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import requests
from pydantic import Field

from listener.config.types import Duration, Strict
from listener.errors import PermanentSourceError, RateLimited, SourceError
from listener.sources.contract import SourceContext

log = logging.getLogger(__name__)

MAX_ID = 128  # mentions.external_id is VARCHAR(128)
USER_AGENT = "social-listener/0.1 (+https://github.com/; brand monitoring)"


class WebSettings(Strict):
    """Settings every web-API source shares (each adds `every`, `api_url` and its own)."""

    timeout: Duration = Field("20s", description=(
        "how long to wait for an answer; a request that takes longer fails this run and is "
        "retried at the next"))
    max_wait: Duration = Field("30s", description=(
        "longest rate-limit wait (Retry-After) to sit out within a run; a longer one ends the "
        "run and the next run retries"))


def retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait, from Retry-After (seconds or an HTTP date) or a rate-limit reset header
    (epoch seconds, as Bluesky and Mastodon send). None when the response does not say."""
    now = time.time() if now is None else now
    value = headers.get("Retry-After")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError):
            return None
    for name in ("RateLimit-Reset", "X-RateLimit-Reset"):
        reset = headers.get(name)
        if reset:
            try:
                return max(0.0, float(reset) - now) if float(reset) > 1e9 else float(reset)
            except ValueError:
                try:  # Mastodon sends an ISO 8601 time
                    return max(0.0, parse_time(reset).timestamp() - now)
                except ValueError:
                    return None
    return None


class WebApi:
    """One platform's HTTP access: the session, timeout, rate-limit waits and error wording."""

    def __init__(self, session: requests.Session | None, *, source: str, timeout: float,
                 max_wait: float, sleep: Callable[[float], None] = time.sleep,
                 credential: str | None = None) -> None:
        self.session = session or new_session()
        self.source = source
        self.timeout = timeout
        self.max_wait = max_wait
        self.sleep = sleep
        self.credential = credential  # the setting holding the key, named when it is refused

    def get(self, url: str, *, what: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, what=what, **kwargs)

    def request(self, method: str, url: str, *, what: str,
                params: Mapping[str, Any] | None = None,
                headers: Mapping[str, str] | None = None, json: Any = None,
                fix_404: str | None = None, fix_auth: str | None = None,
                accept: tuple[int, ...] = ()) -> requests.Response:
        """Send one request; statuses in `accept` come back for the caller to read."""
        for attempt in (1, 2):
            try:
                resp = self.session.request(method, url, params=params, headers=headers,
                                            json=json, timeout=self.timeout)
            except requests.Timeout:
                raise SourceError(
                    f"{self.source}: {what}: no answer within {self.timeout:g}s") from None
            except requests.RequestException as exc:
                raise SourceError(f"{self.source}: {what}: cannot connect "
                                  f"({type(exc).__name__})") from None
            status = resp.status_code
            if status in accept:
                return resp
            if status == 429:
                wait = retry_after(resp.headers)
                if attempt == 1 and wait is not None and wait <= self.max_wait:
                    log.info("%s: %s: rate limited; waiting %.0fs as asked", self.source, what,
                             wait)
                    self.sleep(wait)
                    continue
                after = f"; the platform asks to wait {wait:.0f}s" if wait is not None else ""
                raise RateLimited(f"{self.source}: {what}: rate limited (HTTP 429){after}", wait)
            if status in (401, 403):
                fix = fix_auth or (f"check {self.credential}" if self.credential
                                   else "the platform refuses access")
                raise PermanentSourceError(
                    f"{self.source}: {what}: access refused (HTTP {status}); {fix}")
            if status == 404:
                raise PermanentSourceError(f"{self.source}: {what}: not found (HTTP 404)"
                                           + (f"; {fix_404}" if fix_404 else ""))
            if status >= 400:
                raise SourceError(f"{self.source}: {what}: HTTP {status}")
            return resp
        raise AssertionError("unreachable")

    def get_json(self, url: str, *, what: str, **kwargs: Any) -> Any:
        return self.json_of(self.get(url, what=what, **kwargs), what=what)

    def json_of(self, resp: requests.Response, *, what: str) -> Any:
        try:
            return resp.json()
        except ValueError:
            raise SourceError(f"{self.source}: {what}: the answer is not JSON "
                              f"({len(resp.content)} bytes)") from None


def new_session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


def parse_time(value: Any) -> datetime:
    """An aware UTC datetime from ISO 8601 (Z or offset; naive is taken as UTC) or epoch
    seconds. Raises ValueError for anything else."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    elif isinstance(value, str) and value.strip():
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    else:
        raise ValueError(f"{value!r} is not a time")
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat()


def stable_id(value: str) -> str:
    """The platform's id, or a digest of it when it is longer than the column allows."""
    if len(value) <= MAX_ID:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


class WebSource:
    """What the web-API sources share: their context (settings, the wall clock their API windows
    use, the session), the search terms drawn from the brands' queries and a `WebApi` over the
    context's session that waits through the context's wait counter.
    Subclasses set `name` and, when a key is needed, `credential` (the setting holding it)."""

    name: ClassVar[str]
    credential: ClassVar[str | None] = None

    def __init__(self, context: SourceContext) -> None:
        from listener.sources.searchterms import search_terms

        self.context = context
        self.settings = settings = context.settings
        self.terms = search_terms(context.queries)
        self.api = WebApi(context.session, source=self.name,
                          timeout=settings.timeout.total_seconds(),
                          max_wait=settings.max_wait.total_seconds(), sleep=context.waits,
                          credential=self.credential)

    def fetch_each_term(self, cursor):
        """For search APIs: each search term drained newest-first with its own cursor
        (`self._page(term, lower, upper, page)` reads one page; settings carry lookback,
        overlap and max_pages)."""
        from listener.sources.listing import drain, fetch_each

        if not self.terms:
            raise PermanentSourceError(f"{self.name}: the brands' queries give no word to "
                                       "search for; give each brand a query with words")
        s, now = self.settings, self.context.wall_clock()
        readers = {}
        for term in self.terms:
            def read(state, term=term):
                return drain(state, now=now, lookback=s.lookback, overlap=s.overlap,
                             max_pages=s.max_pages,
                             read_page=lambda lo, up, page: self._page(term, lo, up, page))
            readers[term] = read
        return fetch_each(self.name, cursor, readers)
