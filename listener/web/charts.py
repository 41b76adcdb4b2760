"""The dashboard's volume chart as plain numbers for an inline SVG the template draws."""

from __future__ import annotations

from datetime import UTC, datetime

WIDTH, HEIGHT, PAD = 720, 160, 24


def volume_bars(buckets: dict[int, int], *, first: int, hours: int) -> dict:
    """Bars for hours first..first+hours-1 (hour indexes since the epoch), scaled to the peak."""
    counts = [buckets.get(first + i, 0) for i in range(hours)]
    peak = max(counts) or 1
    slot = (WIDTH - PAD) / hours
    bars = []
    for i, n in enumerate(counts):
        h = round((HEIGHT - PAD) * n / peak, 1)
        start = datetime.fromtimestamp((first + i) * 3600, UTC)
        bars.append({"x": round(PAD + i * slot, 1), "y": round(HEIGHT - PAD - h, 1),
                     "w": round(slot * 0.8, 1), "h": h, "n": n,
                     "label": f"{start:%a %H}:00 · {n} mention(s)"})
    ticks = [{"x": b["x"], "text": datetime.fromtimestamp((first + i) * 3600, UTC)
              .strftime("%a %Hh")} for i, b in enumerate(bars) if i % 12 == 0]
    return {"width": WIDTH, "height": HEIGHT, "pad": PAD, "bars": bars, "peak": max(counts),
            "total": sum(counts), "ticks": ticks, "base": HEIGHT - PAD}
