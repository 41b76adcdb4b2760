"""Data functions: keyword-only arguments, the session first. Counting is SQL aggregation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from classifiers.base import Labels
from listener.sources.contract import Cursor, RawMention
from listener.storage import dedup
from listener.storage.models import (
    ConfigLoad,
    Label,
    Mention,
    MentionBand,
    MentionTopic,
    Silence,
    SourceState,
    utcnow,
)


def _insert(session: Session, table):
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def source_state(session: Session, *, name: str) -> SourceState:
    state = session.get(SourceState, name)
    if state is None:
        state = SourceState(name=name, cursor=None, updated_at=utcnow())
        session.add(state)
    return state


def add_mentions(session: Session, *, source_name: str,
                 mentions: Sequence[tuple[RawMention, str, str | None]], cursor: Cursor | None,
                 fetched: int, dropped: int, malformed: int, exhausted: bool,
                 now: datetime) -> tuple[int, int]:
    """Store (mention, brand, product) rows, skipping (source, external_id) already stored, and
    move the source's cursor in the same transaction. Returns (stored, duplicates)."""
    stored = 0
    for raw, brand, product in mentions:
        norm = dedup.normalise(raw.text)
        fp = dedup.fingerprint(norm)
        stmt = _insert(session, Mention).values(
            source=raw.source, external_id=raw.external_id, url=raw.url, author=raw.author,
            author_reach=raw.author_reach, text=raw.text, lang=raw.lang,
            created_at=raw.created_at, created_epoch=int(raw.created_at.timestamp()),
            collected_at=now, brand=brand, product=product, raw=raw.raw,
            fingerprint=fp, repost=dedup.is_repost(raw.text, raw.raw),
        ).on_conflict_do_nothing(index_elements=["source", "external_id"]).returning(Mention.id)
        row = session.execute(stmt).first()
        if row is not None:
            stored += 1
            _cluster(session, mention_id=row[0], raw=raw, norm=norm, fp=fp)
    state = source_state(session, name=source_name)
    state.cursor = cursor
    state.fetched += fetched
    state.stored += stored
    state.duplicates += len(mentions) - stored
    state.dropped += dropped
    state.malformed += malformed
    state.exhausted = exhausted
    state.last_error = None
    state.updated_at = now
    session.add(state)
    return stored, len(mentions) - stored


def _cluster(session: Session, *, mention_id: int, raw: RawMention, norm: str,
             fp: str | None) -> None:
    """Set a new mention's cluster_id (storage.dedup): its original's cluster for a retweet,
    else the cluster of an identical or near-identical text within the time window, else its
    own id. Every lookup is an indexed query bounded by the window."""
    epoch = int(raw.created_at.timestamp())
    lo, hi = epoch - dedup.WINDOW_SECONDS, epoch + dedup.WINDOW_SECONDS
    head = func.coalesce(Mention.cluster_id, Mention.id)
    cluster = None
    if raw.raw.get("retweet_of"):
        cluster = session.execute(select(head).where(
            Mention.source == raw.source,
            Mention.external_id == str(raw.raw["retweet_of"]))).scalar()
    if cluster is None and fp is not None:
        cluster = session.execute(select(head).where(
            Mention.fingerprint == fp, Mention.created_epoch.between(lo, hi),
            Mention.id != mention_id).order_by(Mention.id).limit(1)).scalar()
        if cluster is None:
            keys = dedup.band_keys(norm)
            candidates = select(MentionBand.mention_id).where(
                MentionBand.key.in_(keys), MentionBand.created_epoch.between(lo, hi),
            ).distinct().order_by(MentionBand.mention_id).limit(dedup.MAX_CANDIDATES)
            best = 0.0
            for text, other in session.execute(select(Mention.text, head).where(
                    Mention.id.in_(candidates)).order_by(Mention.id)):
                score = dedup.jaccard(norm, dedup.normalise(text))
                if score >= dedup.SIMILAR and score > best:
                    best, cluster = score, other
            for band, key in enumerate(keys):
                session.add(MentionBand(mention_id=mention_id, band=band, key=key,
                                        created_epoch=epoch))
    session.execute(update(Mention).where(Mention.id == mention_id).values(
        cluster_id=cluster if cluster is not None else mention_id))


def unclassified(session: Session, *, limit: int) -> list[Mention]:
    stmt = (select(Mention).outerjoin(Label, Label.mention_id == Mention.id)
            .where(Label.mention_id.is_(None)).order_by(Mention.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=Mention, skip_locked=True)
    return list(session.scalars(stmt))


def save_labels(session: Session, *, mentions: Sequence[Mention], labels: Sequence[Labels],
                version: str, now: datetime) -> None:
    for m, lab in zip(mentions, labels, strict=True):
        session.add(Label(mention_id=m.id, sentiment=lab.sentiment,
                          sentiment_score=lab.sentiment_score, model_version=version,
                          complaint=lab.complaint, language=lab.language,
                          topics={k: {"score": h.score, "evidence": h.evidence}
                                  for k, h in lab.topics.items()},
                          classified_at=now))
        for topic, hit in lab.topics.items():
            session.add(MentionTopic(mention_id=m.id, topic=topic, score=hit.score,
                                     created_epoch=m.created_epoch))


def mentions_page(session: Session, *, limit: int | None) -> list[tuple[Mention, Label | None]]:
    stmt = (select(Mention, Label).outerjoin(Label, Label.mention_id == Mention.id)
            .order_by(Mention.created_epoch, Mention.id))
    if limit:
        stmt = stmt.limit(limit)
    return [(m, lab) for m, lab in session.execute(stmt)]


def add_silence(session: Session, *, matchers: list[dict], starts_at: datetime, ends_at: datetime,
                created_by: str, comment: str, now: datetime) -> Silence:
    silence = Silence(matchers=matchers, starts_at=starts_at, ends_at=ends_at,
                      created_by=created_by, comment=comment, created_at=now)
    session.add(silence)
    session.flush()
    return silence


def silences(session: Session, *, ending_after: datetime | None = None) -> list[Silence]:
    """Silences (all, or those that end after a time: the active and the pending), oldest first."""
    stmt = select(Silence).order_by(Silence.id)
    if ending_after is not None:
        stmt = stmt.where(Silence.ends_at > ending_after)
    return list(session.scalars(stmt))


def expire_silence(session: Session, *, silence_id: int, now: datetime) -> Silence | None:
    """End a silence now (a pending one ends before it starts). None when there is no such id."""
    silence = session.get(Silence, silence_id)
    if silence is not None and silence.ends_at > now:
        silence.ends_at = now
        silence.starts_at = min(silence.starts_at, now)
        session.add(silence)
    return silence


def config_loads(session: Session, *, limit: int = 50) -> list[ConfigLoad]:
    """The daemon's config loads and reloads, newest first."""
    return list(session.scalars(select(ConfigLoad).order_by(ConfigLoad.id.desc()).limit(limit)))
