"""The detect step's writes: a lifecycle decision (alerts.lifecycle.decide) applied to a group's
incident, in the session the step commits once per rule.

`apply` opens, updates, escalates or resolves the incident as `alerts.lifecycle.advance` says
(the same transition the NAB replay uses), puts the message the decision calls for into the
outbox, and records every decision with its reason in the decision log (a skip only when its
reason changed). What keeps a new incident from opening is read here too: an open incident that
inhibits it, or the group's last incident that a person resolved while its signal went on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import select

from alerts.detectors import Signal
from alerts.lifecycle import Decision, IncidentState, Mute, Policy, advance
from listener.config import Config
from listener.config.rules import RuleBase
from listener.config.types import format_duration
from listener.incidents import outbox, render
from listener.incidents.evidence import Evidence, read_evidence, store_evidence
from listener.storage.models import Decision as DecisionRow
from listener.storage.models import Incident

log = logging.getLogger(__name__)


@dataclass
class Taken:
    """A decision the detect step recorded."""
    rule: str
    key: str
    action: str
    reason: str
    incident_id: int | None


def open_incidents(session, *, rule: str) -> list[Incident]:
    return list(session.exec(select(Incident).where(Incident.rule == rule,
                                                    Incident.status == "open")))


def state_of(incident: Incident | None) -> IncidentState | None:
    if incident is None:
        return None
    return IncidentState(incident.level, incident.peak_level, incident.last_signal_at,
                         incident.last_notified_at, render.acknowledged(incident))


def inhibited_by(session, config: Config, rule: RuleBase, group: dict) -> Mute | None:
    """An open incident of a rule that inhibits this one, sharing the inhibit's labels."""
    for inh in config.alerts.inhibit:
        if inh.target != rule.name:
            continue
        for inc in open_incidents(session, rule=inh.source):
            if all(getattr(inc, k) == group.get(k) for k in inh.equal if k in group):
                return Mute(f"inhibited-by-{inc.id}",
                            f"inhibited by open incident #{inc.id} ({inc.rule})")
    return None


@dataclass
class HandResolved:
    """The group's last incident, resolved by a person while its signal went on."""
    incident: Incident
    mute: Mute


def resolved_by_hand(session, key: str, signal: Signal, policy: Policy,
                     now: datetime) -> HandResolved | None:
    """A group's incident a person resolved is not opened again at the next detection run while
    its signal goes on: until the level rises above the peak it was resolved at, or the group
    was quiet for resolve_after. (`attribute_signal` records that the signal went on.)"""
    last = session.exec(select(Incident).where(Incident.key == key)
                        .order_by(Incident.id.desc())).first()
    if last is None or last.status != "resolved" or not last.resolved_by:
        return None
    if signal.level > last.peak_level or now - _utc(last.last_signal_at) >= policy.resolve_after:
        return None
    return HandResolved(last, Mute(
        f"resolved-by-hand-{last.id}",
        f"incident #{last.id} was resolved by {last.resolved_by} at "
        f"{_utc(last.resolved_at):%Y-%m-%d %H:%M} UTC; a new one opens above severity "
        f"{last.peak_level} or after {format_duration(policy.resolve_after)} of quiet"))


def attribute_signal(session, resolved: HandResolved, now: datetime) -> None:
    """The signal that did not reopen a hand-resolved incident is its signal: its quiet (for
    resolve_after) starts again from now."""
    resolved.incident.last_signal_at = now
    session.add(resolved.incident)


def apply(session, *, config: Config, rule: RuleBase, key: str, group: dict,
          incident: Incident | None, decision: Decision, signal: Signal | None,
          evidence: Callable[[], Evidence], now: datetime) -> Taken | None:
    """Store what `decision` does to the group's incident; `evidence` is called when the
    incident opens or a message goes out. Returns the decision as recorded (None: a repeated
    skip, not recorded again)."""
    if decision.action == "inhibited":
        if _repeats_last(session, key, decision.code):
            return None
        return _log(session, rule, key, decision, None, now)
    after = advance(state_of(incident), decision, signal, now)
    if incident is None and decision.does == "first":
        ev = evidence()
        incident = Incident(key=key, rule=rule.name, brand=group.get("brand"),
                            product=group.get("product"), topic=group.get("topic"),
                            title=render.title(rule, group, ev), level=signal.level,
                            peak_level=signal.level, opened_at=now, last_signal_at=now,
                            observed=signal.observed, expected=signal.expected)
        store_evidence(incident, ev)
        session.add(incident)
        session.flush()
    elif signal is not None:
        incident.observed, incident.expected = signal.observed, signal.expected
        if decision.notify:
            first_seen = read_evidence(incident).first_seen
            ev = evidence()
            ev.first_seen = first_seen or ev.first_seen
            store_evidence(incident, ev)
    if after is not None:
        incident.level, incident.peak_level = after.level, after.peak_level
        incident.last_signal_at, incident.last_notified_at = after.last_signal_at, \
            after.last_notified_at
    if decision.action == "escalated":
        incident.escalated_at = now
    if decision.does == "resolved":
        incident.status, incident.resolved_at = "resolved", now
    if decision.action == "grouped":
        outbox.rewrite_held(session, config, rule, incident)
    elif decision.notify:
        outbox.enqueue(session, config, rule, incident, decision.action, now, decision.hold)
    session.add(incident)
    if decision.action in ("skip", "silenced") and _repeats_last(session, key, decision.code):
        return None
    return _log(session, rule, key, decision, incident.id, now)


def _log(session, rule: RuleBase, key: str, decision: Decision, incident_id: int | None,
         now: datetime) -> Taken:
    session.add(DecisionRow(at=now, rule=rule.name, key=key, incident_id=incident_id,
                            action=decision.action, reason=decision.reason, code=decision.code))
    log.info("%s %s: %s — %s", decision.action, key, decision.reason,
             f"incident #{incident_id}" if incident_id else "")
    return Taken(rule.name, key, decision.action, decision.reason, incident_id)


def _repeats_last(session, key: str, code: str) -> bool:
    """A skip is recorded when its reason changes, not at every detection run."""
    last = session.exec(select(DecisionRow).where(DecisionRow.key == key).order_by(
        DecisionRow.id.desc())).first()
    return bool(last and code and last.code == code)


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)
