"""The collect step: one run of one source. Its batch is matched against the brand queries and
stored with the source's next cursor in one transaction; its health (pipeline.health) is recorded
with what it stored."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from listener.config import Config
from listener.errors import PermanentSourceError, SourceError
from listener.pipeline import health
from listener.query.matching import match_mention
from listener.sources.contract import Source
from listener.storage import store

log = logging.getLogger(__name__)


@dataclass
class CollectResult:
    source: str
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    dropped: int = 0
    malformed: int = 0
    exhausted: bool = False
    error: str | None = None


def collect(engine: Engine, *, config: Config, name: str, source: Source,
            now: datetime) -> CollectResult:
    """One run of one source; its health (pipeline.health) is recorded with what it stored."""
    with Session(engine) as session:
        cursor = store.source_state(session, name=name).cursor
    counter = source.context.waits   # counts the rate-limit waits the source sits out
    waits_before = counter.count
    try:
        batch = source.fetch(cursor)
    except SourceError as exc:
        waits = counter.count - waits_before
        with Session(engine) as session:
            state = store.source_state(session, name=name)
            health.record_failure(state, exc=exc, waits=waits, now=now)
            failing, in_a_row = health.failing(state), state.consecutive_failures
            session.add(state)
            session.commit()
        if failing:
            log.error("source %s has failed %d runs in a row; last error: %s", name, in_a_row,
                      exc)
        if isinstance(exc, PermanentSourceError):
            raise
        if not failing:
            log.warning("source %s: %s (will retry)", name, exc)
        return CollectResult(name, error=str(exc))
    waits = counter.count - waits_before
    rows, dropped = [], 0
    for m in batch.mentions:
        match = match_mention(config, m)
        if match is None:
            dropped += 1
        else:
            rows.append((m, match.brand, match.product))
    with Session(engine) as session:
        stored, dups = store.add_mentions(
            session, source_name=name, mentions=rows, cursor=batch.cursor,
            fetched=len(batch.mentions), dropped=dropped, malformed=batch.malformed,
            exhausted=batch.exhausted, now=now)
        health.record_success(store.source_state(session, name=name),
                              fetched=len(batch.mentions), waits=waits, now=now,
                              newest=max((m.created_at for m in batch.mentions), default=None))
        session.commit()
    return CollectResult(name, len(batch.mentions), stored, dups, dropped, batch.malformed,
                         batch.exhausted)
