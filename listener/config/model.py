"""The config's schema: one YAML file an administrator edits, as strict pydantic models (unknown
keys are errors; every field has a default where it can and a description). Secrets are
`SecretStr`s. Reading and error messages are listener/config/loading.py; alert rules and the
detector registry are listener/config/rules.py.
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any, Literal

from pydantic import Field, SecretStr, create_model, field_validator, model_validator

from listener.config.rules import Rule
from listener.config.types import Duration, Query, Strict
from listener.errors import ConfigError
from listener.sources import SOURCES

TOPIC_NAME = r"^[A-Za-z0-9][A-Za-z0-9 _\-]*$"


class Product(Strict):
    name: str = Field(description="product name, shown in alerts")
    query: Query = Field(description="query a mention of the brand must also match to be about it")
    should_match: list[str] = Field(default_factory=list, description=(
        "example texts that must be attributed to this product (`listener config test`)"))
    should_not_match: list[str] = Field(default_factory=list, description=(
        "example texts that must not be attributed to this product"))


class Brand(Strict):
    name: str = Field(description="brand name, shown in alerts and the queue")
    query: Query = Field(description="query that decides whether a mention is about the brand")
    products: list[Product] = Field(default_factory=list, description="products of the brand")
    should_match: list[str] = Field(default_factory=list, description=(
        "example texts the brand query must match (`listener config test`)"))
    should_not_match: list[str] = Field(default_factory=list, description=(
        "example texts the brand query must not match, e.g. job ads"))


def _sources_model():
    fields = {name: (cls.Settings | None, Field(None, description=cls.__doc__ or name))
              for name, cls in SOURCES.items()}
    return create_model("Sources", __base__=Strict, **fields)


Sources = _sources_model()


class SentimentSettings(Strict):
    model: str = Field("builtin", min_length=1, description=(
        "builtin (MiniLM encoder + the shipped head), or a Hugging Face sequence-classification "
        "model: a local folder or an id already in the local cache"))
    labels: dict[str, Literal["negative", "neutral", "positive"]] = Field(
        default_factory=dict, description="the model's label names -> sentiment, when its "
        "id2label does not say (e.g. LABEL_0: negative)")


class ZeroShotSettings(Strict):
    model: str = Field(min_length=1, description="an NLI model (local folder or cached id)")
    hypothesis: str = Field("This text is about {}.", description="{} is the topic description")
    threshold: float = Field(0.8, gt=0, le=1, description="entailment probability for a topic")


class MultilingualSettings(Strict):
    model: str = Field(min_length=1, description=(
        "a multilingual sentiment model (local folder or cached id), e.g. "
        "cardiffnlp/twitter-xlm-roberta-base-sentiment"))
    languages: list[str] = Field(default_factory=list, description=(
        "ISO 639-1 codes to detect among (with English); empty: every language lingua knows"))
    labels: dict[str, Literal["negative", "neutral", "positive"]] = Field(
        default_factory=dict, description="label names -> sentiment, if id2label does not say")


class ClassifierSettings(Strict):
    sentiment: SentimentSettings = Field(default_factory=SentimentSettings,
                                         description="the sentiment model")
    multilingual: MultilingualSettings | None = Field(None, description=(
        "sentiment for mentions detected as not English"))
    zero_shot: ZeroShotSettings | None = Field(None, description="optional zero-shot topics")
    batch_size: int = Field(64, ge=1, le=1024, description="texts per model call")
    threads: int | None = Field(None, ge=1, description="torch threads; default: all cores")
    fast: bool = Field(True, description="run the built-in encoder with ONNX Runtime, int8")


class Topic(Strict):
    name: str = Field(pattern=TOPIC_NAME, description=(
        "identifier used in rules and shown in alerts, e.g. product_safety or Late Flight"))
    description: str = Field(description="one sentence saying what belongs to the topic")
    keywords: list[str] = Field(default_factory=list,
                                description="words or phrases (trailing * allowed) that mark it")
    examples: list[str] = Field(default_factory=list, description="example mentions of the topic")
    similarity: float = Field(0.55, gt=0, le=1, description=(
        "cosine similarity to the description or an example that counts as a match"))
    sentiments: list[Literal["negative", "neutral", "positive"]] = Field(
        default_factory=list, description=(
            "only mentions with one of these sentiments belong to the topic (e.g. [negative] "
            "for the reasons of complaints); empty: any"))
    severity: Severity = Field("medium", description=(
        "how bad a mention of the topic is: low, medium, high or critical (critical alerts go to "
        "slack.critical_channel; the queue ranks by it)"))
    playbook: str | None = Field(None, description="key under playbooks: to link in alerts")
    should_match: list[str] = Field(default_factory=list, description=(
        "example texts the classifier must put in this topic (`listener config test`)"))
    should_not_match: list[str] = Field(default_factory=list, description=(
        "example texts the classifier must keep out of this topic"))

    @field_validator("keywords")
    @classmethod
    def _keywords_parse(cls, value: list[str]) -> list[str]:
        from listener.config.types import _check_query
        for kw in value:
            _check_query(kw if kw.startswith('"') or " " not in kw else f'"{kw}"')
        return value


class Playbook(Strict):
    url: str = Field(pattern=r"^https?://", description="the contingency plan's section")
    owner: str = Field(description="who leads the response, e.g. @pr-oncall")
    holding_statement: str = Field(description="what to say publicly while the facts are checked")


class Inhibit(Strict):
    source: str = Field(description="rule whose open incident mutes ...")
    target: str = Field(description="... this rule's incidents")
    equal: list[Literal["brand", "product", "topic"]] = Field(
        default_factory=lambda: ["brand"], description=(
            "labels the two incidents must share for the mute to apply"))


class AlertSettings(Strict):
    bucket: Duration = Field("5m", description="width of a count bucket")
    rules: list[Rule] = Field(default_factory=list, description=(
        "what to alert on: each rule counts matching mentions per group with a detector "
        "(detector: rare or spike, each with its own options)"))
    group_by: list[Literal["brand", "product", "topic"]] = Field(
        default_factory=lambda: ["brand", "product", "topic"], description=(
            "labels that split a rule's mentions into groups; each group is its own incident"))
    group_wait: Duration = Field("30s", description=(
        "hold the first message of a new incident this long, so that a burst is one message"))
    repeat_interval: Duration = Field("4h", description="re-notify an open incident this often")
    resolve_after: Duration = Field("2h", description="quiet time after which an incident resolves")
    send_resolved: bool = Field(True, description=(
        "tell Slack (in the alert's thread) when an incident resolves"))
    inhibit: list[Inhibit] = Field(default_factory=list, description=(
        "while an incident of one rule is open, do not open incidents of another (a brand-wide "
        "crisis mutes its per-topic spikes)"))


class SlackRouteMatch(Strict):
    brand: str | None = Field(None, description="the incident's brand")
    topic: str | None = Field(None, description="the incident's topic")
    min_level: int = Field(0, ge=0, le=10, description="from this severity level up")


class SlackRoute(Strict):
    match: SlackRouteMatch = Field(default_factory=SlackRouteMatch, description="what it routes")
    channel: str = Field(description="where matching incidents go")


class SlackSettings(Strict):
    token: SecretStr | None = Field(None, description="bot token (xoxb-...); empty: print alerts")
    channel: str = Field("#social-alerts", description="default channel")
    critical_channel: str | None = Field(None, description="channel for critical incidents")
    admin_channel: str | None = Field(None, description=(
        "channel for the listener's own news (a refused config reload); default: channel"))
    base_url: str | None = Field(None, pattern=r"^https?://",
                                 description="Slack API base URL (proxies, tests)")
    routes: list[SlackRoute] = Field(default_factory=list, description=(
        "channel by brand/topic/severity: the first route whose match fits the incident wins "
        "(a rule's own channel still comes first)"))
    critical_mention: str | None = Field(None, pattern=r"^<!subteam\^S[A-Z0-9]+(\|@[\w.-]+)?>$",
                                         description=(
        "user group pinged by critical alerts, Slack markup like \"<!subteam^S123>\""))
    signing_secret: SecretStr | None = Field(None, description=(
        "Slack app signing secret: verifies the Acknowledge button's requests"))
    webhook_url: SecretStr | None = Field(None, description=(
        "incoming webhook URL, instead of a token: one fixed channel, no threads, no updates, "
        "no charts"))

    @field_validator("token", "signing_secret", "webhook_url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value in ("", None) else value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_is_a_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("https://",
                                                                          "http://")):
            raise ValueError("is not a URL; paste the whole https://hooks.slack.com/services/... "
                             "address Slack gave for the incoming webhook")
        return value

    @model_validator(mode="after")
    def _one_way_to_slack(self) -> SlackSettings:
        if self.token is not None and self.webhook_url is not None:
            raise ValueError("token and webhook_url are both set; a bot token does everything a "
                             "webhook does and more (threads, updates, charts): keep one")
        return self


Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES = ("low", "medium", "high", "critical")


class SlaReminderSettings(Strict):
    channel: str = Field(description="the support channel reminders go to")
    needs: list[Literal["negative", "question", "complaint"]] = Field(
        default_factory=lambda: ["negative", "question"], min_length=1, description=(
            "what makes a mention need a response: negative sentiment, a question (a ?), a "
            "complaint (the complaint model's probability >= 0.5); any one of them"))
    min_reach: int | None = Field(None, ge=0, description=(
        "remind only of authors with at least this many followers ..."))
    min_severity: Severity | None = Field(None, description=(
        "... or of mentions with a topic this severe or worse; neither set: every mention "
        "that needs a response"))
    max_age: Duration = Field("24h", description=(
        "mentions older than this get no reminder (an old backlog is the queue's job)"))


class QueueSettings(Strict):
    first_response: Duration = Field("60m", description="first-response target")
    base_url: str | None = Field(None, description="web queue URL used in alert links")
    web: bool = Field(False, description="serve the web queue inside `listener run` too")
    host: str = Field("127.0.0.1", description="address the web queue listens on")
    port: int = Field(8080, ge=1, le=65535, description="port the web queue listens on")
    sla_reminders: SlaReminderSettings | None = Field(None, description=(
        "one Slack reminder per mention that needs a response and has waited past "
        "first_response without one; absent: no reminders"))


class DigestSettings(Strict):
    at: str = Field("09:00", description=(
        "local time (HH:MM, quoted) of the daily digest; it covers the 24 hours before"))
    timezone: str = Field("UTC", description="IANA time zone of `at`, e.g. Europe/Berlin")
    channel: str | None = Field(None, description="where it goes; default: slack.channel")
    examples: int = Field(3, ge=0, le=10, description="top questions / complaints shown")

    @field_validator("at", mode="before")
    @classmethod
    def _hh_mm(cls, value: object) -> object:
        if isinstance(value, int):
            raise ValueError("YAML read an unquoted time as a number; write it in quotes, "
                             "e.g. \"09:30\"")
        if not isinstance(value, str) or not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", value):
            raise ValueError(f"{json.dumps(value)} is not a time of day; write it as \"HH:MM\" "
                             "in quotes, e.g. \"09:00\"")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{json.dumps(value)} is not a time zone; use an IANA name such as "
                             "UTC or Europe/Berlin") from None
        return value


class ScheduleSettings(Strict):
    classify_every: Duration = Field("5s", description="how often to classify new mentions")
    detect_every: Duration = Field("10s", description="how often to run the detectors")
    notify_every: Duration = Field("5s", description="how often to deliver the outbox")
    reminders_every: Duration = Field("1m", description=(
        "how often to look for mentions past their first-response target, and whether the "
        "daily digest is due"))
    watch_config_every: Duration = Field("5s", description=(
        "how often (real time) the daemon looks for a changed config file to reload"))


class DatabaseSettings(Strict):
    url: str | None = Field(None, description=(
        "SQLAlchemy URL; default: sqlite file listener.db beside the config; "
        "LISTENER_DATABASE_URL overrides"))


class Config(Strict):
    database: DatabaseSettings = Field(default_factory=DatabaseSettings,
                                       description="where mentions and incidents are stored")
    brands: list[Brand] = Field(min_length=1, description=(
        "the brands listened for; a mention no brand query matches is not stored"))
    sources: Sources = Field(default_factory=Sources, description=(
        "the collectors, one block per platform (examples/sources.yaml shows each)"))
    classifier: ClassifierSettings = Field(default_factory=ClassifierSettings, description=(
        "the models that label mentions (sentiment, topics, language)"))
    topics: list[Topic] = Field(default_factory=list, description=(
        "what mentions are about: keywords, a description and examples each"))
    playbooks: dict[str, Playbook] = Field(default_factory=dict, description=(
        "sections of the contingency plan, by key, that topics link in their alerts"))
    alerts: AlertSettings = Field(default_factory=AlertSettings, description=(
        "alert rules and the life of an incident (grouping, repeats, resolution, inhibition)"))
    slack: SlackSettings = Field(default_factory=SlackSettings, description=(
        "where alerts, reminders and digests go; without a token or webhook, the console"))
    queue: QueueSettings = Field(default_factory=QueueSettings, description=(
        "the mention queue: first-response target, web app, SLA reminders"))
    digest: DigestSettings | None = Field(None, description=(
        "a daily digest in Slack; absent: none (`listener digest` still prints one)"))
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings, description=(
        "how often the daemon runs each step"))

    @model_validator(mode="after")
    def _references(self) -> Config:
        problems = []
        topics = [t.name for t in self.topics]
        rules = [r.name for r in self.alerts.rules]
        for i, t in enumerate(self.topics):
            if t.playbook and t.playbook not in self.playbooks:
                problems.append(_ref(f"topics[{i}].playbook", t.playbook, "playbook",
                                     list(self.playbooks)))
        for i, r in enumerate(self.alerts.rules):
            for j, name in enumerate(r.match.topics):
                if name not in topics:
                    problems.append(_ref(f"alerts.rules[{i}].match.topics[{j}]", name, "topic",
                                         topics))
            if r.match.brand and r.match.brand not in [b.name for b in self.brands]:
                problems.append(_ref(f"alerts.rules[{i}].match.brand", r.match.brand, "brand",
                                     [b.name for b in self.brands]))
        for i, inh in enumerate(self.alerts.inhibit):
            for key in ("source", "target"):
                if getattr(inh, key) not in rules:
                    problems.append(_ref(f"alerts.inhibit[{i}].{key}", getattr(inh, key), "rule",
                                         rules))
        for what, names in (("topic", topics), ("rule", rules),
                            ("brand", [b.name for b in self.brands])):
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                problems.append(f"{what} names must be unique; repeated: {', '.join(dup)}")
        if not any(getattr(self.sources, name) for name in SOURCES):
            problems.append(f"sources: no source is configured; add one of: {', '.join(SOURCES)}")
        if problems:
            raise ConfigError(problems)
        return self

    def enabled_sources(self) -> dict[str, Any]:
        return {n: s for n in SOURCES if (s := getattr(self.sources, n)) is not None}

    def topic(self, name: str) -> Topic:
        return next(t for t in self.topics if t.name == name)


def _ref(path: str, value: str, what: str, valid: list[str]) -> str:
    hint = did_you_mean(value, valid)
    listed = ", ".join(valid) if valid else "none defined"
    return f"{path}: {json.dumps(value)} is not a defined {what};{hint} defined: {listed}"


def did_you_mean(value: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(str(value), valid, n=1)
    return f" did you mean {json.dumps(close[0])}?" if close else ""
