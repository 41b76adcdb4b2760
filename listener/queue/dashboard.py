"""The dashboard's aggregates, each one SQL GROUP BY over indexed epoch columns: mentions per
bucket by source and by topic, and the sentiment split of a period."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from listener.storage.models import Label, Mention, MentionTopic


def _bucketed(session: Session, key, epoch, stmt, step: int, since: int,
              until: int) -> dict[str, dict[int, int]]:
    bucket = ((epoch - epoch % step) / step).label("b")
    stmt = stmt.add_columns(key.label("k"), bucket, func.count().label("n")).where(
        epoch >= since, epoch < until).group_by("k", "b")
    out: dict[str, dict[int, int]] = {}
    for k, b, n in session.execute(stmt):
        out.setdefault(k, {})[int(b)] = int(n)
    return out


def volume_by_source(session: Session, *, step: int, since: int,
                     until: int) -> dict[str, dict[int, int]]:
    """source -> {bucket index (epoch // step): mentions} for mentions created in [since, until)."""
    return _bucketed(session, Mention.source, Mention.created_epoch,
                     select().select_from(Mention), step, since, until)


def volume_by_topic(session: Session, *, step: int, since: int,
                    until: int) -> dict[str, dict[int, int]]:
    """topic -> {bucket index: mentions}; a mention with two topics counts in both."""
    return _bucketed(session, MentionTopic.topic, MentionTopic.created_epoch,
                     select().select_from(MentionTopic), step, since, until)


def sentiment_split(session: Session, *, since: int, until: int) -> dict[str, int]:
    """sentiment -> mentions created in [since, until) (the classified ones)."""
    stmt = (select(Label.sentiment, func.count()).join(Mention, Mention.id == Label.mention_id)
            .where(Mention.created_epoch >= since, Mention.created_epoch < until)
            .group_by(Label.sentiment))
    return {s: int(n) for s, n in session.execute(stmt)}
