"""Where an incident's messages go and how severe its rule is: the rule's own channel, else the
first slack.routes entry matching the incident's brand, topic and level, else the critical
channel for critical incidents, else the default."""

from __future__ import annotations

from listener.config import SEVERITIES, Config
from listener.config.rules import RuleBase
from listener.storage.models import Incident


def rule_severity(config: Config, rule: RuleBase) -> str:
    """The most severe of the rule's topics (medium when it counts no topic)."""
    levels = [config.topic(t).severity for t in rule.match.topics]
    return max(levels, key=SEVERITIES.index) if levels else "medium"


def is_critical(config: Config, rule: RuleBase, level: int) -> bool:
    return rule_severity(config, rule) == "critical" or level >= 8


def the_topic(rule: RuleBase, incident: Incident | None) -> str | None:
    """The incident's topic, or the rule's when it counts exactly one."""
    topic = incident.topic if incident else None
    return topic or (rule.match.topics[0] if len(rule.match.topics) == 1 else None)


def channel_for(config: Config, rule: RuleBase, level: int,
                incident: Incident | None = None) -> str:
    if rule.channel:
        return rule.channel
    brand = incident.brand if incident else None
    topic = the_topic(rule, incident)
    for route in config.slack.routes:
        m = route.match
        if (m.brand is None or m.brand == brand) and (m.topic is None or m.topic == topic) \
                and level >= m.min_level:
            return route.channel
    if config.slack.critical_channel and is_critical(config, rule, level):
        return config.slack.critical_channel
    return config.slack.channel
