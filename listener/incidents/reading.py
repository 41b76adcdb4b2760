"""What the incident pages and the JSON API read about incidents: one incident, the latest and
the open ones, one incident's linked mentions a keyset page at a time, and its timeline. Nothing
here writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from listener.config import Config
from listener.config.rules import RuleBase
from listener.errors import NotFound, QueueError
from listener.incidents.evidence import read_evidence
from listener.storage import counts
from listener.storage.models import Incident, Label, Mention, MentionTopic, OutboxMessage

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


def rule_of(config: Config, incident: Incident) -> RuleBase | None:
    """The incident's rule as the running config has it (None once it is gone from there)."""
    return next((r for r in config.alerts.rules if r.name == incident.rule), None)


def incident_records(session: Session) -> list[dict]:
    """Every incident, newest first, with its messages (`listener incidents`)."""
    out = []
    for inc in session.scalars(select(Incident).order_by(Incident.id.desc())):
        notes = list(session.scalars(select(OutboxMessage).where(
            OutboxMessage.incident_id == inc.id).order_by(OutboxMessage.id)))
        out.append({
            "id": inc.id, "key": inc.key, "rule": inc.rule, "status": inc.status,
            "level": inc.level, "peak_level": inc.peak_level, "title": inc.title,
            "opened_at": inc.opened_at.isoformat(), "resolved_at":
                inc.resolved_at.isoformat() if inc.resolved_at else None,
            "observed": inc.observed, "expected": inc.expected,
            "reason": read_evidence(inc).reason or None,
            "notifications": ", ".join(f"{n.kind}:{n.status}" for n in notes),
            "deliveries": [{"kind": n.kind, "status": n.status, "channel": n.channel,
                            "delivered_to": n.delivered_to, "slack_ts": n.slack_ts,
                            "error": n.last_error} for n in notes],
        })
    return out


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

    Each bar counts what the incident's rule counts (storage.counts.count_group, as the detect
    step does): for a `rare` rule the distinct authors new in the bucket (at their first mention in
    the chart, reposts not counted), else the mentions (near-duplicates once). For a `spike` rule,
    `expected` is the
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
    group = {k: v for k in ("brand", "product", "topic") if (v := getattr(incident, k))}
    if rule is not None:
        bars = counts.count_group(session, rule=rule, group=group, step=step, since=since,
                                  until=until)
    else:                    # the rule is gone from the config: the group's mentions
        bars = counts.count_buckets(session, step=step, since=since, until=until,
                                    brand=incident.brand, product=incident.product,
                                    topic=incident.topic)
    marks = [(name, at) for name, at in (("opened", incident.opened_at),
                                         ("escalated", incident.escalated_at),
                                         ("acknowledged", incident.acknowledged_at),
                                         ("resolved", incident.resolved_at)) if at is not None]
    expected = None
    if rule is not None and rule.has_baseline and incident.expected > 0:
        expected = {"per_bucket": incident.expected * step / rule.window.total_seconds(),
                    "since": incident.opened_at - rule.window,
                    "until": max(incident.last_signal_at, incident.opened_at)}
    unit, measure = ((rule.bar_unit, rule.measure()) if rule is not None else
                     ("mention(s)", "mentions of this incident's group, near-duplicates once"))
    return {"counts": bars, "first": since // step, "n": -(-(until - since) // step),
            "step": step, "marks": marks, "unit": unit, "measure": measure,
            "expected": expected}
