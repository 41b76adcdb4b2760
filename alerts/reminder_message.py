"""The SLA reminder: one Slack message about a mention that needs a response and has waited past
the first-response target without one. Public text (author, mention) is escaped."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from alerts.alert_message import _link, _section, escape
from alerts.limits import cut


@dataclass
class ReminderView:
    mention_id: int
    author: str
    reach: int
    source: str
    brand: str
    text: str
    url: str                         # the original post
    created_at: datetime
    waited: timedelta
    target: timedelta
    why: list[str] = field(default_factory=list)   # e.g. ["negative", "question"]
    assignee: str | None = None
    queue_url: str | None = None     # the mention in the web queue


def age(td: timedelta) -> str:
    """1h 12m, 2d 3h, 45m."""
    minutes = int(td.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins:02d}m" if mins else f"{hours}h"
    return f"{mins}m"


def build_reminder(v: ReminderView) -> dict:
    """{"text", "blocks"} for chat.postMessage."""
    who = escape(v.author) + (f" ({v.reach:,} followers)" if v.reach else "")
    late = f"no first response after *{age(v.waited)}* (target {age(v.target)})"
    holder = f" · claimed by {escape(v.assignee)}" if v.assignee else " · unclaimed"
    quote = escape(" ".join(v.text.split()))
    quote = cut(quote, 600)
    about = [_link(v.url, "original post")]
    if v.queue_url:
        about.insert(0, _link(v.queue_url, "open in the queue"))
    if v.why:
        about.append(f"needs a response: {', '.join(v.why)}")
    about.append(f"mention #{v.mention_id}")
    text = (f"⏰ {escape(v.brand)} mention waiting {age(v.waited)}: {who} on "
            f"{escape(v.source)}: {quote}")
    blocks = [
        _section(f"⏰ *{escape(v.brand)}* mention: {late}{holder}"),
        _section(f"> {quote}\n— {who} · {escape(v.source)} · "
                 f"{v.created_at:%a %H:%M} UTC"),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(about)}]},
    ]
    return {"text": text, "blocks": blocks}
