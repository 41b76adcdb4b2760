"""The contract every source (collector) fulfils.

A source turns its platform's payloads into `RawMention`s. It is built from one `SourceContext`
(`cls(context)`): its settings and what the daemon lends it. `fetch(cursor)` returns a `Batch`:
the mentions plus the cursor to pass next time. The cursor is stored in the same transaction as
the mentions, so a crash never loses or repeats a batch. Network access happens only in `fetch`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel

if TYPE_CHECKING:
    import requests

Cursor = dict[str, Any]


def utcnow() -> datetime:
    return datetime.now(UTC)


class WaitCounter:
    """A `sleep` for a source that counts the rate-limit waits it sits out (its health)."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self._sleep = sleep
        self.count = 0
        self.seconds = 0.0

    def __call__(self, seconds: float) -> None:
        self.count += 1
        self.seconds += seconds
        self._sleep(seconds)


@dataclass(frozen=True)
class SourceContext:
    """What a source is built from. One per source: its wait counter counts its waits only.
    Tests pass their fakes (session, clocks, sleep) here."""

    settings: Any                                  # the source's `Settings`: its config block
    base_dir: Path = Path(".")                     # where relative paths in the settings start
    clock: Callable[[], datetime] = utcnow         # the daemon's clock, simulated in a replay
    # the platforms live in real time: their API windows and rate-limit resets use this one
    wall_clock: Callable[[], datetime] = utcnow
    queries: Sequence[str] = ()                    # the brands' queries, for sources that search
    session: requests.Session | None = None        # None: the source makes its own
    sleep: Callable[[float], None] = time.sleep    # what a rate-limit wait sleeps on
    # `sleep`, counted; sources wait through it, and collect reads its count for the health
    waits: WaitCounter = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "queries", tuple(self.queries))
        object.__setattr__(self, "waits", WaitCounter(self.sleep))


@dataclass
class RawMention:
    source: str
    external_id: str
    created_at: datetime
    text: str
    author: str = ""
    author_reach: int = 0
    url: str = ""
    lang: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class Batch:
    mentions: list[RawMention]
    cursor: Cursor | None
    malformed: int = 0     # payload items that could not be read (logged by the source)
    exhausted: bool = False  # a finite source (a replay) has nothing more, ever


class Source(Protocol):
    """Built as `cls(context)`; the registry (`listener.sources.SOURCES`) maps config names to
    these classes, and the config reads each one's `Settings` and docstring."""

    name: ClassVar[str]
    Settings: ClassVar[type[BaseModel]]
    context: SourceContext

    def fetch(self, cursor: Cursor | None) -> Batch: ...
