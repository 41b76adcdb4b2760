"""What people do to an incident: acknowledge it (Slack's button, the incident page, the JSON
API) and resolve it by hand (the page, the API). Both are recorded on the incident and told to
Slack through the outbox as the detect step's own messages are: a reply in the first message's
thread, the first message updated in place.

A manual resolution goes the way the detect step's own does: the incident is resolved, the
decision logged and, when a message went out and send_resolved is on, the resolution posted
(unless a silence mutes it). The detect step then keeps the still-firing signal from opening it
again at once (incidents.transitions.resolved_by_hand).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from alerts.matchers import silenced_by
from listener.config import Config
from listener.errors import Conflict
from listener.incidents.outbox import enqueue
from listener.incidents.reading import get, rule_of
from listener.incidents.render import acknowledged
from listener.incidents.silences import group_of, in_force, labels
from listener.storage.models import Decision, Incident

log = logging.getLogger(__name__)


def acknowledge(session: Session, *, config: Config, incident_id: int, user: str,
                now: datetime) -> Incident | None:
    """None for an unknown incident; a second click keeps the first acknowledgement (an
    escalation asks again)."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        return None
    if acknowledged(incident) is not None:     # already, since its last escalation
        return incident
    incident.acknowledged_by, incident.acknowledged_at = user, now
    session.add(incident)
    rule = rule_of(config, incident)
    if rule is not None and incident.last_notified_at is not None and incident.status == "open":
        enqueue(session, config, rule, incident, "acknowledged", now)
    log.info("incident #%s acknowledged by %s", incident_id, user)
    return incident


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
    elif mute := silenced_by(in_force(session, now), labels(rule, group_of(incident)), now):
        reason += f"; not sent: {mute.describe()}"
    else:
        enqueue(session, config, rule, incident, "resolved", now)
    session.add(Decision(at=now, rule=incident.rule, key=incident.key, incident_id=incident.id,
                         action="resolved", code=code, reason=reason))
    return incident
