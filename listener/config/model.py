"""The config: one YAML file an administrator edits, parsed into strict pydantic models.

`load_config(text, env)` is pure; `load_config_file(path)` wraps it. Every mistake is reported
with its key path, the bad value and the fix, all at once. `${VAR}` takes a value from the
environment (an error when unset); `${VAR:-default}` falls back. Secrets are `SecretStr`s and are
never quoted in an error.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from listener.config.types import Duration, Query, Strict
from listener.errors import ConfigError
from listener.sources import SOURCES

ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}")
NAME = r"^[a-z0-9][a-z0-9_\-]*$"
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
    sentiment: SentimentSettings = Field(default_factory=SentimentSettings)
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
    severity: Severity = "medium"
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


class RuleMatch(Strict):
    topics: list[str] = Field(default_factory=list, description="any of these topics")
    sentiment: Literal["negative", "neutral", "positive"] | None = None
    brand: str | None = None


class Rule(Strict):
    name: str = Field(pattern=NAME)
    match: RuleMatch = Field(default_factory=RuleMatch)
    detector: Literal["rare", "spike"]
    window: Duration = Field("1h", description="how far back the detector looks")
    min_authors: int = Field(3, ge=1, description="rare: distinct authors in the window")
    min_count: int = Field(10, ge=1, description="spike: fewest mentions in the window")
    min_ratio: float = Field(3.0, ge=1, description="spike: observed / expected at least")
    max_p: float = Field(1e-14, gt=0, lt=1, description=(
        "spike: tail probability at most (negative binomial fitted to the history; mention "
        "volume is so bursty that it takes 1e-14 to keep false alerts under one in ten days, "
        "see `listener eval spikes`)"))
    history: Duration = Field("7d", description="spike: history the baseline is learnt from")
    channel: str | None = Field(None, description="Slack channel for this rule")


class Inhibit(Strict):
    source: str = Field(description="rule whose open incident mutes ...")
    target: str = Field(description="... this rule's incidents")
    equal: list[Literal["brand", "product", "topic"]] = Field(default_factory=lambda: ["brand"])


class AlertSettings(Strict):
    bucket: Duration = Field("5m", description="width of a count bucket")
    rules: list[Rule] = Field(default_factory=list)
    group_by: list[Literal["brand", "product", "topic"]] = Field(
        default_factory=lambda: ["brand", "product", "topic"])
    group_wait: Duration = Field("30s", description=(
        "hold the first message of a new incident this long, so that a burst is one message"))
    repeat_interval: Duration = Field("4h", description="re-notify an open incident this often")
    resolve_after: Duration = Field("2h", description="quiet time after which an incident resolves")
    send_resolved: bool = True
    inhibit: list[Inhibit] = Field(default_factory=list)


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
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    brands: list[Brand] = Field(min_length=1)
    sources: Sources = Field(default_factory=Sources)
    classifier: ClassifierSettings = Field(default_factory=ClassifierSettings)
    topics: list[Topic] = Field(default_factory=list)
    playbooks: dict[str, Playbook] = Field(default_factory=dict)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    queue: QueueSettings = Field(default_factory=QueueSettings)
    digest: DigestSettings | None = Field(None, description=(
        "a daily digest in Slack; absent: none (`listener digest` still prints one)"))
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)

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
    hint = _did_you_mean(value, valid)
    listed = ", ".join(valid) if valid else "none defined"
    return f"{path}: {json.dumps(value)} is not a defined {what};{hint} defined: {listed}"


def _did_you_mean(value: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(str(value), valid, n=1)
    return f" did you mean {json.dumps(close[0])}?" if close else ""


# ---------------------------------------------------------------------------------------------
# Environment substitution and error formatting


def _substitute(node: Any, env: Mapping[str, str], path: str, problems: list[str],
                secret_paths: set[str]) -> Any:
    if isinstance(node, dict):
        return {k: _substitute(v, env, _join(path, k), problems, secret_paths)
                for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, env, f"{path}[{i}]", problems, secret_paths)
                for i, v in enumerate(node)]
    if isinstance(node, str) and "${" in node:
        def repl(m: re.Match) -> str:
            name, default = m.group(1), m.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            problems.append(f"{path}: environment variable {name} is not set; export it, "
                            f"or write ${{{name}:-}} to leave the setting empty")
            return ""
        secret_paths.add(path)
        value = ENV_REF.sub(repl, node)
        return value
    return node


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after[_references()]",):
            continue
        else:
            out = _join(out, part)
    return out


def _valid_keys(model: type[Strict], loc: tuple) -> list[str]:
    """The keys the model accepts at the parent of loc (for unknown-key hints)."""
    from typing import get_args
    cur: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or cur is None:
            continue
        field = getattr(cur, "model_fields", {}).get(part)
        if field is None:
            return []
        ann = field.annotation
        candidates = [ann, *get_args(ann)]
        for c in list(candidates):
            candidates.extend(get_args(c))
        cur = next((c for c in candidates if isinstance(c, type) and issubclass(c, Strict)), None)
        if cur is None:
            return []
    return list(getattr(cur, "model_fields", {}))


def _describe(err: dict, secret_paths: set[str]) -> str:
    loc = err["loc"]
    path = _loc(loc)
    value = err.get("input")
    shown = ("the value from the environment" if path in secret_paths
             else json.dumps(value, default=str))
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        if len(loc) == 2 and loc[0] == "sources":
            return (f"{path}: unknown source {json.dumps(key)};"
                    f"{_did_you_mean(key, list(SOURCES))} valid sources: {', '.join(SOURCES)}")
        valid = _valid_keys(Config, loc)
        return (f"{path}: unknown key;{_did_you_mean(key, valid)} "
                f"valid keys here: {', '.join(valid)}")
    if kind == "missing":
        return f"{path}: required key is missing"
    if kind == "value_error":
        msg = str(err["ctx"]["error"])
        if path in secret_paths:
            msg = msg.replace(json.dumps(value), "the value from the environment")
        return f"{path}: {msg}"
    if kind == "literal_error":
        return f"{path}: {shown} is not allowed; use one of {err['ctx']['expected']}"
    if kind == "string_pattern_mismatch":
        pattern = err["ctx"]["pattern"]
        fix = ("use lowercase letters, digits, - and _" if pattern == NAME
               else "use letters, digits, spaces, - and _" if pattern == TOPIC_NAME
               else "start it with http:// or https://")
        return f"{path}: {shown} is not allowed; {fix}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"{path}: expected a mapping of keys to values, got {shown}"
    if kind == "list_type":
        return f"{path}: expected a list, got {shown}"
    return f"{path}: {shown}: {err['msg']}"


def load_config(text: str, env: Mapping[str, str] | None = None, *,
                source: str = "config") -> Config:
    """Parse and validate config text. Raises ConfigError listing every problem found."""
    env = os.environ if env is None else env
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError([f"{where}not valid YAML: {getattr(exc, 'problem', exc)}"],
                          source) from None
    if not isinstance(data, dict):
        raise ConfigError(["the file must be a mapping with at least a brands: key"], source)
    problems: list[str] = []
    secret_paths: set[str] = set()
    data = _substitute(data, env, "", problems, secret_paths)
    if problems:
        raise ConfigError(problems, source)
    try:
        return Config.model_validate(data)
    except ConfigError as exc:
        raise ConfigError(exc.problems, source) from None
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            inner = err.get("ctx", {}).get("error")
            if err["type"] == "value_error" and isinstance(inner, ConfigError):
                problems.extend(err["ctx"]["error"].problems)
            else:
                problems.append(_describe(err, secret_paths))
        raise ConfigError(problems, source) from None


def load_config_file(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(["file not found; pass --config PATH or create config.yaml"],
                          str(path)) from None
    except OSError as exc:
        raise ConfigError([f"cannot read the file: {exc.strerror}"], str(path)) from None
    return load_config(text, env, source=str(path))


def database_url(config: Config, config_dir: Path, env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    if env.get("LISTENER_DATABASE_URL"):
        return env["LISTENER_DATABASE_URL"]
    if config.database.url:
        return config.database.url
    return f"sqlite:///{(config_dir / 'listener.db').resolve()}"


def bucket_seconds(config: Config) -> int:
    return max(60, int(config.alerts.bucket / timedelta(seconds=1)))
