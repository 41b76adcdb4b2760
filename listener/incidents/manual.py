"""What people do to an incident from the queue (resolve it by hand, silence its kind;
acknowledging is listener/acks.py, shared with Slack's button) and what the incident pages read
about it (the latest and the open incidents, one incident's linked mentions a keyset page at a
time, its timeline).

A manual resolution goes the way the detect step's own does: the incident is resolved, the
decision logged, and, when a message went out and send_resolved is on, the resolution posted in
the first message's thread (unless a silence mutes it); detection.resolved_by_hand then keeps
the still-firing signal from opening it again at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from alerts.matchers import MatcherError, parse_matcher, silenced_by
from listener.config.model import Config, Rule
from listener.config.types import format_duration, parse_duration
from listener.pipeline import detect as detection
from listener.queue.triage import Conflict, NotFound, QueueError
from listener.storage import store
from listener.storage.models import Decision, Incident, Label, Mention, MentionTopic, Silence

COMMENT_MAX = 1000
SILENCE_MAX = timedelta(days=90)
SILENCE_DURATIONS = ("1h", "2h", "4h", "8h", "1d", "3d", "7d")     # the forms' choices
LINKED_PAGE = 50


def get(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    return incident


def latest(session: Session, *, limit: int = 100) -> list[Incident]:
    return list(session.scalars(select(Incident).order_by(Incident.id.desc()).limit(limit)))


def open_incidents(session: Session) -> list[Incident]:
    return list(session.scalars(select(Incident).where(Incident.status == "open")
                                .order_by(Incident.level.desc(), Incident.id.desc())))


def rule_of(config: Config, incident: Incident) -> Rule | None:
    """The incident's rule as the running config has it (None once it is gone from there)."""
    return next((r for r in config.alerts.rules if r.name == incident.rule), None)


def group_of(incident: Incident) -> dict:
    return {k: v for k in ("brand", "product", "topic") if (v := getattr(incident, k))}


def resolve(session: Session, *, config: Config, incident_id: int, user: str,
            now: datetime) -> Incident:
    """Resolve an open incident by hand: who and when are kept; Slack hears it as it would hear
    the detect step's resolution."""
    incident = get(session, incident_id)
    if incident.status != "open":
        raise Conflict(f"incident {incident_id} is already {incident.status}")
    incident.status, incident.resolved_at, incident.resolved_by = "resolved", now, user
    session.add(incident)
    rule = rule_of(config, incident)
    reason, code = f"resolved by {user} in the queue", "resolved-by-hand"
    if rule is None:
        reason += f"; rule {incident.rule} is gone from the config, nothing sent"
    elif incident.last_notified_at is None:
        reason += "; never notified, nothing to send"
    elif not config.alerts.send_resolved:
        reason += "; send_resolved is off"
    elif mute := silenced_by(detection.silence_records(session, now),
                             detection.labels(rule, group_of(incident)), now):
        reason += f"; not sent: {mute.describe()}"
    else:
        detection.enqueue(session, config, rule, incident, "resolved", now)
    session.add(Decision(at=now, rule=incident.rule, key=incident.key, incident_id=incident.id,
                         action="resolved", code=code, reason=reason))
    return incident


def incident_matchers(config: Config, incident: Incident) -> list[str]:
    """The matchers a silence of this incident's kind starts from: its rule and labels."""
    rule = rule_of(config, incident)
    labels = (detection.labels(rule, group_of(incident)) if rule is not None
              else {"rule": incident.rule, **group_of(incident)})
    return [f"{k}={v}" for k, v in labels.items() if v]


class SilenceError(QueueError):
    """A silence that cannot be added; `field` names what is wrong (matchers, duration,
    comment) so that the CLI can point at its option and the web at its form field."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def add_silence(session: Session, *, matchers: list[str], duration: str, comment: str,
                user: str, now: datetime, starts: datetime | None = None) -> Silence:
    """A silence from `starts` (default now) for `duration` (e.g. 2h, 3d); SilenceError says what
    is wrong. The one set of rules for the pages, the API and `listener silence add`."""
    lines = [m.strip() for m in matchers if m.strip()]
    if not lines:
        raise SilenceError("a silence needs at least one matcher, e.g. topic=product_safety",
                           field="matchers")
    try:
        parsed = [parse_matcher(m) for m in lines]
    except MatcherError as exc:
        raise SilenceError(str(exc), field="matchers") from None
    try:
        length = parse_duration(duration.strip())
    except ValueError as exc:
        raise SilenceError(f"duration: {exc}", field="duration") from None
    if not timedelta(0) < length <= SILENCE_MAX:
        raise SilenceError(f"a silence lasts more than 0 and at most {SILENCE_MAX.days} days",
                           field="duration")
    comment = comment.strip()
    if not comment:
        raise SilenceError("a silence needs a comment: say why (it shows in every decision)",
                           field="comment")
    if len(comment) > COMMENT_MAX:
        raise SilenceError(f"a silence's comment is at most {COMMENT_MAX} characters",
                           field="comment")
    starts = starts or now
    return store.add_silence(session, matchers=[m.as_dict() for m in parsed], starts_at=starts,
                             ends_at=starts + length, created_by=user, comment=comment, now=now)


def expire_silence(session: Session, *, silence_id: int, now: datetime) -> Silence:
    silence = store.expire_silence(session, silence_id=silence_id, now=now)
    if silence is None:
        raise NotFound(f"no silence {silence_id}")
    return silence


def silence_state(silence: Silence, now: datetime) -> str:
    if now < silence.starts_at:
        return "pending"
    return "active" if now < silence.ends_at else "expired"


def window(config: Config, incident: Incident, now: datetime) -> tuple[int, int] | None:
    """[since, until) in epoch seconds that the incident's mentions come from: its rule's window
    before it opened, to its resolution or now. None when the rule is gone."""
    rule = rule_of(config, incident)
    if rule is None:
        return None
    since = int((incident.opened_at - rule.window).timestamp())
    return since, int((incident.resolved_at or now).timestamp()) + 1


@dataclass
class LinkedPage:
    mentions: list[Mention]
    total: int
    next: str | None            # the cursor of the page after, "epoch.id"


def parse_cursor(value: str) -> tuple[int, int]:
    try:
        epoch, mention_id = (int(x) for x in value.split("."))
    except ValueError:
        raise QueueError(f"cursor {value!r} is not of the form epoch.id") from None
    return epoch, mention_id


def linked_page(session: Session, *, config: Config, incident: Incident, now: datetime,
                before: str | None = None, limit: int = LINKED_PAGE) -> LinkedPage | None:
    """The mentions the incident's rule counts in its group and window, newest first, one keyset
    page (created_epoch, id) at a time; None when the rule is gone from the config."""
    rule, span = rule_of(config, incident), window(config, incident, now)
    if rule is None or span is None:
        return None
    stmt = select(Mention).where(Mention.created_epoch >= span[0], Mention.created_epoch < span[1])
    if incident.brand:
        stmt = stmt.where(Mention.brand == incident.brand)
    if incident.product:
        stmt = stmt.where(Mention.product == incident.product)
    topics = [incident.topic] if incident.topic else rule.match.topics
    if topics:
        stmt = stmt.where(exists().where(MentionTopic.mention_id == Mention.id,
                                         MentionTopic.topic.in_(topics)))
    if rule.match.sentiment:
        stmt = stmt.where(exists().where(Label.mention_id == Mention.id,
                                         Label.sentiment == rule.match.sentiment))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    if before:
        epoch, mention_id = parse_cursor(before)
        stmt = stmt.where(or_(Mention.created_epoch < epoch,
                              and_(Mention.created_epoch == epoch, Mention.id < mention_id)))
    rows = list(session.scalars(stmt.order_by(Mention.created_epoch.desc(), Mention.id.desc())
                                .limit(limit + 1)))
    more, rows = len(rows) > limit, rows[:limit]
    return LinkedPage(rows, total, f"{rows[-1].created_epoch}.{rows[-1].id}" if more else None)


STEPS = (300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 86400)
TIMELINE_BARS = 72


def timeline(session: Session, *, config: Config, incident: Incident, now: datetime) -> dict:
    """The incident's group around it, from two rule windows (at least 12h) before it opened to
    an hour after it resolved (or now), in buckets of a step that fits the span in at most
    TIMELINE_BARS bars (the last one just after the end, so that a mark there shows), and the
    moments it opened, escalated, was acknowledged and resolved.

    Each bar counts what the incident's rule counts (as detection.series_for does): for a `rare`
    rule the distinct authors new in the bucket (at their first mention in the chart, reposts
    not counted), else the mentions (near-duplicates once). For a `spike` rule, `expected` is the
    detector's expected volume as of its last signal (Incident.expected, over the rule's window)
    per bucket, from the window that opened the incident to that last signal: the detector's
    time-of-day baseline is not kept bucket by bucket, so that is the one number there is."""
    rule = rule_of(config, incident)
    lead = max(rule.window * 2 if rule else timedelta(0), timedelta(hours=12))
    end = min(incident.resolved_at + timedelta(hours=1), now) if incident.resolved_at else now
    since, until = int((incident.opened_at - lead).timestamp()), int(end.timestamp())
    step = next((s for s in STEPS if (until - since) / s < TIMELINE_BARS), STEPS[-1])
    since -= since % step
    until += step            # one bucket past the end, so that a mark at the end shows
    rare = rule is not None and rule.detector == "rare"
    count = store.new_author_buckets if rare else store.count_buckets
    topics = ([incident.topic] if incident.topic else (rule.match.topics if rule else [])) or [None]
    counts: dict[int, int] = {}
    for topic in topics:
        for b, n in count(session, step=step, since=since, until=until, brand=incident.brand,
                          product=incident.product, topic=topic,
                          sentiment=rule.match.sentiment if rule else None).items():
            counts[b] = counts.get(b, 0) + n
    marks = [(name, at) for name, at in (("opened", incident.opened_at),
                                         ("escalated", incident.escalated_at),
                                         ("acknowledged", incident.acknowledged_at),
                                         ("resolved", incident.resolved_at)) if at is not None]
    expected = None
    if rule is not None and rule.detector == "spike" and incident.expected > 0:
        expected = {"per_bucket": incident.expected * step / rule.window.total_seconds(),
                    "since": incident.opened_at - rule.window,
                    "until": max(incident.last_signal_at, incident.opened_at)}
    if rare:
        unit, measure = "new author(s)", (
            f"distinct authors new in each bucket (reposts not counted): what {rule.name} counts, "
            f"alerting at {rule.min_authors} within {format_duration(rule.window)}")
    else:
        unit, measure = "mention(s)", "mentions of this incident's group, near-duplicates once"
    return {"counts": counts, "first": since // step, "n": -(-(until - since) // step),
            "step": step, "marks": marks, "unit": unit, "measure": measure,
            "expected": expected}
