"""An incident's evidence: why it fired, as one typed record.

`Evidence` is what the detect step found when it opened or last notified an incident (observed
against expected, growth, the terms, sources and authors driving it, near-duplicates, examples,
the chart's numbers). It is stored in `incidents.evidence` as JSON; `read_evidence` is the one way
back from a row to the record, `store_evidence` the one way in. `gather` builds it from the
group's stored mentions.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from alerts.detectors import Detector, Signal
from alerts.drivers import driving_terms, minus, shares, top_share
from alerts.series import CountSeries
from listener.config.types import format_duration
from listener.storage import counts
from listener.storage.models import Incident, Mention

if TYPE_CHECKING:
    from listener.config import Config
    from listener.config.rules import RuleBase

BASELINE = timedelta(days=7)   # the terms of a window are compared with this much before it
CHART_SPAN, CHART_STEP = timedelta(days=3), timedelta(hours=1)
EXAMPLES = 5


@dataclass
class ExampleMention:
    id: int
    text: str
    author: str
    reach: int
    source: str
    url: str
    created_at: str                # ISO 8601


@dataclass
class Term:
    term: str
    share: float                   # of the window's mentions
    baseline_share: float          # of the week before's


@dataclass
class WithoutTop:
    """The detector run again without the top three authors' mentions."""
    fires: bool
    observed: float


@dataclass
class ChartSpec:
    """What the alert's chart (alerts/chart.py) draws, as plain numbers: counts per bucket of the
    last days, the window that fired and the expected count per bucket."""
    recent: list[int]
    step_s: int
    end: str                       # ISO 8601, the end of the last bucket
    window_buckets: int
    expected_per_bucket: float
    unit: str


@dataclass
class Reach:
    max: int = 0                   # the widest single author's followers
    total: int = 0                 # all distinct authors' together


@dataclass
class Evidence:
    observed: float = 0.0
    expected: float = 0.0
    previous: float | None = None
    window: str = ""
    reason: str = ""
    started_at: str | None = None
    p_value: float | None = None
    first_seen: str | None = None
    mentions: int = 0
    authors: int = 0
    sources: dict[str, float] = field(default_factory=dict)
    product: str | None = None
    examples: list[ExampleMention] = field(default_factory=list)
    recent: list[int] = field(default_factory=list)
    chart: ChartSpec | None = None
    terms: list[Term] = field(default_factory=list)
    authors_share: dict[str, float] = field(default_factory=dict)
    top_authors: list[str] = field(default_factory=list)
    top3_share: float | None = None
    without_top3: WithoutTop | None = None
    duplicates_share: float = 0.0
    reach: Reach = field(default_factory=Reach)
    level: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Evidence:
        """A stored record back; keys it does not know are ignored, missing ones take their
        default (an incident made by hand, or before a field existed)."""
        known = {f.name for f in fields(cls)}
        d = {k: v for k, v in (data or {}).items() if k in known}
        d["examples"] = [ExampleMention(**e) for e in d.get("examples") or []]
        d["terms"] = [Term(**t) for t in d.get("terms") or []]
        for key, kind in (("chart", ChartSpec), ("without_top3", WithoutTop), ("reach", Reach)):
            if isinstance(d.get(key), dict):
                d[key] = kind(**{k: v for k, v in d[key].items()
                                 if k in {f.name for f in fields(kind)}})
        if d.get("reach") is None:
            d.pop("reach", None)
        return cls(**d)


def read_evidence(incident: Incident) -> Evidence:
    return Evidence.from_json(incident.evidence)


def store_evidence(incident: Incident, evidence: Evidence) -> None:
    incident.evidence = evidence.to_json()


# --- gathering ----------------------------------------------------------------------------------

def reach_of(mentions: list[Mention]) -> Reach:
    per_author: dict[str, int] = {}
    for m in mentions:
        per_author[m.author] = max(per_author.get(m.author, 0), m.author_reach or 0)
    return Reach(max(per_author.values(), default=0), sum(per_author.values()))


def gather(session, *, config: Config, rule: RuleBase, group: dict, signal: Signal,
           detector: Detector, series: CountSeries, window: list[Mention],
           now: datetime) -> Evidence:
    """The evidence of a signal from the group's mentions in its window (`window`, oldest first)
    and the series the detector judged."""
    until = int(now.timestamp())
    since = until - int(signal.window.total_seconds())
    sources = Counter(m.source for m in window)
    products = Counter(m.product for m in window if m.product)
    top, top3 = top_share(m.author for m in window)
    baseline = counts.window_mentions(session, since=since - int(BASELINE.total_seconds()),
                                      until=since, brand=group.get("brand"),
                                      product=group.get("product"), topic=None, sentiment=None,
                                      limit=2000)
    names = [b.name for b in config.brands if b.name == group.get("brand")]
    names += [p.name for b in config.brands if b.name == group.get("brand") for p in b.products]
    terms = driving_terms([m.text for m in window], [m.text for m in baseline], exclude=names)
    dups = [m for m in window if m.cluster_id not in (None, m.id)]
    n = len(window)
    return Evidence(
        observed=signal.observed, expected=signal.expected, previous=signal.previous,
        window=format_duration(signal.window), reason=signal.reason,
        started_at=signal.started_at.isoformat(), p_value=signal.p_value,
        first_seen=window[0].created_at.isoformat() if window else None,
        mentions=n, authors=len({m.author for m in window}),
        sources={s: c / n for s, c in sources.items()} if n else {},
        product=products.most_common(1)[0][0] if products else None,
        examples=[_example(m) for m in _examples(window)],
        recent=list(signal.recent),
        chart=_chart(session, rule, group, signal, now),
        terms=[Term(**t.as_dict()) for t in terms],
        authors_share=shares(m.author for m in window), top_authors=top, top3_share=top3,
        without_top3=_without_top(session, rule, group, detector, series, window, top, now)
        if window else None,
        duplicates_share=len(dups) / n if n else 0.0,
        reach=reach_of(window), level=signal.level)


def _examples(window: list[Mention]) -> list[Mention]:
    """The first report, then the widest-reaching distinct authors."""
    picked, authors = [], set()
    for m in window[:1] + sorted(window[1:], key=lambda m: -m.author_reach):
        if m.author not in authors:
            authors.add(m.author)
            picked.append(m)
        if len(picked) == EXAMPLES:
            break
    return picked


def _example(m: Mention) -> ExampleMention:
    return ExampleMention(m.id, m.text, m.author, m.author_reach, m.source, m.url,
                          m.created_at.isoformat())


def _without_top(session, rule: RuleBase, group: dict, detector: Detector, series: CountSeries,
                 window: list[Mention], top: list[str], now: datetime) -> WithoutTop:
    """Re-run the detector on the series without the top authors' mentions: would it fire?"""
    until = int(now.timestamp())
    removed: Counter = Counter()
    if rule.counts == "authors":   # the series counts authors at their first mention
        lookback = counts.group_mentions(session, rule=rule, group=group,
                                         since=until - int(rule.lookback.total_seconds()),
                                         until=until)
        firsts: dict[str, datetime] = {}
        for m in lookback:
            firsts.setdefault(m.author, m.created_at)
        removed.update(firsts[a] for a in top if a in firsts)
    else:
        removed.update(m.created_at for m in window if m.author in top)
    rest = minus(series, removed)
    signal = detector.detect(rest, now)
    lo = len(series.counts) - series.buckets_in(rule.window)
    return WithoutTop(signal is not None, sum(rest.counts[max(0, lo):]))


def _chart(session, rule: RuleBase, group: dict, signal: Signal, now: datetime) -> ChartSpec:
    step = int(CHART_STEP.total_seconds())
    until = int(now.timestamp())
    last = until // step - (0 if until % step else 1)
    since = until - int(CHART_SPAN.total_seconds())
    buckets = counts.count_group(session, rule=rule, group=group, step=step, since=since,
                                 until=until)
    series = CountSeries.from_buckets(buckets, first=since // step, last=last, step_seconds=step)
    window = max(1, math.ceil(signal.window / CHART_STEP))
    return ChartSpec(list(series.counts), step, series.end.isoformat(), window,
                     signal.expected / window, rule.unit)
