"""The alert's chart: a small PNG of the count series (the recent buckets, the expected-volume
band, the spike window highlighted), drawn from plain numbers with matplotlib's Agg canvas (no
pyplot, no global state, no display)."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import datetime, timedelta


def expected_band(per_bucket: float) -> tuple[float, float]:
    """Roughly the range a Poisson count with this mean stays in (mean ± 2 sd, at least ±0.5)."""
    spread = max(0.5, 2 * math.sqrt(per_bucket))
    return max(0.0, per_bucket - spread), per_bucket + spread


def chart_from_spec(spec: dict) -> bytes:
    """The chart from its JSON form (the incident evidence's "chart", listener/detection.py)."""
    return render_chart(spec["recent"], step=timedelta(seconds=spec["step_s"]),
                        end=datetime.fromisoformat(spec["end"]),
                        window_buckets=spec["window_buckets"],
                        expected_per_bucket=spec["expected_per_bucket"],
                        title=spec.get("title", ""), unit=spec.get("unit", "mentions"))


def render_chart(recent: Sequence[int], *, step: timedelta, end: datetime, window_buckets: int,
                 expected_per_bucket: float, title: str = "", unit: str = "mentions") -> bytes:
    """PNG bytes. `recent` are counts per bucket of `step`, the last ending at `end`; the last
    `window_buckets` of them are the window that fired."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import DateFormatter
    from matplotlib.figure import Figure

    n = len(recent)
    starts = [end - step * (n - i) for i in range(n)]
    spike_from = max(0, n - window_buckets)
    fig = Figure(figsize=(6, 2.4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    width = step / timedelta(days=1) * 0.9
    colors = ["#d62728" if i >= spike_from else "#8c8c8c" for i in range(n)]
    ax.bar(starts, list(recent), width=width, align="edge", color=colors, linewidth=0)
    lo, hi = expected_band(expected_per_bucket)
    if n:
        ax.axhspan(lo, hi, color="#1f77b4", alpha=0.15, linewidth=0, zorder=0)
        ax.axhline(expected_per_bucket, color="#1f77b4", linewidth=1)
    ax.xaxis.set_major_formatter(DateFormatter("%a %H:%M"))
    ax.tick_params(labelsize=7)
    ax.set_ylabel(f"{unit} / {_fmt(step)}", fontsize=7)
    ax.set_ylim(0, max([*recent, hi, 1]) * 1.25)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, fontsize=8, loc="left")
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def _fmt(step: timedelta) -> str:
    minutes = int(step.total_seconds() // 60)
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"
