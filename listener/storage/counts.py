"""Counting for detection, the incident timeline and the alert chart: SQL aggregation over
indexed epoch columns, never a Python loop over rows.

`count_group` is the one function that counts what a rule counts in one of its groups, per
bucket: the rule's detector says what (`counts`: new distinct authors, or voices with
near-duplicates once), its `match` which mentions, the group which brand, product and topic. The
detect step, the incident timeline, the alert's chart and the backtest all count through it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, false, func, select
from sqlalchemy.orm import Session

from alerts.series import CountSeries
from listener.storage.models import Label, Mention, MentionTopic

if TYPE_CHECKING:
    from listener.config.rules import RuleBase


def group_topics(rule: RuleBase, group: dict) -> list[str | None]:
    """The topics a rule's group counts: the group's own, else every topic the rule matches
    (None: no topic filter)."""
    if group.get("topic"):
        return [group["topic"]]
    return list(rule.match.topics) or [None]


def count_group(session: Session, *, rule: RuleBase, group: dict, step: int, since: int,
                until: int) -> dict[int, int]:
    """What `rule` counts in `group`, per bucket index (epoch // step) in [since, until)."""
    count = new_author_buckets if rule.counts == "authors" else count_buckets
    buckets: Counter = Counter()
    for topic in group_topics(rule, group):
        buckets.update(count(session, step=step, since=since, until=until,
                             brand=group.get("brand"), product=group.get("product"),
                             topic=topic, sentiment=rule.match.sentiment))
    return dict(buckets)


def group_mentions(session: Session, *, rule: RuleBase, group: dict, since: int,
                   until: int) -> list[Mention]:
    """The group's mentions in [since, until) that the rule counts, oldest first, once each
    (at most 500 per topic)."""
    mentions: list[Mention] = []
    for topic in group_topics(rule, group):
        mentions += window_mentions(session, since=since, until=until, brand=group.get("brand"),
                                    product=group.get("product"), topic=topic,
                                    sentiment=rule.match.sentiment)
    seen, unique = set(), []
    for m in sorted(mentions, key=lambda m: m.created_epoch):
        if m.id not in seen:
            seen.add(m.id)
            unique.append(m)
    return unique


def first_epoch(session: Session) -> int | None:
    """When listening began: the oldest stored mention's epoch (None: nothing stored)."""
    return session.execute(select(func.min(Mention.created_epoch))).scalar()


def _filtered(stmt, *, brand: str | None, product: str | None, topic: str | None,
              sentiment: str | None, since: int, until: int):
    stmt = stmt.where(Mention.created_epoch >= since, Mention.created_epoch < until)
    if brand is not None:
        stmt = stmt.where(Mention.brand == brand)
    if product is not None:
        stmt = stmt.where(Mention.product == product)
    if topic is not None:
        stmt = stmt.join(MentionTopic, and_(MentionTopic.mention_id == Mention.id,
                                            MentionTopic.topic == topic))
    if sentiment is not None:
        stmt = stmt.join(Label, Label.mention_id == Mention.id).where(Label.sentiment == sentiment)
    return stmt


def count_buckets(session: Session, *, step: int, since: int, until: int, brand: str | None = None,
                  product: str | None = None, topic: str | None = None,
                  sentiment: str | None = None) -> dict[int, int]:
    """Distinct voices per bucket index (created_epoch // step) in [since, until): a cluster of
    near-duplicates (retweets, copies; listener.storage.dedup) counts once per bucket."""
    bucket = (Mention.created_epoch - Mention.created_epoch % step) / step
    voices = func.count(func.distinct(func.coalesce(Mention.cluster_id, Mention.id)))
    stmt = _filtered(select(bucket.label("b"), voices), brand=brand, product=product,
                     topic=topic, sentiment=sentiment, since=since, until=until).group_by("b")
    return {int(b): int(n) for b, n in session.execute(stmt)}


def new_author_buckets(session: Session, *, step: int, since: int, until: int,
                       brand: str | None = None, product: str | None = None,
                       topic: str | None = None, sentiment: str | None = None) -> dict[int, int]:
    """Distinct authors per bucket of their first mention in [since, until). Reposts (a
    retweet or "RT @user:" quote of someone else's post) are not a new voice and do not count;
    distinct authors posting the same words (a copy-paste campaign) are distinct people."""
    first = _filtered(select(Mention.author, func.min(Mention.created_epoch).label("first")),
                      brand=brand, product=product, topic=topic, sentiment=sentiment,
                      since=since, until=until).where(Mention.repost == false()
                                                      ).group_by(Mention.author).subquery()
    bucket = (first.c.first - first.c.first % step) / step
    stmt = select(bucket.label("b"), func.count()).group_by("b")
    return {int(b): int(n) for b, n in session.execute(stmt)}


def groups(session: Session, *, by: Sequence[str], since: int, until: int,
           brand: str | None, topics: Sequence[str], sentiment: str | None) -> list[dict[str, Any]]:
    """The distinct (brand, product, topic) groups with mentions in the period."""
    cols = [Mention.brand.label("brand")]
    if "product" in by:
        cols.append(Mention.product.label("product"))
    stmt = select(*cols).where(Mention.created_epoch >= since, Mention.created_epoch < until)
    if topics:
        stmt = stmt.join(MentionTopic, MentionTopic.mention_id == Mention.id).where(
            MentionTopic.topic.in_(list(topics)))
        if "topic" in by:
            stmt = stmt.add_columns(MentionTopic.topic.label("topic"))
    if brand:
        stmt = stmt.where(Mention.brand == brand)
    if sentiment:
        stmt = stmt.join(Label, Label.mention_id == Mention.id).where(Label.sentiment == sentiment)
    return [dict(row._mapping) for row in session.execute(stmt.distinct())]


def window_mentions(session: Session, *, since: int, until: int, brand: str | None,
                    product: str | None, topic: str | None, sentiment: str | None,
                    limit: int = 500) -> list[Mention]:
    stmt = _filtered(select(Mention), brand=brand, product=product, topic=topic,
                     sentiment=sentiment, since=since, until=until)
    return list(session.scalars(stmt.order_by(Mention.created_epoch).limit(limit)))


def rule_series(session: Session, *, rule: RuleBase, group: dict, step: int, now: datetime,
                began: int | None) -> CountSeries:
    """The series the rule's detector judges at `now`: what it counts in the group, per bucket,
    over its lookback. Buckets before `began` (the first stored mention: nothing was being
    listened to) are unknown, not zero, and left out: counted as zeros, a fresh install would
    find every busy hour unusual."""
    until = int(now.timestamp())
    last = until // step - (0 if until % step else 1)
    since = until - int(rule.lookback.total_seconds())
    if began is not None:
        since = max(since, min(began - began % step, until - step))
    buckets = count_group(session, rule=rule, group=group, step=step, since=since, until=until)
    return CountSeries.from_buckets(buckets, first=since // step, last=last, step_seconds=step)
