"""The daily digest's figures, from SQL, and its schedule.

At `digest.at` (local time in `digest.timezone`) the digest of the 24 hours before goes into the
outbox (posts) under the key digest:<local date>: once a day, across restarts; a daemon that was
down at the hour posts it when it is back, the same day. Every figure is compared with the same
hours one week before. Rendering is alerts/digest.py.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from alerts.digest_message import DigestExample, DigestIncident, DigestView, Volume, build_digest
from listener.config import Config, DigestSettings
from listener.pipeline.reminders import mention_url
from listener.storage.models import Incident, Label, Mention, MentionTopic, OutboxMessage, Triage

log = logging.getLogger(__name__)
WEEK = timedelta(days=7)


def settings_of(config: Config) -> DigestSettings:
    return config.digest or DigestSettings()


def scheduled_at(config: Config, day: date) -> datetime:
    """When the digest of `day` (a local date) is due: `at` on that day, in the time zone."""
    s = settings_of(config)
    hh, mm = (int(x) for x in s.at.split(":"))
    return datetime.combine(day, time(hh, mm), tzinfo=ZoneInfo(s.timezone))


def period_before(config: Config, day: date) -> tuple[datetime, datetime]:
    """The 24 local hours the digest posted on `day` covers: `at` the day before to `at`."""
    return scheduled_at(config, day - timedelta(days=1)), scheduled_at(config, day)


def local_day(config: Config, day: date) -> tuple[datetime, datetime]:
    """A whole local calendar day (listener digest --day)."""
    zone = ZoneInfo(settings_of(config).timezone)
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


def _epochs(start: datetime, end: datetime) -> tuple[int, int]:
    return int(start.timestamp()), int(end.timestamp())


def _counts(session: Session, column, start: datetime, end: datetime, table=Mention) -> dict:
    lo, hi = _epochs(start, end)
    stmt = (select(column, func.count()).select_from(table)
            .where(table.created_epoch >= lo, table.created_epoch < hi).group_by(column))
    return {name: n for name, n in session.execute(stmt)}


def _volumes(now: dict, before: dict) -> list[Volume]:
    names = sorted(set(now) | set(before), key=lambda k: (-now.get(k, 0), -before.get(k, 0), k))
    return [Volume(str(k), now.get(k, 0), before.get(k, 0)) for k in names]


def _examples(session: Session, config: Config, start: datetime, end: datetime, where,
              limit: int) -> list[DigestExample]:
    """The most-read originals (no reposts, one per near-duplicate cluster) matching `where`."""
    if not limit:
        return []
    lo, hi = _epochs(start, end)
    stmt = (select(Mention).join(Label, Label.mention_id == Mention.id)
            .where(Mention.created_epoch >= lo, Mention.created_epoch < hi, where,
                   Mention.repost.is_(False),
                   or_(Mention.cluster_id.is_(None), Mention.cluster_id == Mention.id))
            .order_by(Mention.author_reach.desc(), Mention.id).limit(limit))
    return [DigestExample(m.text, m.author, m.author_reach, m.source, m.url,
                          mention_url(config.queue.base_url, m))
            for m in session.scalars(stmt)]


def _incidents(session: Session, config: Config, end: datetime) -> list[DigestIncident]:
    """Incidents open at the end of the period, most severe first."""
    stmt = (select(Incident).where(Incident.opened_at < end,
                                   or_(Incident.resolved_at.is_(None), Incident.resolved_at >= end))
            .order_by(Incident.level.desc(), Incident.id))
    base = config.queue.base_url
    return [DigestIncident(i.id, i.level, i.title, i.opened_at, i.acknowledged_by,
                           f"{base.rstrip('/')}/incidents/{i.id}" if base else None)
            for i in session.scalars(stmt)]


def _first_responses(session: Session, target: timedelta, start: datetime,
                     end: datetime) -> tuple[int, float | None, float | None, int]:
    """Answered in the period: how many, the share within target, the median seconds; and how
    many of the period's mentions were still open (unanswered) past the target at its end."""
    stmt = (select(Triage.first_response_at, Mention.created_at)
            .join(Mention, Mention.id == Triage.mention_id)
            .where(Triage.first_response_at >= start, Triage.first_response_at < end))
    took = sorted((done - created).total_seconds() for done, created in session.execute(stmt))
    lo, hi = _epochs(start, min(end, end - target))
    overdue = session.scalar(
        select(func.count()).select_from(Mention)
        .outerjoin(Triage, Triage.mention_id == Mention.id)
        .where(Mention.created_epoch >= lo, Mention.created_epoch < hi,
               or_(Triage.mention_id.is_(None), and_(Triage.is_open.is_(True),
                                                     Triage.first_response_at.is_(None))))) or 0
    if not took:
        return 0, None, None, overdue
    within = sum(t <= target.total_seconds() for t in took) / len(took)
    mid = len(took) // 2
    median = took[mid] if len(took) % 2 else (took[mid - 1] + took[mid]) / 2
    return len(took), within, median, overdue


def digest_view(session: Session, *, config: Config, start: datetime,
                end: datetime) -> DigestView:
    zone = ZoneInfo(settings_of(config).timezone)
    start, end = start.astimezone(zone), end.astimezone(zone)   # a week before: local hours
    n = settings_of(config).examples
    by_source = _counts(session, Mention.source, start, end)
    by_source_before = _counts(session, Mention.source, start - WEEK, end - WEEK)
    by_topic = _counts(session, MentionTopic.topic, start, end, MentionTopic)
    by_topic_before = _counts(session, MentionTopic.topic, start - WEEK, end - WEEK, MentionTopic)
    lo, hi = _epochs(start, end)
    sentiment = {s: c for s, c in session.execute(
        select(Label.sentiment, func.count()).join(Mention, Mention.id == Label.mention_id)
        .where(Mention.created_epoch >= lo, Mention.created_epoch < hi)
        .group_by(Label.sentiment))}
    answered, within, median, overdue = _first_responses(session, config.queue.first_response,
                                                         start, end)
    complaint = or_(Label.complaint >= 0.5, and_(Label.complaint.is_(None),
                                                 Label.sentiment == "negative"))
    return DigestView(
        brands=[b.name for b in config.brands], start=start, end=end,
        total=Volume("total", sum(by_source.values()), sum(by_source_before.values())),
        by_source=_volumes(by_source, by_source_before),
        by_topic=_volumes(by_topic, by_topic_before), sentiment=sentiment,
        questions=_examples(session, config, start, end, Mention.text.like("%?%"), n),
        complaints=_examples(session, config, start, end, complaint, n),
        incidents=_incidents(session, config, end), target=config.queue.first_response,
        answered=answered, within=within, median=median, overdue=overdue)


def digest_message(engine: Engine, *, config: Config, start: datetime, end: datetime) -> dict:
    with Session(engine) as session:
        return build_digest(digest_view(session, config=config, start=start, end=end))


def queue_digest(engine: Engine, *, config: Config, now: datetime) -> bool:
    """Put today's digest in the outbox once `at` has passed, unless it is there already.
    Returns whether it did."""
    s = settings_of(config)
    today = now.astimezone(ZoneInfo(s.timezone)).date()
    if now < scheduled_at(config, today):
        return False
    key = f"digest:{today.isoformat()}"
    with Session(engine) as session:
        queued = select(OutboxMessage.id).where(OutboxMessage.dedup_key == key)
        if session.scalar(queued) is not None:
            return False
        start, end = period_before(config, today)
        message = build_digest(digest_view(session, config=config, start=start, end=end))
        session.add(OutboxMessage(kind="digest", dedup_key=key,
                                  channel=s.channel or config.slack.channel, message=message,
                                  next_attempt_at=now, created_at=now))
        session.commit()
    log.info("daily digest of %s queued", today)
    return True
