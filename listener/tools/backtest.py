"""Backtest a config on stored history: which incidents would have opened, when, at what severity.

How it runs: a scratch SQLite database in a temporary folder receives the stored mentions of the
period (and the history the rules look back over before it), matched again with the config's
brand and product queries (a mention no query matches is left out), with their stored
classification labels (topics the config does not define are left out). Then the live detect
step, `pipeline.detect.detect`, runs on the scratch database at every bucket from `since` to
`until`, on the historical clock. Incidents, decisions and outbox rows land in the scratch
database and go away with it: the live incidents and outbox are never touched, and nothing is
sent (no notifier is built). A copy rather than a view of the live database keeps detection's SQL
exactly as it runs live, and works whatever the live database is (SQLite or PostgreSQL).

Limits: mentions that matched no brand when they were collected were never stored, so a broader
query cannot find them; a topic that was not configured when the mentions were classified has no
labels (listed in `missing_topics`).
"""

from __future__ import annotations

import bisect
import re
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from listener.config import Config
from listener.incidents.evidence import read_evidence
from listener.pipeline.detect import detect
from listener.query.matching import match_mention
from listener.sources.contract import RawMention
from listener.storage.models import Decision, Incident, Label, Mention, MentionTopic, OutboxMessage

BATCH = 2000


@dataclass
class WouldOpen:
    rule: str
    key: str
    title: str
    opened_at: datetime
    level: int               # at opening
    peak_level: int
    resolved_at: datetime | None
    reason: str
    messages: list[str]      # the notifications it would have sent, by kind

    def as_dict(self) -> dict:
        d = asdict(self)
        d["opened_at"] = self.opened_at.isoformat()
        d["resolved_at"] = self.resolved_at.isoformat() if self.resolved_at else None
        return d


@dataclass
class Backtest:
    since: datetime
    until: datetime
    mentions: int = 0            # stored mentions in the period and its look-back
    unmatched: int = 0           # ... that this config's brand queries do not match
    steps: int = 0               # detection runs
    incidents: list[WouldOpen] = field(default_factory=list)
    missing_topics: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"since": self.since.isoformat(), "until": self.until.isoformat(),
                "mentions": self.mentions, "unmatched": self.unmatched, "steps": self.steps,
                "missing_topics": self.missing_topics,
                "incidents": [i.as_dict() for i in self.incidents]}


def lookback(config: Config) -> timedelta:
    """How far before `since` detection reads mentions (the rules' windows and histories)."""
    return max((r.lookback for r in config.alerts.rules), default=timedelta(0)) \
        + config.alerts.bucket


def run_backtest(engine: Engine, *, config: Config, since: datetime, until: datetime,
                 progress: Callable[[int, int], None] | None = None,
                 workdir: Path | None = None) -> Backtest:
    """Replay the mentions stored in `engine` from `since` to `until` through `config`.
    `progress(done, total)` is called after each bucket."""
    from listener.storage.db import create_tables, make_engine

    result = Backtest(since, until)
    with tempfile.TemporaryDirectory(prefix="backtest-", dir=workdir) as tmp:
        scratch = make_engine(f"sqlite:///{Path(tmp) / 'backtest.db'}")
        try:
            create_tables(scratch)
            _copy(engine, scratch, config, since - lookback(config), until, result)
            _replay(scratch, config, since, until, result, progress)
            result.incidents = _incidents(scratch)
        finally:
            scratch.dispose()
    return result


def _copy(src: Engine, dst: Engine, config: Config, start: datetime, until: datetime,
          result: Backtest) -> None:
    lo, hi = int(start.timestamp()), int(until.timestamp())
    topics = {t.name for t in config.topics}
    seen_topics: set[str] = set()
    columns = [c.name for c in Mention.__table__.columns]
    with Session(src) as s, Session(dst) as d:
        stmt = (select(Mention, Label).outerjoin(Label, Label.mention_id == Mention.id)
                .where(Mention.created_epoch >= lo, Mention.created_epoch < hi)
                .order_by(Mention.id).execution_options(yield_per=BATCH))
        mentions, labels, kept = [], [], set()
        for m, lab in s.execute(stmt):
            result.mentions += 1
            match = match_mention(config, RawMention(
                m.source, m.external_id, m.created_at, m.text, m.author, m.author_reach, m.url,
                m.lang))
            if match is None:
                result.unmatched += 1
                continue
            row = {c: getattr(m, c) for c in columns}
            row["brand"], row["product"] = match.brand, match.product
            mentions.append(row)
            kept.add(m.id)
            if lab is not None:
                seen_topics.update(lab.topics)
                labels.append({c.name: getattr(lab, c.name) for c in Label.__table__.columns})
        if mentions:
            for i in range(0, len(mentions), BATCH):
                d.execute(insert(Mention), mentions[i:i + BATCH])
            for i in range(0, len(labels), BATCH):
                d.execute(insert(Label), labels[i:i + BATCH])
        rows = [{"mention_id": t.mention_id, "topic": t.topic, "score": t.score,
                 "created_epoch": t.created_epoch}
                for t in s.scalars(select(MentionTopic).where(
                    MentionTopic.created_epoch >= lo, MentionTopic.created_epoch < hi,
                    MentionTopic.topic.in_(sorted(topics))))
                if t.mention_id in kept]
        for i in range(0, len(rows), BATCH):
            d.execute(insert(MentionTopic), rows[i:i + BATCH])
        d.commit()
    rule_topics = {t for r in config.alerts.rules for t in r.match.topics}
    result.missing_topics = sorted(rule_topics - seen_topics) if result.mentions else []


def _replay(scratch: Engine, config: Config, since: datetime, until: datetime, result: Backtest,
            progress: Callable[[int, int], None] | None) -> None:
    """detect() at every bucket boundary; a bucket with no mention within the longest window
    and no open incident is skipped, since detect() would find nothing to do there."""
    step = config.alerts.bucket
    reach = max((r.window for r in config.alerts.rules), default=step)
    with Session(scratch) as s:
        epochs = sorted(e for (e,) in s.execute(select(Mention.created_epoch)))
    t0 = datetime.fromtimestamp(int(since.timestamp()) // int(step.total_seconds())
                                * int(step.total_seconds()), tz=UTC) + step
    total = max(0, int((until - t0) / step) + 1)
    now, done, open_incidents = t0, 0, 0
    while now <= until:
        n = int(now.timestamp())
        recent = bisect.bisect_left(epochs, n) - bisect.bisect_left(
            epochs, n - int(reach.total_seconds()))
        if recent or open_incidents:
            taken = detect(scratch, config=config, now=now)
            result.steps += 1
            if taken:
                with Session(scratch) as s:
                    open_incidents = s.execute(select(func.count()).select_from(Incident).where(
                        Incident.status == "open")).scalar_one()
        done += 1
        if progress:
            progress(done, total)
        now += step


def _incidents(scratch: Engine) -> list[WouldOpen]:
    out = []
    with Session(scratch) as s:
        for inc in s.scalars(select(Incident).order_by(Incident.opened_at, Incident.id)):
            first = s.scalars(select(Decision).where(
                Decision.incident_id == inc.id).order_by(Decision.id)).first()
            kinds = [k for (k,) in s.execute(select(OutboxMessage.kind).where(
                OutboxMessage.incident_id == inc.id).order_by(OutboxMessage.id))]
            out.append(WouldOpen(inc.rule, inc.key, inc.title, inc.opened_at,
                                 first_level(first, inc),
                                 inc.peak_level, inc.resolved_at,
                                 first.reason if first else read_evidence(inc).reason,
                                 kinds))
    return out


def first_level(decision: Decision | None, inc: Incident) -> int:
    """The level at opening, read from the opening decision ("opened at severity N: ...")."""
    m = re.search(r"severity (\d+)", decision.reason) if decision else None
    return int(m.group(1)) if m else inc.peak_level


def diff(a: Backtest, b: Backtest, *, tolerance: timedelta = timedelta(0)) -> dict:
    """Incidents only in a, only in b, and those in both (same rule and group) that open at
    another time or reach another peak severity."""
    def by_key(bt: Backtest) -> dict[str, list[WouldOpen]]:
        out: dict[str, list[WouldOpen]] = {}
        for i in bt.incidents:
            out.setdefault(i.key, []).append(i)
        return out
    ka, kb = by_key(a), by_key(b)
    only_a, only_b, changed = [], [], []
    for key in sorted(ka.keys() | kb.keys()):
        xs, ys = ka.get(key, []), kb.get(key, [])
        for x, y in zip(xs, ys, strict=False):
            if abs(x.opened_at - y.opened_at) > tolerance or x.peak_level != y.peak_level:
                changed.append({"key": key, "opened_at": [x.opened_at.isoformat(),
                                                          y.opened_at.isoformat()],
                                "peak_level": [x.peak_level, y.peak_level]})
        only_a += [x.as_dict() for x in xs[len(ys):]]
        only_b += [y.as_dict() for y in ys[len(xs):]]
    return {"only_in_config": only_a, "only_in_against": only_b, "changed": changed}
