"""What a classifier returns, and the protocol every classifier meets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class TopicHit:
    score: float
    evidence: str          # 'keyword "burn*"' or 'similar to example: "..." (0.71)'


@dataclass(frozen=True)
class Labels:
    sentiment: str                    # negative | neutral | positive
    sentiment_score: float            # probability of that label
    topics: dict[str, TopicHit] = field(default_factory=dict)
    complaint: float | None = None    # probability that the post is a complaint
    language: str | None = None       # ISO 639-1 when detected; None: not detected / unknown


@dataclass(frozen=True)
class TopicSpec:
    """A topic as the classifier sees it (built by the application from its config)."""

    name: str
    description: str
    keywords: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    similarity: float = 0.55
    sentiments: tuple[str, ...] = ()   # only texts with one of these sentiments (empty: any)


class Classifier(Protocol):
    version: str

    def classify(self, texts: Sequence[str]) -> list[Labels]: ...
