"""SLA reminders (queue.sla_reminders): a mention that needs a response (negative, a question,
a complaint: `needs`), from an author with reach or about a severe topic (`min_reach`,
`min_severity`), still without a first response once queue.first_response has passed, gets one
reminder in the support channel. The reminder goes through the outbox (posts), whose unique
key sla:<mention id> is the record that it went out: never twice, across restarts. Responded,
closed and no-response-needed mentions get none; neither do mentions older than `max_age`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from alerts.reminder_message import ReminderView, build_reminder
from listener.config import SEVERITIES, Config
from listener.storage.models import Label, Mention, MentionTopic, OutboxMessage, Triage

log = logging.getLogger(__name__)
BATCH = 50


def due(session: Session, *, config: Config, now: datetime) -> list[tuple[Mention, Label,
                                                                          Triage | None]]:
    """Mentions owed a reminder now, oldest first (at most BATCH a run)."""
    rs = config.queue.sla_reminders
    if rs is None:
        return []
    until = int((now - config.queue.first_response).timestamp())
    since = int((now - rs.max_age).timestamp())
    needs = {"negative": Label.sentiment == "negative", "question": Mention.text.like("%?%"),
             "complaint": Label.complaint >= 0.5}
    stmt = (select(Mention, Label, Triage).join(Label, Label.mention_id == Mention.id)
            .outerjoin(Triage, Triage.mention_id == Mention.id)
            .where(Mention.created_epoch >= since, Mention.created_epoch < until)
            .where(or_(Triage.mention_id.is_(None),
                       and_(Triage.is_open.is_(True), Triage.first_response_at.is_(None))))
            .where(or_(*(needs[n] for n in rs.needs)))
            .where(~exists().where(OutboxMessage.mention_id == Mention.id,
                                  OutboxMessage.kind == "sla_reminder")))
    bars = []
    if rs.min_reach is not None:
        bars.append(Mention.author_reach >= rs.min_reach)
    if rs.min_severity is not None:
        floor = SEVERITIES.index(rs.min_severity)
        severe = [t.name for t in config.topics if SEVERITIES.index(t.severity) >= floor]
        bars.append(exists().where(MentionTopic.mention_id == Mention.id,
                                   MentionTopic.topic.in_(severe)))
    if bars:
        stmt = stmt.where(or_(*bars))
    return list(session.execute(stmt.order_by(Mention.created_epoch, Mention.id).limit(BATCH)))


def mention_url(base: str | None, mention: Mention) -> str | None:
    """The mention in the web queue: the queue filtered to the second it was posted, at it."""
    if not base:
        return None
    at = datetime.fromtimestamp(mention.created_epoch, mention.created_at.tzinfo)
    query = urlencode({"status": "all", "since": at.strftime("%Y-%m-%dT%H:%M:%S"),
                       "until": (at + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")})
    return f"{base.rstrip('/')}/queue?{query}#m{mention.id}"


def reminder_view(config: Config, mention: Mention, label: Label, row: Triage | None,
                  now: datetime) -> ReminderView:
    needs = config.queue.sla_reminders.needs
    why = [n for n, hit in (("negative", label.sentiment == "negative"),
                            ("question", "?" in mention.text),
                            ("complaint", (label.complaint or 0) >= 0.5)) if n in needs and hit]
    return ReminderView(
        mention_id=mention.id, author=mention.author, reach=mention.author_reach,
        source=mention.source, brand=mention.brand, text=mention.text, url=mention.url,
        created_at=mention.created_at, waited=now - mention.created_at,
        target=config.queue.first_response, why=why,
        assignee=row.assignee if row is not None else None,
        queue_url=mention_url(config.queue.base_url, mention))


def queue_reminders(engine: Engine, *, config: Config, now: datetime) -> int:
    """Put a reminder in the outbox for every mention owed one; returns how many."""
    rs = config.queue.sla_reminders
    if rs is None:
        return 0
    with Session(engine) as session:
        rows = due(session, config=config, now=now)
        for mention, label, row in rows:
            session.add(OutboxMessage(kind="sla_reminder", dedup_key=f"sla:{mention.id}",
                             mention_id=mention.id, channel=rs.channel,
                             message=build_reminder(reminder_view(config, mention, label, row,
                                                                  now)),
                             next_attempt_at=now, created_at=now))
        session.commit()
    if rows:
        log.info("%d SLA reminder(s) queued for %s", len(rows), rs.channel)
    return len(rows)
