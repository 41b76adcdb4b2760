"""Reading newest-first listings (reviews, search results) without gaps or repeats, and
fetching several of them (apps, feeds, search terms) under one cursor.

A platform lists newest first and pages backwards. A *drain* reads from the top down to the
watermark the previous drain left; only when it gets there does the watermark move up to the
newest item it met. A drain may take several fetches (the page limit, a page that failed): its
position is part of the cursor, so a restart continues where it stopped and no item between
the watermark and the top is skipped. New items arriving on top push older ones down the pages,
which can only repeat items; the `seen` ids drop the repeats. `overlap` re-reads a little below
the watermark, because search indexes add items minutes after their time.

State of one listing (JSON, inside the source's cursor):

    {"since": ISO time,                 watermark: older items were returned by earlier drains
     "seen": {external_id: ISO time},   returned items at or above since - overlap
     "drain": {"page": token, "top": ISO time, "until": ISO time}}   a drain in progress
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from listener.config.types import Duration
from listener.errors import PermanentSourceError, SourceError, StaleToken
from listener.sources.contract import Batch, Cursor, RawMention
from listener.sources.webapi import WebSettings, iso, parse_time

log = logging.getLogger(__name__)

AUTHOR_MAX, LANG_MAX = 256, 16  # mentions.author and mentions.lang


class ListingSettings(WebSettings):
    """Settings of a source that drains newest-first listings (see the module docstring)."""

    max_pages: int = Field(10, ge=1, le=100, description=(
        "most pages read per run for each app, business or search; a longer backlog is read "
        "on at the next run"))
    lookback: Duration = Field("1d", description=(
        "how far back the very first run reaches (later runs continue from the cursor)"))
    overlap: Duration = Field("10m", description=(
        "how far below the newest item seen each run reads again, for items the platform "
        "indexes late; repeats are recognised and dropped"))


@dataclass
class Page:
    items: list[RawMention]
    next: Any = None   # token of the following page; None when this page is the last
    malformed: int = 0


# (lower bound, upper bound, page token or None for the first page) -> Page
PageReader = Callable[[datetime, datetime, Any], Page]


@dataclass
class Drained:
    mentions: list[RawMention]
    state: dict
    malformed: int = 0
    error: SourceError | None = None   # a later page failed; the state resumes at that page


def drain(state: dict | None, *, read_page: PageReader, now: datetime, lookback: timedelta,
          overlap: timedelta, max_pages: int) -> Drained:
    """Read pages of one listing until the watermark, the last page or `max_pages`."""
    state = state or {}
    since = parse_time(state["since"]) if state.get("since") else now - lookback
    if since > now:  # a cursor written under a wrong clock must not hide everything until then
        log.warning("a listing's watermark %s is in the future; reading from now on", since)
        since = now
    seen = {k: parse_time(v) for k, v in (state.get("seen") or {}).items()}
    progress = state.get("drain") or {}
    until = parse_time(progress["until"]) if progress.get("until") else now
    top = parse_time(progress["top"]) if progress.get("top") else since
    token = progress.get("page")
    lower = since - overlap
    out: list[RawMention] = []
    malformed, error, finished, pages = 0, None, False, 0
    while pages < max_pages:
        try:
            page = read_page(lower, until, token)
        except StaleToken as exc:
            if token is None:
                raise
            log.warning("%s; reading the listing again from its top", exc)
            token, pages = None, pages + 1
            continue
        except PermanentSourceError:
            raise
        except SourceError as exc:
            if pages == 0:
                raise
            error = exc  # keep what the earlier pages gave; resume at this page next time
            break
        pages += 1
        malformed += page.malformed
        reached = False
        for m in page.items:
            if m.created_at < lower:
                reached = True  # below the watermark: an earlier drain returned it
                continue
            if m.external_id in seen:
                continue
            seen[m.external_id] = m.created_at
            out.append(m)
            # an item dated after the drain began (a wrong clock) must not lift the watermark
            # over items not read yet
            top = max(top, min(m.created_at, until))
        token = page.next
        if reached or token is None or not page.items:
            finished = True
            break
    if finished:
        floor = top - overlap
        new = {"since": iso(top), "seen": {k: iso(v) for k, v in seen.items() if v >= floor}}
    else:
        new = {"since": iso(since), "seen": {k: iso(v) for k, v in seen.items() if v >= lower},
               "drain": {"page": token, "top": iso(top), "until": iso(until)}}
    return Drained(out, new, malformed, error)


@dataclass
class Keyed:
    """What one key (an app, a feed, a search term) gave: its mentions and new state."""

    mentions: list[RawMention]
    state: Any
    malformed: int = 0
    error: SourceError | None = None
    extra: dict = field(default_factory=dict)


def fetch_each(source: str, cursor: Cursor | None,
               readers: dict[str, Callable[[Any], Keyed | Drained]]) -> Batch:
    """Run every key's reader on its part of the cursor. One key failing does not stop the
    others (its state stays, so it is retried next time); the fetch fails only when every key
    failed, as a PermanentSourceError if any failure was permanent. A mention found under two
    keys (a post with two of the hashtags) is returned once."""
    states = dict((cursor or {}).get("keys") or {})
    out: list[RawMention] = []
    ids: set[str] = set()
    malformed = 0
    failures: list[SourceError] = []
    for key, read in readers.items():
        try:
            got = read(states.get(key))
        except SourceError as exc:
            log.warning("%s", exc)
            failures.append(exc)
            continue
        if got.error is not None:
            log.warning("%s (kept what came before; continuing there next time)", got.error)
        states[key] = got.state
        malformed += got.malformed
        for m in got.mentions:
            if m.external_id not in ids:
                ids.add(m.external_id)
                # the columns are sized (PostgreSQL enforces it): a feed's title as author or a
                # long language tag must not fail the whole batch
                m.author, m.lang = m.author[:AUTHOR_MAX], (m.lang or None) and m.lang[:LANG_MAX]
                out.append(m)
    if failures and len(failures) == len(readers):
        message = "; ".join(dict.fromkeys(str(f) for f in failures))
        if any(isinstance(f, PermanentSourceError) for f in failures):
            raise PermanentSourceError(message)
        raise SourceError(message)
    # keys dropped from the config leave the cursor, so it does not grow without end
    return Batch(out, {"keys": {k: v for k, v in states.items() if k in readers}}, malformed)
