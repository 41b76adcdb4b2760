"""The mention queue's data: triage rows, their urgency, the keyset-paginated queue, the moves.

Every stored mention gets one triage row (`sync_triage`). Its `priority` is computed once in SQL
from the mention and its labels (topic severity, negative sentiment, complaint, reach, a question)
so that the queue is one walk of an index in (priority DESC, created_epoch, mention_id) order:
most urgent first, then the earliest first-response deadline first.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, exists, func, literal, or_, select, update
from sqlalchemy.orm import Session

from listener.errors import Conflict, NotFound, QueueError
from listener.storage.models import Correction, Label, Mention, MentionTopic, Triage, User

STATUSES = ("new", "claimed", "escalated", "responded", "no_response", "closed")
OPEN_STATUSES = ("new", "claimed", "escalated")
STATUS_FILTERS = ("open", "all", *STATUSES)     # open = new, claimed or escalated
STATUS_NAMES = {"no_response": "no response needed"}
SENTIMENTS = ("negative", "neutral", "positive")
SEVERITY_WEIGHT = {"critical": 40, "high": 25, "medium": 10, "low": 5}
NOTE_MAX = 2000


def _insert(session: Session, table):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def _priority_select(severities: Mapping[str, str]):
    """(mention_id, priority, labelled, created_epoch) for mentions with their labels."""
    weights = {t: SEVERITY_WEIGHT[s] for t, s in severities.items()}
    topic_weight = (case(weights, value=MentionTopic.topic, else_=0) if weights else literal(0))
    topic = (select(func.coalesce(func.max(topic_weight), 0))
             .where(MentionTopic.mention_id == Mention.id).scalar_subquery())
    reach = case((Mention.author_reach >= 100_000, 15), (Mention.author_reach >= 10_000, 10),
                 (Mention.author_reach >= 1_000, 6), (Mention.author_reach >= 100, 3), else_=0)
    priority = (topic + reach
                + case((Label.sentiment == "negative", 20), else_=0)
                + case((Label.complaint >= 0.5, 15), else_=0)
                + case((Mention.text.like("%?%"), 5), else_=0))
    return (select(Mention.id, priority.label("priority"),
                   Label.mention_id.is_not(None).label("labelled"), Mention.created_epoch)
            .outerjoin(Label, Label.mention_id == Mention.id))


def sync_triage(session: Session, *, severities: Mapping[str, str], batch: int = 5000,
                new_batch: int | None = 50_000) -> int:
    """Give up to `new_batch` new mentions a triage row and re-rank up to `batch` rows whose labels
    arrived since. Cheap when nothing changed (two index look-ups); a backlog (a store from
    before the queue) is worked off a bounded slice per call, so no page load stalls on it.
    Returns the rows added or re-ranked."""
    high = session.scalar(select(func.max(Triage.mention_id))) or 0
    rows = _priority_select(severities).where(Mention.id > high).order_by(Mention.id)
    if new_batch:
        rows = rows.limit(new_batch)
    stmt = _insert(session, Triage).from_select(
        ["mention_id", "priority", "labelled", "created_epoch"], rows,
    ).on_conflict_do_nothing(index_elements=["mention_id"]).returning(Triage.mention_id)
    added = len(session.execute(stmt).all())
    waiting = list(session.scalars(
        select(Triage.mention_id).where(Triage.labelled.is_(False))
        .where(exists().where(Label.mention_id == Triage.mention_id)).limit(batch)))
    if waiting:
        ranked = session.execute(_priority_select(severities).where(Mention.id.in_(waiting)))
        session.execute(update(Triage), [
            {"mention_id": mid, "priority": prio, "labelled": True} for mid, prio, _, _ in ranked])
    return added + len(waiting)


@dataclass(frozen=True)
class QueueFilter:
    status: str = "open"
    brand: str | None = None
    source: str | None = None
    sentiment: str | None = None
    topic: str | None = None
    q: str | None = None            # words the text contains (case-insensitive, in order)
    product: str | None = None
    assignee: str | None = None     # a username, or "none" for the unassigned
    since: datetime | None = None   # created at or after
    until: datetime | None = None   # created before

    def __post_init__(self) -> None:
        if self.since and self.until and self.since >= self.until:
            raise QueueError(f"the time range is empty: since {self.since:%Y-%m-%d %H:%M} is "
                             f"not before until {self.until:%Y-%m-%d %H:%M}")
        if self.status not in STATUS_FILTERS:
            raise QueueError(f"status {self.status!r} is not one of {', '.join(STATUS_FILTERS)}")
        if self.sentiment is not None and self.sentiment not in SENTIMENTS:
            raise QueueError(f"sentiment {self.sentiment!r} is not one of {', '.join(SENTIMENTS)}")


def parse_cursor(value: str) -> tuple[int, int, int]:
    """A page cursor is 'priority.created_epoch.mention_id' of the last row shown."""
    try:
        p, e, i = (int(x) for x in value.split("."))
    except ValueError:
        raise QueueError(f"cursor {value!r} is not of the form priority.epoch.id") from None
    return p, e, i


@dataclass
class QueueRow:
    triage: Triage
    mention: Mention
    label: Label | None

    @property
    def cursor(self) -> str:
        t = self.triage
        return f"{t.priority}.{t.created_epoch}.{t.mention_id}"


def queue_page(session: Session, *, filters: QueueFilter, after: str | None = None,
               limit: int = 50) -> list[QueueRow]:
    """One page of the queue, most urgent first, starting after the row `after` names."""
    stmt = (select(Triage, Mention, Label).join(Mention, Mention.id == Triage.mention_id)
            .outerjoin(Label, Label.mention_id == Triage.mention_id))
    if filters.status == "open":
        stmt = stmt.where(Triage.is_open.is_(True))
    elif filters.status != "all":
        stmt = stmt.where(Triage.status == filters.status)
    if filters.brand:
        stmt = stmt.where(Mention.brand == filters.brand)
    if filters.source:
        stmt = stmt.where(Mention.source == filters.source)
    if filters.sentiment:
        stmt = stmt.where(Label.sentiment == filters.sentiment)
    if filters.topic:
        stmt = stmt.where(exists().where(MentionTopic.mention_id == Triage.mention_id,
                                         MentionTopic.topic == filters.topic))
    if filters.product:
        stmt = stmt.where(Mention.product == filters.product)
    if filters.assignee == "none":
        stmt = stmt.where(Triage.assignee.is_(None))
    elif filters.assignee:
        stmt = stmt.where(Triage.assignee == filters.assignee)
    if filters.since:
        stmt = stmt.where(Triage.created_epoch >= int(filters.since.timestamp()))
    if filters.until:
        stmt = stmt.where(Triage.created_epoch < int(filters.until.timestamp()))
    if filters.q:
        words = filters.q.replace("\\", "").replace("%", "").replace("_", " ").split()
        if words:
            stmt = stmt.where(func.lower(Mention.text).like("%" + "%".join(words).lower() + "%"))
    if after:
        p, e, i = parse_cursor(after)
        stmt = stmt.where(or_(
            Triage.priority < p,
            and_(Triage.priority == p, Triage.created_epoch > e),
            and_(Triage.priority == p, Triage.created_epoch == e, Triage.mention_id > i)))
    stmt = stmt.order_by(Triage.priority.desc(), Triage.created_epoch, Triage.mention_id)
    return [QueueRow(t, m, lab) for t, m, lab in session.execute(stmt.limit(limit))]


def _row(session: Session, mention_id: int) -> Triage:
    row = session.get(Triage, mention_id)
    if row is None:
        raise NotFound(f"no mention {mention_id} in the queue")
    return row


def claim(session: Session, *, mention_id: int, user: str, now: datetime) -> Triage:
    """Take a mention. Of two agents claiming at once, one wins; the other is told who has it."""
    _row(session, mention_id)
    won = session.execute(
        update(Triage).where(Triage.mention_id == mention_id, Triage.is_open.is_(True),
                             or_(Triage.assignee.is_(None), Triage.assignee == user))
        .values(status=case((Triage.status == "escalated", "escalated"), else_="claimed"),
                assignee=user, claimed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    session.expire_all()
    row = _row(session, mention_id)
    if not won:
        if not row.is_open:
            raise Conflict(f"mention {mention_id} is already {row.status}")
        raise Conflict(f"mention {mention_id} is already claimed by {row.assignee}")
    return row


def respond(session: Session, *, mention_id: int, user: str, now: datetime) -> Triage:
    """Mark a mention responded: the first-response time is recorded and its SLA clock stops."""
    row = _row(session, mention_id)
    if row.status == "closed":
        raise Conflict(f"mention {mention_id} is closed")
    row.first_response_at = row.first_response_at or now
    row.status, row.is_open, row.updated_at = "responded", False, now
    row.assignee = row.assignee or user
    session.add(row)
    return row


def close(session: Session, *, mention_id: int, user: str, now: datetime) -> Triage:
    row = _row(session, mention_id)
    row.status, row.is_open, row.closed_at, row.updated_at = "closed", False, now, now
    row.assignee = row.assignee or user
    session.add(row)
    return row


def escalate(session: Session, *, mention_id: int, user: str, now: datetime) -> Triage:
    """Hand an open mention up (PR, legal, a manager): it stays open and its SLA clock runs."""
    row = _row(session, mention_id)
    if not row.is_open:
        raise Conflict(f"mention {mention_id} is already {status_name(row.status)}")
    row.status, row.updated_at = "escalated", now
    row.assignee = row.assignee or user
    session.add(row)
    return row


def no_response(session: Session, *, mention_id: int, user: str, now: datetime) -> Triage:
    """Nothing to answer (praise, spam, a resolved thread): off the queue, no first response."""
    row = _row(session, mention_id)
    if row.status in ("closed", "responded"):
        raise Conflict(f"mention {mention_id} is already {row.status}")
    row.status, row.is_open, row.closed_at, row.updated_at = "no_response", False, now, now
    row.assignee = row.assignee or user
    session.add(row)
    return row


def assign(session: Session, *, mention_id: int, user: str, assignee: str,
           now: datetime) -> Triage:
    """Give an open mention to `assignee` (a web user), whoever holds it now."""
    if not assignee or session.scalar(select(User.id).where(User.username == assignee)) is None:
        raise QueueError(f"no user {assignee!r} to assign mention {mention_id} to")
    row = _row(session, mention_id)
    if not row.is_open:
        raise Conflict(f"mention {mention_id} is already {status_name(row.status)}")
    if row.status == "new":
        row.status = "claimed"
    row.assignee, row.claimed_at, row.updated_at = assignee, now, now
    session.add(row)
    if assignee != user:
        row.notes = f"{row.notes}[{now:%Y-%m-%d %H:%M} {user}] assigned to {assignee}\n"
    return row


def status_name(status: str) -> str:
    return STATUS_NAMES.get(status, status)


def _rerank(session: Session, mention_id: int, severities: Mapping[str, str]) -> None:
    session.flush()
    for mid, prio, labelled, _ in session.execute(
            _priority_select(severities).where(Mention.id == mention_id)):
        session.execute(update(Triage).where(Triage.mention_id == mid)
                        .values(priority=prio, labelled=labelled)
                        .execution_options(synchronize_session=False))
    session.expire_all()


def _label(session: Session, mention_id: int) -> Label:
    _row(session, mention_id)
    label = session.get(Label, mention_id)
    if label is None:
        raise Conflict(f"mention {mention_id} is not classified yet: relabel it once it is")
    return label


def relabel_sentiment(session: Session, *, mention_id: int, user: str, sentiment: str,
                      now: datetime, severities: Mapping[str, str]) -> Correction | None:
    """Correct the sentiment; the correction is kept (for training) and the urgency re-ranked.
    None when the label already is `sentiment`."""
    if sentiment not in SENTIMENTS:
        raise QueueError(f"sentiment {sentiment!r} is not one of {', '.join(SENTIMENTS)}")
    label = _label(session, mention_id)
    if label.sentiment == sentiment:
        return None
    fix = Correction(mention_id=mention_id, field="sentiment", old=label.sentiment,
                     new=sentiment, user=user, at=now)
    label.sentiment, label.sentiment_score = sentiment, 1.0
    session.add_all([label, fix])
    _rerank(session, mention_id, severities)
    return fix


def relabel_topic(session: Session, *, mention_id: int, user: str, topic: str, add: bool,
                  now: datetime, severities: Mapping[str, str]) -> Correction | None:
    """Add a topic the model missed or remove one it got wrong; kept as a correction (old: the
    topic removed, new: the topic added). None when nothing changes."""
    if topic not in severities:
        raise QueueError(f"topic {topic!r} is not one of {', '.join(severities) or '(none)'}")
    label = _label(session, mention_id)
    row = session.get(MentionTopic, (mention_id, topic))
    if (row is not None) == add:
        return None
    topics = dict(label.topics)
    if add:
        epoch = session.scalar(select(Mention.created_epoch).where(Mention.id == mention_id))
        session.add(MentionTopic(mention_id=mention_id, topic=topic, score=1.0,
                                 created_epoch=epoch))
        topics[topic] = {"score": 1.0, "evidence": f"added by {user}"}
    else:
        session.delete(row)
        topics.pop(topic, None)
    label.topics = topics
    fix = Correction(mention_id=mention_id, field="topic", old=None if add else topic,
                     new=topic if add else None, user=user, at=now)
    session.add_all([label, fix])
    _rerank(session, mention_id, severities)
    return fix


def corrections(session: Session, *, mention_ids: Sequence[int] | None = None
                ) -> dict[int, list[Correction]]:
    """mention id -> its relabelling history, oldest first (of these mentions, or all)."""
    stmt = select(Correction).order_by(Correction.id)
    if mention_ids is not None:
        stmt = stmt.where(Correction.mention_id.in_(list(mention_ids)))
    history: dict[int, list[Correction]] = {}
    for fix in session.scalars(stmt):
        history.setdefault(fix.mention_id, []).append(fix)
    return history


def add_note(session: Session, *, mention_id: int, user: str, text: str,
             now: datetime) -> Triage:
    text = text.strip()
    if not text:
        raise QueueError("a note needs some text")
    if len(text) > NOTE_MAX:
        raise QueueError(f"a note is at most {NOTE_MAX} characters")
    row = _row(session, mention_id)
    row.notes = f"{row.notes}[{now:%Y-%m-%d %H:%M} {user}] {text}\n"
    row.updated_at = now
    session.add(row)
    return row


def sla(triage: Triage, created_at: datetime, target: timedelta, now: datetime) -> dict:
    """The first-response clock of one mention: running (left or overdue) or stopped."""
    deadline = created_at + target
    if triage.first_response_at is not None:
        took = triage.first_response_at - created_at
        return {"state": "met" if took <= target else "missed", "running": False,
                "seconds": int(took.total_seconds())}
    if not triage.is_open:
        return {"state": "closed", "running": False, "seconds": 0}
    left = int((deadline - now).total_seconds())
    return {"state": "left" if left >= 0 else "overdue", "running": True, "seconds": left,
            "deadline": deadline}


def status_counts(session: Session) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({s: n for s, n in session.execute(
        select(Triage.status, func.count()).group_by(Triage.status))})
    return counts


def sla_attainment(session: Session, *, target: timedelta, since: datetime) -> dict:
    """Of the mentions answered since `since`: how many, the share within target, the median."""
    stmt = (select(Triage.first_response_at, Mention.created_at)
            .join(Mention, Mention.id == Triage.mention_id)
            .where(Triage.first_response_at >= since))
    took = sorted((done - created).total_seconds() for done, created in session.execute(stmt))
    if not took:
        return {"answered": 0, "within": None, "median": None}
    within = sum(t <= target.total_seconds() for t in took) / len(took)
    return {"answered": len(took), "within": within, "median": statistics.median(took)}


def overdue_count(session: Session, *, target: timedelta, now: datetime) -> int:
    limit = int((now - target).timestamp())
    return session.scalar(select(func.count()).select_from(Triage).where(
        Triage.is_open.is_(True), Triage.created_epoch < limit)) or 0
