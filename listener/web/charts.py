"""Charts as plain numbers for the inline SVGs the templates draw (no script, nothing fetched):
volume bars, the same stacked by a label (source, topic), an incident's timeline with its marks,
and a split bar (sentiment)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

WIDTH, HEIGHT, PAD = 720, 160, 24
PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#6b7280")
SERIES_MAX = len(PALETTE) - 1          # the rest are summed as "other"
SENTIMENT_COLOURS = {"negative": "#dc2626", "neutral": "#6b7280", "positive": "#16a34a"}


def _at(index: int, step: int) -> datetime:
    return datetime.fromtimestamp(index * step, UTC)


def _frame(first: int, n: int, step: int, peak: int) -> dict:
    """The geometry every bar chart shares: slot width, axis, ticks at about a quarter apart."""
    slot = (WIDTH - PAD) / n
    fmt = "%a %Hh" if step % 3600 == 0 else "%a %H:%M"
    every = max(1, n // 4)
    ticks = [{"x": round(PAD + i * slot, 1), "text": _at(first + i, step).strftime(fmt)}
             for i in range(0, n - every // 2, every)]   # none clipped at the right edge
    return {"width": WIDTH, "height": HEIGHT, "pad": PAD, "base": HEIGHT - PAD, "slot": slot,
            "ticks": ticks, "peak": peak, "scale": (HEIGHT - PAD) / (peak or 1)}


def bar_chart(buckets: dict[int, int], *, first: int, n: int, step: int,
              unit: str = "mention(s)", peak_at_least: float = 0) -> dict:
    """Bars for bucket indexes first..first+n-1 (bucket = epoch // step), scaled to the peak (at
    least `peak_at_least`, rounded up, so that a line drawn at that height fits)."""
    counts = [buckets.get(first + i, 0) for i in range(n)]
    chart = _frame(first, n, step, max(*counts, math.ceil(peak_at_least), 0))
    bars = []
    for i, count in enumerate(counts):
        h = round(count * chart["scale"], 1)
        bars.append({"x": round(PAD + i * chart["slot"], 1), "y": round(chart["base"] - h, 1),
                     "w": round(chart["slot"] * 0.8, 1), "h": h, "n": count,
                     "label": f"{_at(first + i, step):%a %H:%M} · {count} {unit}"})
    return {**chart, "bars": bars, "total": sum(counts), "step": step}


def volume_bars(buckets: dict[int, int], *, first: int, hours: int) -> dict:
    """Hourly bars for hours first..first+hours-1 (hour indexes since the epoch)."""
    return bar_chart(buckets, first=first, n=hours, step=3600)


def timeline(data: dict) -> dict:
    """An incident's bars (incidents.reading.timeline: mentions, or new authors for a `rare`
    rule) with a vertical mark at each moment of its life that falls in the chart and, for a
    `spike` rule, a horizontal line at the detector's expected count per bucket over the span it
    was judged on (clipped to the chart)."""
    step, unit = data["step"], data.get("unit", "mention(s)")
    expected = data.get("expected")
    chart = bar_chart(data["counts"], first=data["first"], n=data["n"], step=step, unit=unit,
                      peak_at_least=expected["per_bucket"] if expected else 0)
    start = data["first"] * step

    def x(at: datetime) -> float:
        offset = min(max((at.timestamp() - start) / step, 0), data["n"])
        return round(PAD + offset * chart["slot"], 1)

    marks = []
    for name, at in data["marks"]:
        offset = (at.timestamp() - start) / step
        if 0 <= offset <= data["n"]:
            marks.append({"name": name, "x": x(at), "label": f"{name} {at:%a %H:%M} UTC"})
    line = None
    if expected:
        per = expected["per_bucket"]
        y = round(chart["base"] - per * chart["scale"], 1)
        line = {"x1": x(expected["since"]), "x2": x(expected["until"]), "y": y,
                "value": round(per, 2),
                "label": f"expected {per:.2f} {unit} per bucket (the spike detector's, "
                         f"{expected['since']:%a %H:%M} to {expected['until']:%a %H:%M} UTC)"}
    return {**chart, "marks": marks, "unit": unit, "measure": data.get("measure", ""),
            "expected": line}


def stacked_bars(series: dict[str, dict[int, int]], *, first: int, n: int, step: int) -> dict:
    """Bars stacked by series (the largest first, beyond SERIES_MAX summed as "other"), with a
    legend; every segment carries its own tooltip."""
    totals = {name: sum(b.get(first + i, 0) for i in range(n)) for name, b in series.items()}
    names = [k for k in sorted(totals, key=lambda k: (-totals[k], k)) if totals[k]]
    kept, rest = names[:SERIES_MAX], names[SERIES_MAX:]
    rows = {name: series[name] for name in kept}
    if rest:
        rows["other"] = {}
        for name in rest:
            for b, count in series[name].items():
                rows["other"][b] = rows["other"].get(b, 0) + count
    colour = {name: PALETTE[i] for i, name in enumerate(rows)}
    heights = [sum(r.get(first + i, 0) for r in rows.values()) for i in range(n)]
    chart = _frame(first, n, step, max(heights, default=0))
    segments = []
    for i in range(n):
        top = chart["base"]
        for name, buckets in rows.items():
            count = buckets.get(first + i, 0)
            if not count:
                continue
            h = round(count * chart["scale"], 1)
            top = round(top - h, 1)
            segments.append({"x": round(PAD + i * chart["slot"], 1), "y": top, "h": h,
                             "w": round(chart["slot"] * 0.8, 1), "fill": colour[name],
                             "label": f"{_at(first + i, step):%a %H:%M} · {name}: {count}"})
    legend = [{"name": name, "fill": colour[name],
               "total": sum(rows[name].get(first + i, 0) for i in range(n))} for name in rows]
    return {**chart, "segments": segments, "legend": legend, "total": sum(heights)}


def split_bar(counts: dict[str, int], colours: dict[str, str] = SENTIMENT_COLOURS) -> dict:
    """One horizontal bar split by share (e.g. sentiment), in the colours' order."""
    total = sum(counts.values())
    parts, x = [], 0.0
    for name in colours:
        count = counts.get(name, 0)
        w = WIDTH * count / total if total else 0
        parts.append({"name": name, "n": count, "share": count / total if total else 0.0,
                      "x": round(x, 1), "w": round(w, 1), "fill": colours[name]})
        x += w
    return {"width": WIDTH, "height": 28, "parts": parts, "total": total}
