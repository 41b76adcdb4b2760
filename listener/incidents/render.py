"""An incident as its messages show it: the title, and the alert view (alerts/alert_message.py
turns it into Block Kit) of a kind of message (first, escalated, repeat, resolved,
acknowledged) built from the incident, its rule and its evidence."""

from __future__ import annotations

from datetime import UTC, datetime

from alerts.alert_message import AlertView, Example, Playbook, build_message
from listener.config import Config
from listener.config.rules import RuleBase
from listener.incidents.evidence import Evidence, read_evidence
from listener.incidents.routing import is_critical
from listener.storage.models import Incident


def title(rule: RuleBase, group: dict, evidence: Evidence) -> str:
    """brand · product · topic (or the sentiment a rule counts)."""
    parts = [group.get("brand") or "All brands"]
    product = group.get("product") or evidence.product
    if product:
        parts.append(product)
    topic = group.get("topic") or (rule.match.topics[0] if len(rule.match.topics) == 1 else None)
    if topic:
        parts.append(topic.replace("_", " "))
    elif rule.match.sentiment:
        parts.append(f"{rule.match.sentiment} mentions")
    return " · ".join(parts)


def acknowledged(incident: Incident) -> str | None:
    """Who acknowledged it, if that was after its last escalation (an escalation notifies again)."""
    at = incident.acknowledged_at
    if incident.acknowledged_by and at and (incident.escalated_at is None
                                            or _utc(at) >= _utc(incident.escalated_at)):
        return incident.acknowledged_by
    return None


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def playbook_of(config: Config, rule: RuleBase, incident: Incident) -> Playbook | None:
    for name in [incident.topic] if incident.topic else rule.match.topics:
        key = config.topic(name).playbook
        if key:
            p = config.playbooks[key]
            return Playbook(key, p.url, p.owner, p.holding_statement)
    return None


def alert_view(config: Config, rule: RuleBase, incident: Incident, kind: str) -> AlertView:
    ev = read_evidence(incident)
    base = config.queue.base_url
    who = acknowledged(incident)
    return AlertView(
        incident_id=incident.id, kind=kind, level=incident.level, title=incident.title,
        rule=rule.name, what=rule.growth(ev.observed, ev.window), observed=ev.observed,
        expected=ev.expected, previous=ev.previous, window=ev.window,
        opened_at=incident.opened_at,
        first_seen=datetime.fromisoformat(ev.first_seen) if ev.first_seen else None,
        sources=ev.sources,
        examples=[Example(e.text, e.author, e.reach, e.source, e.url,
                          datetime.fromisoformat(e.created_at)) for e in ev.examples],
        playbook=playbook_of(config, rule, incident),
        incident_url=f"{base.rstrip('/')}/incidents/{incident.id}" if base else None,
        terms=[(t.term, t.share, t.baseline_share) for t in ev.terms],
        authors=ev.authors_share, top3_share=ev.top3_share,
        without_top3={"fires": ev.without_top3.fires, "observed": ev.without_top3.observed}
        if ev.without_top3 else None,
        duplicates_share=ev.duplicates_share,
        resolved_at=incident.resolved_at, resolved_by=incident.resolved_by,
        acknowledged_by=who, acknowledged_at=incident.acknowledged_at if who else None,
        mention=config.slack.critical_mention
        if kind in ("first", "escalated", "grouped") and incident.resolved_at is None
        and is_critical(config, rule, incident.peak_level) else None,
    )


def message(config: Config, rule: RuleBase, incident: Incident, kind: str) -> dict:
    """The Slack message (text + blocks) of this kind about the incident."""
    return build_message(alert_view(config, rule, incident, kind))

