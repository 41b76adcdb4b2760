"""Silences, as Prometheus Alertmanager has them: matchers on an incident's labels (brand, product,
topic, rule), a start and an expiry, a creator and a comment. Pure: plain records and `now` in,
the silence that mutes an incident (or None) out.

Matchers are `name=value`, `name!=value`, `name=~regex` and `name!~regex`; a regex must match the
whole value, and a label an incident does not have is the empty string (as in Alertmanager).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from alerts.errors import MatcherError

LABELS = ("brand", "product", "topic", "rule")
OPS = ("=~", "!~", "!=", "=")          # longest first, for parsing
_SPLIT = re.compile(r"^\s*(\w+)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str

    def matches(self, labels: Mapping[str, str | None]) -> bool:
        have = labels.get(self.name) or ""
        if self.op in ("=", "!="):
            return (have == self.value) == (self.op == "=")
        return (re.fullmatch(self.value, have) is not None) == (self.op == "=~")

    def __str__(self) -> str:
        return f"{self.name}{self.op}{self.value}"

    def as_dict(self) -> dict:
        return {"name": self.name, "op": self.op, "value": self.value}


def parse_matcher(text: str) -> Matcher:
    m = _SPLIT.match(text)
    if not m:
        raise MatcherError(f"{text!r} is not a matcher; write e.g. topic=product_safety or "
                           f"brand=~'Lumi.*'")
    name, op, value = m.groups()
    if name not in LABELS:
        raise MatcherError(f"{text!r}: unknown label {name!r}; use one of {', '.join(LABELS)}")
    value = value.strip("'\"")
    if op in ("=~", "!~"):
        try:
            re.compile(value)
        except re.error as exc:
            raise MatcherError(f"{text!r}: {value!r} is not a regular expression ({exc})") from None
    return Matcher(name, op, value)


@dataclass(frozen=True)
class Silence:
    id: int
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str = ""
    comment: str = ""

    def state(self, now: datetime) -> str:
        """pending (starts later), active, or expired."""
        if now < self.starts_at:
            return "pending"
        return "active" if now < self.ends_at else "expired"

    def mutes(self, labels: Mapping[str, str | None], now: datetime) -> bool:
        return self.state(now) == "active" and all(m.matches(labels) for m in self.matchers)

    def describe(self) -> str:
        who = f" by {self.created_by}" if self.created_by else ""
        why = f": {self.comment}" if self.comment else ""
        return (f"silence #{self.id} ({', '.join(map(str, self.matchers))}){who} until "
                f"{self.ends_at:%Y-%m-%d %H:%M} UTC{why}")


def silenced_by(silences: Iterable[Silence], labels: Mapping[str, str | None],
                now: datetime) -> Silence | None:
    """The active silence that mutes an incident with these labels at `now` (the one that lasts
    longest when several do), or None."""
    muting = [s for s in silences if s.mutes(labels, now)]
    return max(muting, key=lambda s: (s.ends_at, s.id)) if muting else None
