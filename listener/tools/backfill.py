"""Backfill: read a source's history once, for the sources whose API can list the past.

A backfill builds the source afresh with its `lookback` set to the period asked for and runs it
through `collect` under a state of its own, `NAME:backfill`, until its pagination is
done. The source's own cursor is not touched: the daemon keeps listening from where it was, and
the two overlap harmlessly because storing is idempotent on (source, external id) and copies
join one cluster. A backfill starts over each time it is run (again: idempotent).

How far back each one can go:

    twitter      recent search: 7 days at most (a longer --since is cut to that, with a warning)
    hackernews   Algolia numericFilters on created_at_i: any period, 1,000 hits per search term
    bluesky      searchPosts since/until: any period, as far as the search index pages
    reddit       search with a time filter and the subreddits' comment listings: Reddit lists
                 at most about 1,000 items per listing (read in one run of max_pages=10)
    appstore     the review feed: the most recent 500 reviews per app and country (10 pages)
    trustpilot   the business's reviews, newest first, as far as the API pages

Not backfillable: rss and atom feeds (a feed holds what it holds now), mastodon (timelines by
id, no time bound) and replay (a file is read to its end anyway).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from listener.config import Config
from listener.errors import ListenerError
from listener.pipeline.collect import CollectResult, collect
from listener.sources import SOURCES
from listener.sources.contract import Source, SourceContext
from listener.storage import store

log = logging.getLogger(__name__)

MAX_RUNS = 1_000   # a pagination that never ends (a misbehaving API) still stops


def _listing_pending(cursor: dict | None) -> bool:
    """listener.sources.listing: a drain in progress under some key."""
    return any(isinstance(s, dict) and s.get("drain")
               for s in ((cursor or {}).get("keys") or {}).values())


def _twitter_pending(cursor: dict | None) -> bool:
    return any(isinstance(s, dict) and s.get("next_token")
               for s in ((cursor or {}).get("queries") or {}).values())


@dataclass(frozen=True)
class Reach:
    pending: Callable[[dict | None], bool]   # is a pagination still in progress?
    limit: timedelta | None = None           # the farthest the API reaches back
    settings: dict = field(default_factory=dict)   # overrides besides lookback
    # listing sources: the keys (terms, apps) the cursor should hold once each was read; a key
    # whose first page failed is absent, and the next run reads it again
    keys: Callable[[Any], list[str]] | None = None

    def missing(self, source, cursor: dict | None) -> list[str]:
        held = (cursor or {}).get("keys") or {}
        return [k for k in self.keys(source) if k not in held] if self.keys else []


BACKFILL: dict[str, Reach] = {
    "twitter": Reach(_twitter_pending, limit=timedelta(days=7)),
    "hackernews": Reach(_listing_pending, keys=lambda src: list(src.terms)),
    "bluesky": Reach(_listing_pending, keys=lambda src: list(src.terms)),
    "appstore": Reach(_listing_pending, keys=lambda src: [f"{a.country}/{a.id}"
                                                           for a in src.settings.apps]),
    "trustpilot": Reach(_listing_pending, keys=lambda src: [src.settings.business_unit_id]),
    "reddit": Reach(lambda cursor: False, settings={"max_pages": 10}),
}


def state_name(name: str) -> str:
    return f"{name}:backfill"


def backfill_settings(config: Config, name: str, since: timedelta):
    """The source's settings with `lookback` = since (cut to what its API reaches)."""
    enabled = config.enabled_sources()
    if name not in enabled:
        raise ListenerError(f"source {name!r} is not configured; configured: "
                            f"{', '.join(enabled) or 'none'}")
    if name not in BACKFILL:
        raise ListenerError(f"{name} cannot backfill (its API lists no history); sources that "
                            f"can: {', '.join(sorted(BACKFILL))}")
    reach = BACKFILL[name]
    if reach.limit is not None and since > reach.limit:
        log.warning("%s reaches back %s at most; backfilling that", name, reach.limit)
        since = reach.limit
    return enabled[name].model_copy(update={"lookback": since, **reach.settings})


def build_backfill_source(config: Config, config_dir: Path | None, name: str, since: timedelta,
                          **extra: Any) -> Source:
    """A fresh source for the backfill, built as build_sources builds one (`extra`: more of its
    SourceContext, such as a test's session, wall clock or sleep)."""
    settings = backfill_settings(config, name, since)
    return SOURCES[name](SourceContext(settings, base_dir=config_dir or Path("."),
                                       queries=[b.query for b in config.brands], **extra))


@dataclass
class BackfillResult:
    source: str
    runs: int = 0
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    dropped: int = 0
    malformed: int = 0
    error: str | None = None


def backfill(engine: Engine, *, config: Config, name: str, source, now: datetime,
             progress: Callable[[CollectResult], None] | None = None) -> BackfillResult:
    """Run `source` (from `build_backfill_source`) until its pagination is done. Stops at a
    failed run or a run that made no progress, keeping what came before (`error` says why); a
    permanent error is raised."""
    key = state_name(name)
    with Session(engine) as session:
        state = store.source_state(session, name=key)
        state.cursor, state.exhausted = None, False   # each backfill starts over
        session.add(state)
        session.commit()
    total = BackfillResult(name)
    reach, before = BACKFILL[name], None
    for _ in range(MAX_RUNS):
        r = collect(engine, config=config, name=key, source=source, now=now)
        total.runs += 1
        for f in ("fetched", "stored", "duplicates", "dropped", "malformed"):
            setattr(total, f, getattr(total, f) + getattr(r, f))
        if progress is not None:
            progress(r)
        if r.error:
            total.error = r.error
            break
        with Session(engine) as session:
            cursor = store.source_state(session, name=key).cursor
        missing = reach.missing(source, cursor)
        if not reach.pending(cursor) and not missing:
            break
        if cursor == before and r.fetched == 0:
            total.error = (f"{', '.join(missing)}: could not be read (see the warnings above)"
                           if missing else "the pagination made no progress")
            break
        before = cursor
    else:
        total.error = f"still paging after {MAX_RUNS} runs"
    return total
