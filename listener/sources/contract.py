"""The contract every source (collector) fulfils.

A source turns its platform's payloads into `RawMention`s. `fetch(cursor)` returns a `Batch`: the
mentions plus the cursor to pass next time. The cursor is stored in the same transaction as the
mentions, so a crash never loses or repeats a batch. Network access happens only in `fetch`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel

Cursor = dict[str, Any]


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
    name: ClassVar[str]
    Settings: ClassVar[type[BaseModel]]

    def fetch(self, cursor: Cursor | None) -> Batch: ...
