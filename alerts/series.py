"""Count series: counts per fixed-width bucket, the last bucket ending at `end`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class CountSeries:
    end: datetime            # exclusive end of the last bucket
    step: timedelta
    counts: tuple[int, ...]  # oldest first

    @classmethod
    def from_buckets(cls, buckets: dict[int, int], *, first: int, last: int,
                     step_seconds: int) -> CountSeries:
        """Buckets keyed by index (epoch // step), from `first` to `last` inclusive; gaps are 0."""
        counts = tuple(int(buckets.get(i, 0)) for i in range(first, last + 1))
        end = datetime.fromtimestamp((last + 1) * step_seconds, tz=UTC)
        return cls(end, timedelta(seconds=step_seconds), counts)

    def start(self) -> datetime:
        return self.end - self.step * len(self.counts)

    def bucket_start(self, i: int) -> datetime:
        return self.start() + self.step * i

    def buckets_in(self, span: timedelta) -> int:
        return max(1, int(span / self.step))
