"""The life of an incident, in Prometheus Alertmanager's terms, as one pure decision function.

decide(policy, state, signal, now, silence=, inhibitor=) says what to do with a group's incident
at `now`, always with the reason:

first      open and notify; the message is held for group_wait so that a burst is one message
grouped    the level rose while the first message was still held: it goes out at the new level
escalated  the level rose above the highest level notified
repeat     still firing repeat_interval after the last notification (unless acknowledged since
           it last escalated)
resolved   quiet for resolve_after (notified when send_resolved, and only if anything was sent)
skip       nothing to send (already notified, held, quiet but not for long enough)
silenced   what would have been sent is muted by a silence; `effect` is what still happens to the
           incident (it opens, resolves, changes level) without a message
inhibited  a new incident is not opened because another open incident covers it

advance(state, decision, signal, now) is the incident after that decision: the one transition
the daemon's detect step stores and the NAB replay (alerts/nab.py) keeps in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from alerts.detectors import Signal


@dataclass(frozen=True)
class Policy:
    repeat_interval: timedelta = timedelta(hours=4)
    resolve_after: timedelta = timedelta(hours=2)
    send_resolved: bool = True
    group_wait: timedelta = timedelta(seconds=30)


@dataclass(frozen=True)
class IncidentState:
    level: int
    peak_level: int                     # the highest level notified (or held to be)
    last_signal_at: datetime
    last_notified_at: datetime | None   # when the last message went (or, held, will go) out
    acknowledged_by: str | None = None  # acknowledged since it last escalated: no repeats


@dataclass(frozen=True)
class Mute:
    """Why a notification is muted: a silence or an inhibiting incident."""
    code: str        # stable, e.g. "silenced-3", "inhibited-by-12"
    reason: str      # e.g. "silence #3 (topic=product_safety) by ana until ...: known issue"


@dataclass(frozen=True)
class Decision:
    action: str      # first | grouped | escalated | repeat | resolved | skip | silenced | inhibited
    notify: bool
    reason: str
    code: str = ""   # stable name of the reason, e.g. "quiet", "already-notified-7"
    effect: str = ""             # for "silenced": the action that happens without a message
    hold: timedelta = timedelta(0)   # send the message this long after now (group_wait)

    @property
    def does(self) -> str:
        """What happens to the incident: the action, or for a silenced one its effect."""
        return self.effect or self.action


def decide(policy: Policy, state: IncidentState | None, signal: Signal | None, now: datetime, *,
           silence: Mute | None = None, inhibitor: Mute | None = None) -> Decision | None:
    """None means nothing is happening and nothing is open: nothing to record."""
    decision = _decide(policy, state, signal, now, inhibitor)
    if decision is None or silence is None or not decision.notify:
        return decision
    return Decision("silenced", False, f"{decision.action} not sent: {silence.reason}",
                    f"{silence.code}-{decision.action}", effect=decision.action)


def _decide(policy: Policy, state: IncidentState | None, signal: Signal | None, now: datetime,
            inhibitor: Mute | None) -> Decision | None:
    wait = policy.group_wait
    if state is None:
        if signal is None:
            return None
        if inhibitor is not None:
            return Decision("inhibited", False, inhibitor.reason, inhibitor.code)
        return Decision("first", True, f"opened at severity {signal.level}: {signal.reason}",
                        hold=wait)
    if signal is None:
        quiet = now - state.last_signal_at
        if quiet >= policy.resolve_after:
            why = f"quiet for {_fmt(quiet)} (resolve_after {_fmt(policy.resolve_after)})"
            if state.last_notified_at is None:
                return Decision("resolved", False, why + "; never notified, nothing to send")
            return Decision("resolved", policy.send_resolved, why)
        return Decision("skip", False, f"no signal for {_fmt(quiet)}; resolves after "
                                       f"{_fmt(policy.resolve_after)} of quiet", "quiet")
    if state.last_notified_at is None:   # opened under a silence that has ended since
        return Decision("first", True, f"firing at severity {signal.level}, not notified yet: "
                                       f"{signal.reason}", hold=wait)
    if now < state.last_notified_at:     # the first message is held for group_wait
        if signal.level > state.peak_level:
            return Decision("grouped", True,
                            f"severity rose from {state.peak_level} to {signal.level} within "
                            f"group_wait; the held message will say {signal.level}",
                            f"grouped-{signal.level}")
        return Decision("skip", False, f"first message held until "
                                       f"{state.last_notified_at:%H:%M:%S} (group_wait "
                                       f"{_fmt(wait)})", "held")
    if signal.level > state.peak_level:
        return Decision("escalated", True,
                        f"severity rose from {state.peak_level} to {signal.level}: {signal.reason}")
    since = now - state.last_notified_at
    if state.acknowledged_by and since >= policy.repeat_interval:
        return Decision("skip", False, f"acknowledged by {state.acknowledged_by}: no repeats "
                                       f"until it escalates", "acknowledged")
    if since >= policy.repeat_interval:
        return Decision("repeat", True, f"still firing {_fmt(since)} after the last notification")
    return Decision("skip", False, f"already notified at severity {state.peak_level}; "
                                   f"repeat after {_fmt(policy.repeat_interval)}",
                    f"already-notified-{state.peak_level}")


def advance(state: IncidentState | None, decision: Decision | None, signal: Signal | None,
            now: datetime) -> IncidentState | None:
    """The group's incident after `decision` at `now`: None when none is open (nothing happened,
    a new one was inhibited, or it resolved)."""
    if decision is None or decision.does in ("resolved", "inhibited"):
        return None
    notified = now + decision.hold if decision.notify and decision.action != "grouped" else None
    if state is None:                    # opened (under a silence: not notified)
        return IncidentState(signal.level, signal.level, now, notified)
    if signal is None:                   # quiet, not for long enough
        return state
    # a silenced escalation is not the new peak: the next unsilenced one is still news
    peak = signal.level if decision.action in ("first", "escalated", "grouped") \
        else state.peak_level
    return replace(state, level=signal.level, peak_level=peak, last_signal_at=now,
                   last_notified_at=notified or state.last_notified_at)


def _fmt(td: timedelta) -> str:
    seconds = int(td.total_seconds())
    minutes = seconds // 60
    if minutes >= 60:
        return f"{minutes // 60}h{minutes % 60:02d}m"
    return f"{minutes}m" if minutes else f"{seconds}s"
