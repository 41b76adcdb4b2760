"""The detect step: for each alert rule and group, count with SQL, run the detector, apply the
lifecycle decision, and write the incident, the decision log and the outbox in one transaction."""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from alerts.alert_message import AlertView, Example, Playbook, build_message
from alerts.detectors import RareDetector, Signal, SpikeDetector
from alerts.drivers import driving_terms, minus, shares, top_share
from alerts.lifecycle import IncidentState, Mute, Policy, decide
from alerts.matchers import Matcher, Silence, silenced_by
from alerts.series import CountSeries
from alerts.severity import severity
from listener.config.model import Config, Rule
from listener.config.types import format_duration
from listener.storage import store
from listener.storage.models import Decision, Incident, Mention, Notification

log = logging.getLogger(__name__)
SEVERITY_ORDER = ["low", "medium", "high", "critical"]
BASELINE = timedelta(days=7)   # the terms of a window are compared with this much before it


@dataclass
class Taken:
    rule: str
    key: str
    action: str
    reason: str
    incident_id: int | None


def rule_severity(config: Config, rule: Rule) -> str:
    levels = [config.topic(t).severity for t in rule.match.topics]
    return max(levels, key=SEVERITY_ORDER.index) if levels else "medium"


def detector_for(config: Config, rule: Rule):
    severity = rule_severity(config, rule)
    if rule.detector == "rare":
        return RareDetector(rule.window, rule.min_authors, severity)
    return SpikeDetector(rule.window, rule.min_count, rule.min_ratio, rule.max_p,
                         severity=severity)


def group_key(rule: Rule, group: dict) -> str:
    parts = [rule.name] + [f"{k}={group[k]}" for k in ("brand", "product", "topic") if k in group]
    return "|".join(parts)


def series_for(session, config: Config, rule: Rule, group: dict, now: datetime) -> CountSeries:
    step = int(config.alerts.bucket.total_seconds())
    until = int(now.timestamp())
    last = until // step - (0 if until % step else 1)
    lookback = rule.window * 2 if rule.detector == "rare" else rule.history
    since = until - int(lookback.total_seconds())
    # before the first stored mention nothing was being listened to: those buckets are unknown,
    # not zero (counted as zeros, a fresh install would find every busy hour unusual)
    began = session.execute(select(func.min(Mention.created_epoch))).scalar()
    if began is not None:
        since = max(since, min(began - began % step, until - step))
    first = since // step
    args = dict(step=step, since=since, until=until, brand=group.get("brand"),
                product=group.get("product"), sentiment=rule.match.sentiment)
    topics = [group["topic"]] if "topic" in group else rule.match.topics or [None]
    buckets: Counter = Counter()
    for topic in topics:
        fn = store.new_author_buckets if rule.detector == "rare" else store.count_buckets
        buckets.update(fn(session, topic=topic, **args))
    return CountSeries.from_buckets(dict(buckets), first=first, last=last, step_seconds=step)


CHART_SPAN, CHART_STEP = timedelta(days=3), timedelta(hours=1)


def chart_evidence(session, rule: Rule, group: dict, signal: Signal, now: datetime) -> dict:
    """What the alert's chart (alerts/chart.py) draws, as plain numbers: hourly counts of the
    last days, the window that fired and the expected count per hour."""
    step = int(CHART_STEP.total_seconds())
    until = int(now.timestamp())
    last = until // step - (0 if until % step else 1)
    since = until - int(CHART_SPAN.total_seconds())
    args = dict(step=step, since=since, until=until, brand=group.get("brand"),
                product=group.get("product"), sentiment=rule.match.sentiment)
    buckets: Counter = Counter()
    for topic in [group["topic"]] if "topic" in group else rule.match.topics or [None]:
        fn = store.new_author_buckets if rule.detector == "rare" else store.count_buckets
        buckets.update(fn(session, topic=topic, **args))
    series = CountSeries.from_buckets(dict(buckets), first=since // step, last=last,
                                      step_seconds=step)
    window = max(1, math.ceil(signal.window / CHART_STEP))
    return {"recent": list(series.counts), "step_s": step, "end": series.end.isoformat(),
            "window_buckets": window, "expected_per_bucket": signal.expected / window,
            "unit": "new authors" if rule.detector == "rare" else "mentions"}


def window_mentions(session, rule: Rule, group: dict, since: int, until: int) -> list[Mention]:
    """The group's mentions in [since, until) that the rule counts, oldest first, once each."""
    mentions: list[Mention] = []
    for topic in ([group["topic"]] if "topic" in group else rule.match.topics or [None]):
        mentions += store.window_mentions(session, since=since, until=until,
                                          brand=group.get("brand"), product=group.get("product"),
                                          topic=topic, sentiment=rule.match.sentiment)
    seen, unique = set(), []
    for m in sorted(mentions, key=lambda m: m.created_epoch):
        if m.id not in seen:
            seen.add(m.id)
            unique.append(m)
    return unique


def reach_of(mentions: list[Mention]) -> tuple[int, int]:
    """(widest single author, all distinct authors together) follower reach."""
    per_author: dict[str, int] = {}
    for m in mentions:
        per_author[m.author] = max(per_author.get(m.author, 0), m.author_reach or 0)
    return max(per_author.values(), default=0), sum(per_author.values())


def with_severity(session, rule: Rule, group: dict, signal: Signal, now: datetime) -> Signal:
    """The detector's level adjusted for the reach of the window's authors and for growth."""
    until = int(now.timestamp())
    ms = window_mentions(session, rule, group, until - int(signal.window.total_seconds()), until)
    widest, total = reach_of(ms)
    level = severity(signal.level, max_reach=widest, total_reach=total,
                     observed=signal.observed, previous=signal.previous)
    return replace(signal, level=level) if level != signal.level else signal


def without_top_authors(session, config: Config, rule: Rule, group: dict, top: list[str],
                        now: datetime) -> dict:
    """Re-run the detector on the series without the top authors' mentions: would it fire?"""
    until = int(now.timestamp())
    series = series_for(session, config, rule, group, now)
    removed: Counter = Counter()
    if rule.detector == "rare":   # the series counts authors at their first mention
        lookback = window_mentions(session, rule, group,
                                   until - int((rule.window * 2).total_seconds()), until)
        firsts: dict[str, datetime] = {}
        for m in lookback:
            firsts.setdefault(m.author, m.created_at)
        removed.update(firsts[a] for a in top if a in firsts)
    else:
        since = until - int(rule.window.total_seconds())
        removed.update(m.created_at for m in window_mentions(session, rule, group, since, until)
                       if m.author in top)
    signal = detector_for(config, rule).detect(minus(series, removed), now)
    lo = len(series.counts) - series.buckets_in(rule.window)
    return {"fires": signal is not None,
            "observed": sum(minus(series, removed).counts[max(0, lo):])}


def evidence(session, config: Config, rule: Rule, group: dict, signal: Signal,
             now: datetime) -> dict:
    until = int(now.timestamp())
    since = until - int(signal.window.total_seconds())
    unique = window_mentions(session, rule, group, since, until)
    sources = Counter(m.source for m in unique)
    products = Counter(m.product for m in unique if m.product)
    # the first report, then the widest-reaching distinct authors
    picked, authors = [], set()
    for m in unique[:1] + sorted(unique[1:], key=lambda m: -m.author_reach):
        if m.author not in authors:
            authors.add(m.author)
            picked.append(m)
        if len(picked) == 5:
            break
    top, top3 = top_share(m.author for m in unique)
    baseline = store.window_mentions(session, since=since - int(BASELINE.total_seconds()),
                                     until=since, brand=group.get("brand"),
                                     product=group.get("product"), topic=None, sentiment=None,
                                     limit=2000)
    names = [b.name for b in config.brands if b.name == group.get("brand")]
    names += [p.name for b in config.brands if b.name == group.get("brand") for p in b.products]
    terms = driving_terms([m.text for m in unique], [m.text for m in baseline], exclude=names)
    widest, total = reach_of(unique)
    dups = [m for m in unique if getattr(m, "cluster_id", None) not in (None, m.id)]
    explained = {
        "terms": [t.as_dict() for t in terms],
        "authors_share": shares(m.author for m in unique),
        "top_authors": top, "top3_share": top3,
        "without_top3": without_top_authors(session, config, rule, group, top, now)
        if unique else None,
        "duplicates_share": len(dups) / len(unique) if unique else 0.0,
        "reach": {"max": widest, "total": total},
        "level": signal.level,
    }
    return {
        "observed": signal.observed, "expected": signal.expected, "previous": signal.previous,
        "window": format_duration(signal.window), "reason": signal.reason,
        "started_at": signal.started_at.isoformat(), "p_value": signal.p_value,
        "first_seen": unique[0].created_at.isoformat() if unique else None,
        "mentions": len(unique), "authors": len({m.author for m in unique}),
        "sources": {s: n / len(unique) for s, n in sources.items()} if unique else {},
        "product": products.most_common(1)[0][0] if products else None,
        "examples": [{"id": m.id, "text": m.text, "author": m.author, "reach": m.author_reach,
                      "source": m.source, "url": m.url, "created_at": m.created_at.isoformat()}
                     for m in picked],
        "recent": list(signal.recent),
        "chart": chart_evidence(session, rule, group, signal, now),
        **explained,
    }


def title(config: Config, rule: Rule, group: dict, ev: dict) -> str:
    parts = [group.get("brand") or "All brands"]
    product = group.get("product") or ev.get("product")
    if product:
        parts.append(product)
    topic = group.get("topic") or (rule.match.topics[0] if len(rule.match.topics) == 1 else None)
    if topic:
        parts.append(topic.replace("_", " "))
    elif rule.match.sentiment:
        parts.append(f"{rule.match.sentiment} mentions")
    return " · ".join(parts)


def what_grew(rule: Rule, ev: dict) -> str:
    if rule.detector == "rare":
        return f"{ev['observed']:g} distinct people reported it in the last {ev['window']}"
    return f"{ev['observed']:g} mentions in the last {ev['window']}"


def is_critical(config: Config, rule: Rule, level: int) -> bool:
    return rule_severity(config, rule) == "critical" or level >= 8


def channel_for(config: Config, rule: Rule, level: int, incident: Incident | None = None) -> str:
    """The rule's own channel; else the first slack.routes entry matching the incident's brand,
    topic and level; else the critical channel for critical incidents; else the default."""
    if rule.channel:
        return rule.channel
    brand = incident.brand if incident else None
    topic = (incident.topic if incident else None) or (
        rule.match.topics[0] if len(rule.match.topics) == 1 else None)
    for route in config.slack.routes:
        m = route.match
        if (m.brand is None or m.brand == brand) and (m.topic is None or m.topic == topic) \
                and level >= m.min_level:
            return route.channel
    if config.slack.critical_channel and is_critical(config, rule, level):
        return config.slack.critical_channel
    return config.slack.channel


def alert_view(config: Config, rule: Rule, incident: Incident, kind: str) -> AlertView:
    ev = incident.evidence
    pb = None
    topic_names = [incident.topic] if incident.topic else rule.match.topics
    for name in topic_names:
        key = config.topic(name).playbook
        if key:
            p = config.playbooks[key]
            pb = Playbook(key, p.url, p.owner, p.holding_statement)
            break
    base = config.queue.base_url
    return AlertView(
        incident_id=incident.id, kind=kind, level=incident.level, title=incident.title,
        rule=rule.name, what=what_grew(rule, ev), observed=ev["observed"],
        expected=ev["expected"], previous=ev.get("previous"), window=ev["window"],
        opened_at=incident.opened_at,
        first_seen=datetime.fromisoformat(ev["first_seen"]) if ev.get("first_seen") else None,
        sources=ev.get("sources", {}),
        examples=[Example(e["text"], e["author"], e["reach"], e["source"], e["url"],
                          datetime.fromisoformat(e["created_at"])) for e in ev["examples"]],
        playbook=pb,
        incident_url=f"{base.rstrip('/')}/incidents/{incident.id}" if base else None,
        terms=[(t["term"], t["share"], t["baseline_share"]) for t in ev.get("terms", [])],
        authors=ev.get("authors_share", {}), top3_share=ev.get("top3_share"),
        without_top3=ev.get("without_top3"), duplicates_share=ev.get("duplicates_share", 0.0),
        resolved_at=incident.resolved_at, resolved_by=incident.resolved_by,
        acknowledged_by=acknowledged(incident),
        acknowledged_at=incident.acknowledged_at if acknowledged(incident) else None,
        mention=config.slack.critical_mention
        if kind in ("first", "escalated", "grouped") and incident.resolved_at is None
        and is_critical(config, rule, incident.peak_level) else None,
    )


def _inhibitor(session, config: Config, rule: Rule, group: dict) -> Mute | None:
    for inh in config.alerts.inhibit:
        if inh.target != rule.name:
            continue
        for inc in store.open_incidents(session, rule=inh.source):
            if all(getattr(inc, k) == group.get(k) for k in inh.equal if k in group):
                return Mute(f"inhibited-by-{inc.id}",
                            f"inhibited by open incident #{inc.id} ({inc.rule})")
    return None


def labels(rule: Rule, group: dict) -> dict[str, str]:
    """The labels silences match on: rule, brand, product, topic ("" when the group has none)."""
    topic = group.get("topic") or (rule.match.topics[0] if len(rule.match.topics) == 1 else "")
    return {"rule": rule.name, "brand": group.get("brand") or "",
            "product": group.get("product") or "", "topic": topic or ""}


def silence_records(session, now: datetime) -> list[Silence]:
    return [Silence(s.id, tuple(Matcher(**m) for m in s.matchers), s.starts_at, s.ends_at,
                    s.created_by, s.comment)
            for s in store.silences(session, ending_after=now)]


def policy_of(config: Config) -> Policy:
    a = config.alerts
    return Policy(a.repeat_interval, a.resolve_after, a.send_resolved, a.group_wait)


def detect(engine: Engine, *, config: Config, now: datetime) -> list[Taken]:
    policy = policy_of(config)
    taken: list[Taken] = []
    for rule in config.alerts.rules:
        with Session(engine) as session:
            taken += _detect_rule(session, config, rule, policy, now)
            session.commit()
    return taken


def _detect_rule(session, config: Config, rule: Rule, policy: Policy, now: datetime) -> list[Taken]:
    detector = detector_for(config, rule)
    until = int(now.timestamp())
    since = until - int(rule.window.total_seconds())
    by = [k for k in config.alerts.group_by if k != "topic" or rule.match.topics]
    groups = store.groups(session, by=by, since=since, until=until, brand=rule.match.brand,
                          topics=rule.match.topics, sentiment=rule.match.sentiment)
    open_by_key = {i.key: i for i in store.open_incidents(session, rule=rule.name)}
    keyed = {group_key(rule, g): g for g in groups}
    for key, inc in open_by_key.items():
        keyed.setdefault(key, {k: getattr(inc, k) for k in by})
    silences = silence_records(session, now)
    out = []
    for key, group in sorted(keyed.items()):
        signal = detector.detect(series_for(session, config, rule, group, now), now)
        if signal is not None:
            signal = with_severity(session, rule, group, signal, now)
        incident = open_by_key.get(key)
        state = None if incident is None else IncidentState(
            incident.level, incident.peak_level, incident.last_signal_at, incident.last_notified_at,
            acknowledged(incident))
        inhibitor = (resolved_by_hand(session, key, signal, policy, now)
                     or _inhibitor(session, config, rule, group)) \
            if incident is None and signal is not None else None
        silence = silenced_by(silences, labels(rule, group), now)
        mute = Mute(f"silenced-{silence.id}", silence.describe()) if silence else None
        decision = decide(policy, state, signal, now, silence=mute, inhibitor=inhibitor)
        if decision is None:
            continue
        if decision.action == "inhibited":
            if not _repeats_last(session, key, decision.code):
                _log(session, out, rule, key, "inhibited", decision.reason, None, now,
                     decision.code)
            continue
        if decision.does == "first" and incident is None:
            ev = evidence(session, config, rule, group, signal, now)
            incident = Incident(key=key, rule=rule.name, brand=group.get("brand"),
                                product=group.get("product"), topic=group.get("topic"),
                                title=title(config, rule, group, ev), level=signal.level,
                                peak_level=signal.level, opened_at=now, last_signal_at=now,
                                observed=signal.observed, expected=signal.expected, evidence=ev)
            session.add(incident)
            session.flush()
        elif signal is not None:
            incident.level = signal.level
            incident.last_signal_at = now
            incident.observed, incident.expected = signal.observed, signal.expected
            if decision.notify:
                first_seen = incident.evidence.get("first_seen")
                incident.evidence = evidence(session, config, rule, group, signal, now)
                incident.evidence["first_seen"] = first_seen or incident.evidence["first_seen"]
        if decision.action in ("first", "escalated", "grouped"):
            incident.peak_level = signal.level   # a silenced escalation is not the new peak
        if decision.action == "escalated":
            incident.escalated_at = now
        if decision.does == "resolved":
            incident.status, incident.resolved_at = "resolved", now
        if decision.action == "grouped":
            _rewrite_held(session, config, rule, incident)
        elif decision.notify:
            incident.last_notified_at = now + decision.hold
            enqueue(session, config, rule, incident, decision.action, now, decision.hold)
        session.add(incident)
        if decision.action not in ("skip", "silenced") or not _repeats_last(session, key,
                                                                             decision.code):
            _log(session, out, rule, key, decision.action, decision.reason, incident.id, now,
                 decision.code)
    return out


def enqueue(session, config: Config, rule: Rule, incident: Incident, kind: str, now: datetime,
            hold: timedelta = timedelta(0)) -> Notification:
    """The incident's message of this kind into the outbox; a later kind also carries the first
    message in its current state, which the notify step writes over the first (chat.update)."""
    message = (first_message(config, rule, incident) if kind == "first"
               else build_message(alert_view(config, rule, incident, kind)))
    if kind != "first":
        message["update"] = build_message(alert_view(config, rule, incident, "first"))
    n_sent = len(session.exec(select(Notification.id).where(
        Notification.incident_id == incident.id)).all())
    notification = Notification(
        incident_id=incident.id, kind=kind,
        dedup_key=f"{incident.id}:{kind}:{incident.peak_level}:{n_sent}",
        channel=channel_for(config, rule, incident.peak_level, incident),
        message=message, next_attempt_at=now + hold, created_at=now)
    session.add(notification)
    return notification


def resolved_by_hand(session, key: str, signal: Signal, policy: Policy,
                     now: datetime) -> Mute | None:
    """A group's incident a person resolved while its signal went on is not opened again at the
    next detection run: the signal is attributed to it (its last_signal_at moves) until the level
    rises above the peak it was resolved at, or the group was quiet for resolve_after."""
    last = session.exec(select(Incident).where(Incident.key == key)
                        .order_by(Incident.id.desc())).first()
    if last is None or last.status != "resolved" or not last.resolved_by:
        return None
    if signal.level > last.peak_level or now - _utc(last.last_signal_at) >= policy.resolve_after:
        return None
    last.last_signal_at = now
    session.add(last)
    return Mute(f"resolved-by-hand-{last.id}",
                f"incident #{last.id} was resolved by {last.resolved_by} at "
                f"{_utc(last.resolved_at):%Y-%m-%d %H:%M} UTC; a new one opens above severity "
                f"{last.peak_level} or after {format_duration(policy.resolve_after)} of quiet")


def first_message(config: Config, rule: Rule, incident: Incident) -> dict:
    """The first message, with what its chart draws (the outbox renders and uploads it)."""
    message = build_message(alert_view(config, rule, incident, "first"))
    if incident.evidence.get("chart"):
        message["chart"] = {**incident.evidence["chart"], "title": incident.title}
    return message


def acknowledged(incident: Incident) -> str | None:
    """Who acknowledged it, if that was after its last escalation (an escalation notifies again)."""
    at = incident.acknowledged_at
    if incident.acknowledged_by and at and (incident.escalated_at is None
                                            or _utc(at) >= _utc(incident.escalated_at)):
        return incident.acknowledged_by
    return None


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _rewrite_held(session, config: Config, rule: Rule, incident: Incident) -> None:
    """The first message, still held for group_wait, goes out at the incident's new level."""
    held = session.exec(select(Notification).where(
        Notification.incident_id == incident.id, Notification.kind == "first",
        Notification.status == "pending")).first()
    if held is None:
        return
    held.message = first_message(config, rule, incident)
    held.channel = channel_for(config, rule, incident.peak_level, incident)
    session.add(held)


def _log(session, out, rule, key, action, reason, incident_id, now, code=""):
    session.add(Decision(at=now, rule=rule.name, key=key, incident_id=incident_id, action=action,
                         reason=reason, code=code))
    out.append(Taken(rule.name, key, action, reason, incident_id))
    log.info("%s %s: %s — %s", action, key, reason,
             f"incident #{incident_id}" if incident_id else "")


def _repeats_last(session, key: str, code: str) -> bool:
    """A skip is recorded when its reason changes, not at every detection run."""
    last = session.exec(select(Decision).where(Decision.key == key).order_by(
        Decision.id.desc())).first()
    return bool(last and code and last.code == code)
