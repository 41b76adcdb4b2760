"""What changes between two configs: the keys (secrets masked) and, on the mentions stored in a
period, which would newly match or stop matching each brand, product and topic.

Only stored mentions are seen: a text that matched no brand query when it was collected was
dropped then, so a widened brand query shows its effect on new mentions only.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from classifiers.base import TopicSpec
from classifiers.text import Keyword, Words, tokenize
from classifiers.topics import TopicMatcher
from listener.config import Config
from listener.config.types import format_duration
from listener.query.matching import match_mention
from listener.sources.contract import RawMention
from listener.storage.models import Label, Mention

SECRET_KEY = re.compile(r"token|secret|password|api_key|webhook", re.I)
MASK = "********"


# ---------------------------------------------------------------------------------------------
# Keys


class _Secret(str):
    """A secret's digest: compared for change, shown masked."""


def _secret(value) -> _Secret:
    raw = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    return _Secret(hashlib.sha256(raw.encode()).hexdigest())


def _flatten(node, path: str, out: dict) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            p = f"{path}.{k}" if path else str(k)
            if isinstance(v, SecretStr) or (SECRET_KEY.search(str(k)) and isinstance(v, str)
                                            and v):
                out[p] = _secret(v)
            else:
                _flatten(v, p, out)
    elif isinstance(node, list) and node and all(isinstance(x, dict) and "name" in x
                                                   for x in node):
        for x in node:   # named items (brands, products, topics, rules) keyed by their name
            _flatten(x, f"{path}[{x['name']}]", out)
    elif isinstance(node, list) and not node:
        return           # an empty list is the same as the key left out
    elif isinstance(node, timedelta):
        out[path] = format_duration(node)
    elif isinstance(node, datetime):
        out[path] = node.isoformat()
    elif isinstance(node, list):
        out[path] = [format_duration(x) if isinstance(x, timedelta) else x for x in node]
    else:
        out[path] = node


def key_changes(old: Config, new: Config) -> list[tuple[str, str, str]]:
    """(key path, added | removed | changed, what) in key order; secrets shown masked."""
    a, b = {}, {}
    _flatten(old.model_dump(), "", a)
    _flatten(new.model_dump(), "", b)
    out = []
    for key in sorted(a.keys() | b.keys()):
        if key not in b:
            out.append((key, "removed", _show(a[key])))
        elif key not in a:
            out.append((key, "added", _show(b[key])))
        elif a[key] != b[key]:
            out.append((key, "changed", _what_changed(a[key], b[key])))
    return out


URL_PASSWORD = re.compile(r"(://[^/:@\s]+:)[^@/\s]+@")


def masked_keys(config: Config, mask: str = MASK) -> list[tuple[str, str]]:
    """Every key of `config` with its value as people may see it: secrets (SecretStr values and
    keys named like a token or password) as `mask`, and a password inside a URL masked too."""
    flat: dict = {}
    _flatten(config.model_dump(), "", flat)
    def show(v) -> str:
        return mask if isinstance(v, _Secret) else URL_PASSWORD.sub(
            lambda m: f"{m[1]}{mask}@", _show(v))
    return [(key, show(v)) for key, v in sorted(flat.items())]


def _show(v) -> str:
    return MASK if isinstance(v, _Secret) else json.dumps(v, ensure_ascii=False, default=str)


def _what_changed(a, b) -> str:
    if isinstance(a, _Secret) or isinstance(b, _Secret):
        return "(secret changed)"
    if isinstance(a, list) and isinstance(b, list):
        gone = [x for x in a if x not in b]
        new = [x for x in b if x not in a]
        parts = ([f"removed {', '.join(map(_show, gone))}"] if gone else []) + (
            [f"added {', '.join(map(_show, new))}"] if new else [])
        return "; ".join(parts) or "reordered"
    return f"{_show(a)} -> {_show(b)}"


# ---------------------------------------------------------------------------------------------
# Effect on stored mentions


@dataclass
class Effect:
    kind: str                 # brand | product | topic
    name: str
    newly: int = 0
    stopped: int = 0
    newly_examples: list[str] = field(default_factory=list)
    stopped_examples: list[str] = field(default_factory=list)

    def add(self, before: bool, after: bool, text: str, examples: int) -> None:
        if after and not before:
            self.newly += 1
            if len(self.newly_examples) < examples:
                self.newly_examples.append(text)
        elif before and not after:
            self.stopped += 1
            if len(self.stopped_examples) < examples:
                self.stopped_examples.append(text)


@dataclass
class DiffReport:
    since_epoch: int
    until_epoch: int
    mentions: int
    effects: list[Effect]


def _spec(t) -> TopicSpec:
    return TopicSpec(t.name, t.description, tuple(t.keywords), tuple(t.examples), t.similarity,
                     tuple(t.sentiments))


def stored_effects(engine: Engine, old: Config, new: Config, *, since: timedelta,
                   embed: Callable | None = None, until_epoch: int | None = None,
                   examples: int = 3) -> DiffReport:
    """Re-run the brand/product queries and the topics that changed on the mentions stored in
    [until - since, until) (until: the newest stored mention, or `until_epoch`). `embed` (texts
    -> normalised rows; the classifier's encoder) is needed only when a topic changed."""
    with Session(engine) as s:
        if until_epoch is None:
            newest = s.execute(select(func.max(Mention.created_epoch))).scalar()
            until_epoch = (newest or 0) + 1
        since_epoch = until_epoch - int(since.total_seconds())
        rows = list(s.execute(
            select(Mention, Label.sentiment).outerjoin(Label, Label.mention_id == Mention.id)
            .where(Mention.created_epoch >= since_epoch, Mention.created_epoch < until_epoch)
            .order_by(Mention.created_epoch, Mention.id)))
    mentions = [(m, sentiment) for m, sentiment in rows]
    effects: dict[tuple[str, str], Effect] = {}

    def effect(kind: str, name: str) -> Effect:
        return effects.setdefault((kind, name), Effect(kind, name))

    if old.brands != new.brands:
        for m, _ in mentions:
            raw = RawMention(m.source, m.external_id, m.created_at, m.text, author=m.author,
                             lang=m.lang)
            a, b = match_mention(old, raw), match_mention(new, raw)
            for brand in {x.brand for x in (a, b) if x}:
                effect("brand", brand).add(bool(a and a.brand == brand),
                                           bool(b and b.brand == brand), m.text, examples)
            for x in {(x.brand, x.product) for x in (a, b) if x and x.product}:
                effect("product", f"{x[0]} / {x[1]}").add(
                    bool(a and (a.brand, a.product) == x), bool(b and (b.brand, b.product) == x),
                    m.text, examples)

    olds = {t.name: _spec(t) for t in old.topics}
    news = {t.name: _spec(t) for t in new.topics}
    changed = [n for n in [*olds, *[n for n in news if n not in olds]]
               if olds.get(n) != news.get(n)]
    for name in changed:
        _topic_effect(effect("topic", name), olds.get(name), news.get(name), mentions, embed,
                      examples)
    kept = [e for e in effects.values() if e.newly or e.stopped]
    return DiffReport(since_epoch, until_epoch, len(mentions), kept)


def _topic_effect(out: Effect, old: TopicSpec | None, new: TopicSpec | None, mentions,
                  embed, examples: int) -> None:
    same_refs = (old is not None and new is not None and
                 (old.description, old.examples, old.similarity, old.sentiments) ==
                 (new.description, new.examples, new.similarity, new.sentiments))
    if same_refs:
        # only mentions whose keyword verdict changed can change: embed just those
        before, after = _keywords(old), _keywords(new)
        todo = []
        for m, s in mentions:
            words = Words(tokenize(m.text))
            if _found(before, words) != _found(after, words):
                todo.append((m, s))
    else:
        todo = mentions
    if not todo:
        return
    if embed is None:
        raise ValueError("a changed topic needs the encoder to compare similarities")
    texts = [m.text for m, _ in todo]
    emb = embed(texts)
    before = _topic_hits(old, texts, emb, embed, [s for _, s in todo])
    after = _topic_hits(new, texts, emb, embed, [s for _, s in todo])
    for text, a, b in zip(texts, before, after, strict=True):
        out.add(a, b, text, examples)


def _keywords(spec: TopicSpec) -> list[Keyword]:
    return [Keyword(k) for k in spec.keywords]


def _found(keywords: list[Keyword], words: Words) -> bool:
    return any(k.found_in(words) for k in keywords)


def _topic_hits(spec: TopicSpec | None, texts, emb, embed, sentiments) -> list[bool]:
    if spec is None:
        return [False] * len(texts)
    hits = TopicMatcher([spec], embed).match(texts, emb)
    return [spec.name in h and (not spec.sentiments or s in spec.sentiments)
            for h, s in zip(hits, sentiments, strict=True)]


def render(changes: list[tuple[str, str, str]], report: DiffReport | None) -> str:
    from datetime import UTC
    lines = ["keys:"]
    lines += [f"  {kind:8} {key}: {what}" for key, kind, what in changes] or ["  (no change)"]
    if report is None:
        return "\n".join(lines)
    fmt = "%Y-%m-%d %H:%M"
    since = datetime.fromtimestamp(report.since_epoch, UTC).strftime(fmt)
    until = datetime.fromtimestamp(report.until_epoch, UTC).strftime(fmt)
    lines.append(f"stored mentions {since} - {until} UTC: {report.mentions}")
    if not report.effects:
        lines.append("  no stored mention would match differently")
    for e in report.effects:
        lines.append(f"  {e.kind} {e.name}: {e.newly} would newly match, {e.stopped} would stop "
                     "matching")
        lines += [f"    + {t}" for t in e.newly_examples]
        lines += [f"    - {t}" for t in e.stopped_examples]
    lines.append("(only stored mentions are seen: texts no brand query matched at collection "
                 "were not kept)")
    return "\n".join(lines)
