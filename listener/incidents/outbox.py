"""An incident's messages into the outbox (storage.models.OutboxMessage), which the notify step
delivers: the first message (with its chart), and every later one as a reply in its thread that
also carries the first message as it should now read (chat.update)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import select

from listener.config import Config
from listener.config.rules import RuleBase
from listener.incidents import render
from listener.incidents.evidence import read_evidence
from listener.incidents.routing import channel_for
from listener.storage.models import Incident, OutboxMessage


def first_of(session, incident: Incident) -> OutboxMessage | None:
    return session.exec(select(OutboxMessage).where(
        OutboxMessage.incident_id == incident.id, OutboxMessage.kind == "first")).first()


def chart_of(incident: Incident) -> dict | None:
    chart = read_evidence(incident).chart
    return {**asdict(chart), "title": incident.title} if chart else None


def enqueue(session, config: Config, rule: RuleBase, incident: Incident, kind: str,
            now: datetime, hold: timedelta = timedelta(0)) -> OutboxMessage:
    """The incident's message of this kind into the outbox, due `hold` after now."""
    queued = session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.incident_id == incident.id)) or 0
    row = OutboxMessage(
        incident_id=incident.id, kind=kind,
        dedup_key=f"{incident.id}:{kind}:{incident.peak_level}:{queued}",
        channel=channel_for(config, rule, incident.peak_level, incident),
        message=render.message(config, rule, incident, kind),
        next_attempt_at=now + hold, created_at=now)
    if kind == "first":
        row.chart = chart_of(incident)
    else:
        first = first_of(session, incident)
        row.first_id = first.id if first is not None else None
        row.first_update = render.message(config, rule, incident, "first")
    session.add(row)
    return row


def rewrite_held(session, config: Config, rule: RuleBase, incident: Incident) -> None:
    """The first message, still held for group_wait, goes out at the incident's new level."""
    held = first_of(session, incident)
    if held is None or held.status != "pending":
        return
    held.message = render.message(config, rule, incident, "first")
    held.chart = chart_of(incident)
    held.channel = channel_for(config, rule, incident.peak_level, incident)
    session.add(held)
