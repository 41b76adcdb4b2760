"""The classify step: unlabelled mentions, a batch at a time, through the classifier; the labels
are stored with the model version that produced them. On PostgreSQL a batch is claimed
(SKIP LOCKED), so several workers share the work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from listener.storage import store


def classify(engine: Engine, *, classifier, batch_size: int, now: datetime,
             max_batches: int | None = None) -> int:
    """Label every unclassified mention (batch by batch, each batch one transaction)."""
    done = batches = 0
    while max_batches is None or batches < max_batches:
        with Session(engine) as session:
            todo = store.unclassified(session, limit=batch_size)
            if not todo:
                break
            labels = classifier.classify([m.text for m in todo])
            store.save_labels(session, mentions=todo, labels=labels, version=classifier.version,
                              now=now)
            session.commit()
        done += len(todo)
        batches += 1
    return done
