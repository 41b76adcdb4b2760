"""Source health: what each collector run did, kept in `source_states` by `pipeline.collect`.

Per source: runs, the last run and the last success, the newest mention's time (the lag is now
minus that), errors counted by kind, rate-limit waits sat out (counted by the source's
`context.waits`), mentions fetched in the last run and their moving average over the runs that
worked, and failures in a row. A source failing FAILING_AFTER runs in a row is logged at ERROR
with its last error at that failure and every further one, so it is not silently skipped.

Error kinds come from the listener's error types and the sources' wording (listener.sources.webapi
and the Twitter and Reddit sources phrase their failures the same way):

    permanent      PermanentSourceError: a credential, a setting, a missing file
    rate_limited   429 / rate limited beyond what the source may wait
    timeout        no answer within the timeout
    connection     cannot connect
    http           any other HTTP status (5xx and unexpected 4xx)
    bad_answer     the answer is not JSON or not in the expected shape
    other          anything else
"""

from __future__ import annotations

import re
from datetime import datetime

from listener.errors import PermanentSourceError, SourceError
from listener.storage.models import SourceState

FAILING_AFTER = 3
AVERAGE_WEIGHT = 0.2   # exponential moving average of mentions per run: ~the last 5-10 runs

_KINDS = [
    ("rate_limited", re.compile(r"rate limit|HTTP 429", re.IGNORECASE)),
    ("timeout", re.compile(r"no answer within|timed? ?out", re.IGNORECASE)),
    ("connection", re.compile(r"cannot connect", re.IGNORECASE)),
    ("bad_answer", re.compile(r"not JSON|not a JSON|not a list|has no|malformed", re.IGNORECASE)),
    ("http", re.compile(r"HTTP \d{3}")),
]


def error_kind(exc: SourceError) -> str:
    if isinstance(exc, PermanentSourceError):
        return "permanent"
    message = str(exc)
    return next((kind for kind, pattern in _KINDS if pattern.search(message)), "other")


def record_success(state: SourceState, *, fetched: int, newest: datetime | None, waits: int,
                   now: datetime) -> None:
    state.runs += 1
    state.last_run_at = state.last_success_at = now
    if newest is not None and (state.newest_mention_at is None
                               or newest > state.newest_mention_at):
        state.newest_mention_at = newest
    state.rate_limit_waits += waits
    state.last_run_mentions = fetched
    state.mentions_per_run = (fetched if state.runs == 1 else
                              (1 - AVERAGE_WEIGHT) * state.mentions_per_run
                              + AVERAGE_WEIGHT * fetched)
    state.consecutive_failures = 0


def record_failure(state: SourceState, *, exc: SourceError, waits: int, now: datetime) -> None:
    state.runs += 1
    state.last_run_at = now
    state.last_error = str(exc)
    kind = error_kind(exc)
    state.errors = {**(state.errors or {}), kind: (state.errors or {}).get(kind, 0) + 1}
    state.rate_limit_waits += waits
    state.last_run_mentions = 0
    state.consecutive_failures += 1


def failing(state: SourceState) -> bool:
    return state.consecutive_failures >= FAILING_AFTER


def health_record(state: SourceState, now: datetime) -> dict:
    """One source's health as a plain record (for `listener sources`)."""
    def iso(dt: datetime | None) -> str | None:
        return dt.isoformat().replace("+00:00", "Z") if dt else None
    lag = (now - state.newest_mention_at).total_seconds() if state.newest_mention_at else None
    status = ("failing" if failing(state) else "error" if state.consecutive_failures
              else "ok" if state.last_success_at else "never run")
    return {
        "source": state.name, "status": status, "runs": state.runs,
        "last_run": iso(state.last_run_at), "last_success": iso(state.last_success_at),
        "newest_mention": iso(state.newest_mention_at), "lag_seconds": lag,
        "stored": state.stored, "duplicates": state.duplicates, "dropped": state.dropped,
        "malformed": state.malformed, "errors": dict(state.errors or {}),
        "rate_limit_waits": state.rate_limit_waits, "last_run_mentions": state.last_run_mentions,
        "mentions_per_run": round(state.mentions_per_run, 2),
        "consecutive_failures": state.consecutive_failures, "last_error": state.last_error,
    }
