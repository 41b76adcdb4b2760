"""Why an incident fired, from plain records: the terms over-represented in the window against
the baseline, who and where it comes from, and whether it would still fire without its top three
authors. Pure: texts, names and count series in, numbers out."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from alerts.series import CountSeries

_WORD = re.compile(r"[#@]?[^\W\d_][\w'’-]*[^\W_]|[^\W\d_]", re.UNICODE)
STOPWORDS = frozenset("""
a about after again all also am an and any are as at be because been before being but by can
could did do does doing don't for from get got had has have having he her here hers him his how
i i'm if in into is it it's its just like me more most my no not now of on one only or our out
over she so some than that the their them then there these they this those to too up us very
was we were what when where which while who why will with would you your just really still
even much many via amp rt https http www com
""".split())


@dataclass(frozen=True)
class Term:
    term: str
    share: float            # of the window's mentions that contain it
    baseline_share: float   # of the baseline's mentions that contain it

    def as_dict(self) -> dict:
        return {"term": self.term, "share": round(self.share, 3),
                "baseline_share": round(self.baseline_share, 3)}


def words(text: str) -> set[str]:
    """The distinct words of a text, lower-cased, without stop words, handles or links."""
    text = re.sub(r"https?://\S+", " ", text.lower())
    return {w.strip("'’-") for w in _WORD.findall(text)
            if len(w) > 2 and not w.startswith("@") and w not in STOPWORDS}


def driving_terms(window: Sequence[str], baseline: Sequence[str], *, top: int = 5,
                  min_share: float = 0.2, exclude: Iterable[str] = ()) -> list[Term]:
    """The words most over-represented in the window's texts compared with the baseline's
    (smoothed log ratio of the share of texts containing them), in at least two texts and
    `min_share` of the window. `exclude`: words every mention has anyway (the brand's name)."""
    if not window:
        return []
    skip = {w for e in exclude for w in words(e)}
    n_w, n_b = len(window), len(baseline)
    in_window = Counter(w for t in window for w in words(t))
    in_base = Counter(w for t in baseline for w in words(t))
    scored = []
    for w, k in in_window.items():
        if k < 2 or k / n_w < min_share or w in skip:
            continue
        lift = math.log(((k + 0.5) / (n_w + 1)) / ((in_base[w] + 0.5) / (n_b + 1)))
        if lift > math.log(2):
            scored.append((lift, k, w))
    scored.sort(key=lambda x: (-x[0], -x[1], x[2]))
    return [Term(w, k / n_w, in_base[w] / n_b if n_b else 0.0) for _, k, w in scored[:top]]


def shares(values: Iterable[str], *, top: int = 5) -> dict[str, float]:
    """The most common values with their share of all, largest first."""
    counts = Counter(values)
    total = sum(counts.values())
    return {v: n / total for v, n in counts.most_common(top)} if total else {}


def top_share(values: Iterable[str], n: int = 3) -> tuple[list[str], float]:
    """The n most frequent values and the share of all they account for."""
    counts = Counter(values)
    total = sum(counts.values())
    top = [v for v, _ in counts.most_common(n)]
    return top, (sum(counts[v] for v in top) / total if total else 0.0)


def minus(series: CountSeries, removed: Mapping[datetime, int]) -> CountSeries:
    """The series without `removed` counts at the buckets containing those times (never below 0)."""
    counts = list(series.counts)
    start = series.start()
    for at, n in removed.items():
        i = int((at - start) / series.step)
        if 0 <= i < len(counts):
            counts[i] = max(0, counts[i] - n)
    return CountSeries(series.end, series.step, tuple(counts))
