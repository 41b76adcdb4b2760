"""Acknowledging an incident from Slack's Acknowledge button: who and when are recorded (once;
an escalation asks again), and Slack is told through the outbox: a reply in the first message's
thread, and the first message updated (chat.update) to say "Acknowledged by <name> at <time>"
where the button was."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from listener.config.model import Config
from listener.incidents.manual import rule_of
from listener.pipeline.detect import acknowledged, enqueue
from listener.storage.models import Incident

log = logging.getLogger(__name__)


def acknowledge(session: Session, *, config: Config, incident_id: int, user: str,
                now: datetime) -> Incident | None:
    """None for an unknown incident; a second click keeps the first acknowledgement."""
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
    log.info("incident #%s acknowledged by %s in Slack", incident_id, user)
    return incident
