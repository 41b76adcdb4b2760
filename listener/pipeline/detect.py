"""The detect step: for each alert rule and each of its groups, the rule's series
(storage.counts), its detector (config.rules), the severity adjusted for the window's reach and
growth (alerts.severity), and the lifecycle decision (alerts.lifecycle.decide) under the
silences in force and the inhibitions. What the decision does to the incident, the outbox and
the decision log is incidents.transitions.apply. One transaction per rule.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from alerts.detectors import Signal
from alerts.lifecycle import Mute, Policy, decide
from alerts.matchers import silenced_by
from alerts.severity import severity
from listener.config import Config
from listener.config.rules import RuleBase
from listener.incidents import transitions
from listener.incidents.evidence import gather, reach_of
from listener.incidents.routing import rule_severity
from listener.incidents.silences import in_force, labels
from listener.incidents.transitions import Taken
from listener.storage import counts
from listener.storage.models import Mention


def group_key(rule: RuleBase, group: dict) -> str:
    parts = [rule.name] + [f"{k}={group[k]}" for k in ("brand", "product", "topic") if k in group]
    return "|".join(parts)


def policy_of(config: Config) -> Policy:
    a = config.alerts
    return Policy(a.repeat_interval, a.resolve_after, a.send_resolved, a.group_wait)


def with_severity(signal: Signal, window: list[Mention]) -> Signal:
    """The detector's level adjusted for the reach of the window's authors and for growth."""
    reach = reach_of(window)
    level = severity(signal.level, max_reach=reach.max, total_reach=reach.total,
                     observed=signal.observed, previous=signal.previous)
    return replace(signal, level=level) if level != signal.level else signal


def detect(engine: Engine, *, config: Config, now: datetime) -> list[Taken]:
    policy = policy_of(config)
    taken: list[Taken] = []
    for rule in config.alerts.rules:
        with Session(engine) as session:
            taken += detect_rule(session, config, rule, policy, now)
            session.commit()
    return taken


def detect_rule(session, config: Config, rule: RuleBase, policy: Policy,
                now: datetime) -> list[Taken]:
    detector = rule.build(rule_severity(config, rule))
    step = int(config.alerts.bucket.total_seconds())
    until = int(now.timestamp())
    by = [k for k in config.alerts.group_by if k != "topic" or rule.match.topics]
    groups = counts.groups(session, by=by, since=until - int(rule.window.total_seconds()),
                           until=until, brand=rule.match.brand, topics=rule.match.topics,
                           sentiment=rule.match.sentiment)
    open_by_key = {i.key: i for i in transitions.open_incidents(session, rule=rule.name)}
    keyed = {group_key(rule, g): g for g in groups}
    for key, inc in open_by_key.items():
        keyed.setdefault(key, {k: getattr(inc, k) for k in by})
    silences = in_force(session, now)
    began = counts.first_epoch(session)
    out = []
    for key, group in sorted(keyed.items()):
        series = counts.rule_series(session, rule=rule, group=group, step=step, now=now,
                                    began=began)
        signal = detector.detect(series, now)
        window: list[Mention] = []
        if signal is not None:
            window = counts.group_mentions(session, rule=rule, group=group, until=until,
                                           since=until - int(signal.window.total_seconds()))
            signal = with_severity(signal, window)
        incident = open_by_key.get(key)
        hand = inhibitor = None
        if incident is None and signal is not None:
            hand = transitions.resolved_by_hand(session, key, signal, policy, now)
            inhibitor = hand.mute if hand else transitions.inhibited_by(session, config, rule,
                                                                        group)
        silence = silenced_by(silences, labels(rule, group), now)
        mute = Mute(f"silenced-{silence.id}", silence.describe()) if silence else None
        decision = decide(policy, transitions.state_of(incident), signal, now, silence=mute,
                          inhibitor=inhibitor)
        if hand is not None:
            transitions.attribute_signal(session, hand, now)
        if decision is None:
            continue
        taken = transitions.apply(
            session, config=config, rule=rule, key=key, group=group, incident=incident,
            decision=decision, signal=signal, now=now,
            evidence=lambda s=signal, g=group, se=series, w=window: gather(
                session, config=config, rule=rule, group=g, signal=s, detector=detector,
                series=se, window=w, now=now))
        if taken is not None:
            out.append(taken)
    return out
