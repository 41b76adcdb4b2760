"""The life of an incident, in Prometheus Alertmanager's terms, as one pure decision function.

decide(policy, state, signal, now) says what to do with a group's incident at `now`:
first (open and notify), escalated (level rose), repeat (still firing after repeat_interval),
resolved (quiet for resolve_after), or skip — always with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from alerts.detectors import Signal


@dataclass(frozen=True)
class Policy:
    repeat_interval: timedelta = timedelta(hours=4)
    resolve_after: timedelta = timedelta(hours=2)
    send_resolved: bool = True


@dataclass(frozen=True)
class IncidentState:
    level: int
    peak_level: int
    last_signal_at: datetime
    last_notified_at: datetime | None


@dataclass(frozen=True)
class Decision:
    action: str      # first | escalated | repeat | resolved | skip
    notify: bool
    reason: str
    code: str = ""   # stable name of the reason, e.g. "quiet", "already-notified"


def decide(policy: Policy, state: IncidentState | None, signal: Signal | None,
           now: datetime) -> Decision | None:
    """None means nothing is happening and nothing is open: nothing to record."""
    if state is None:
        if signal is None:
            return None
        return Decision("first", True, f"opened at severity {signal.level}: {signal.reason}")
    if signal is None:
        quiet = now - state.last_signal_at
        if quiet >= policy.resolve_after:
            return Decision("resolved", policy.send_resolved,
                            f"quiet for {_fmt(quiet)} (resolve_after {_fmt(policy.resolve_after)})")
        return Decision("skip", False, f"no signal for {_fmt(quiet)}; resolves after "
                                       f"{_fmt(policy.resolve_after)} of quiet", "quiet")
    if signal.level > state.peak_level:
        return Decision("escalated", True,
                        f"severity rose from {state.peak_level} to {signal.level}: {signal.reason}")
    since = now - (state.last_notified_at or now)
    if state.last_notified_at is not None and since >= policy.repeat_interval:
        return Decision("repeat", True, f"still firing {_fmt(since)} after the last notification")
    return Decision("skip", False, f"already notified at severity {state.peak_level}; "
                                   f"repeat after {_fmt(policy.repeat_interval)}",
                    f"already-notified-{state.peak_level}")


def _fmt(td: timedelta) -> str:
    minutes = int(td.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"
