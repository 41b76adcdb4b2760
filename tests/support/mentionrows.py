"""Stored mentions with labels and topics, written straight into a test database (for tests of
what is computed from stored data: reminders, the digest)."""

from __future__ import annotations

import itertools
from datetime import datetime

from sqlmodel import Session

from listener.storage.models import Label, Mention, MentionTopic, Triage

_ids = itertools.count(1)

# the head of a config these rows fit: add_mention's brand and the topics the tests give mentions
BRAND_AND_TOPICS = """\
brands: [{name: Lumi Toys, query: lumitoys}]
sources: {replay: {}}
topics:
  - {name: product_safety, description: harm, severity: critical}
  - {name: shipping, description: late parcels, severity: low}
"""


def add_mention(session: Session, *, text: str, at: datetime, source: str = "twitter",
                author: str = "someone", reach: int = 0, sentiment: str = "neutral",
                topics: tuple[str, ...] = (), complaint: float | None = None,
                status: str | None = None, first_response_at: datetime | None = None,
                assignee: str | None = None, brand: str = "Lumi Toys") -> Mention:
    """A classified mention created at `at`; with `status`, its triage row too."""
    epoch = int(at.timestamp())
    m = Mention(source=source, external_id=f"{source}-{next(_ids)}",
                url=f"https://example.com/{source}/{epoch}", author=author, author_reach=reach,
                text=text, created_at=at, created_epoch=epoch, collected_at=at, brand=brand,
                raw={})
    session.add(m)
    session.flush()
    session.add(Label(mention_id=m.id, sentiment=sentiment, sentiment_score=0.9,
                      topics={t: {"score": 1.0, "evidence": "test"} for t in topics},
                      complaint=complaint, model_version="test", classified_at=at))
    for t in topics:
        session.add(MentionTopic(mention_id=m.id, topic=t, score=1.0, created_epoch=epoch))
    if status is not None:
        session.add(Triage(mention_id=m.id, status=status,
                           is_open=status in ("new", "claimed", "escalated"),
                           created_epoch=epoch, assignee=assignee,
                           first_response_at=first_response_at))
    return m
