"""The daily digest as a Slack message (Block Kit + a plain-text fallback that says it all):
volume by source and by topic against the same day a week before, the sentiment split, top
questions and complaints, the incidents open at the end of the day and first-response
attainment. Plain data in; public text escaped; `plain()` is the console rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from alerts.alert_message import _link, _section, _unslack, escape, level_icon
from alerts.limits import cut
from alerts.reminder_message import age


@dataclass
class Volume:
    name: str
    count: int
    last_week: int


@dataclass
class DigestExample:
    text: str
    author: str
    reach: int
    source: str
    url: str
    queue_url: str | None = None


@dataclass
class DigestIncident:
    id: int
    level: int
    title: str
    opened_at: datetime
    acknowledged_by: str | None = None
    url: str | None = None


@dataclass
class DigestView:
    brands: list[str]
    start: datetime                 # local times, in the digest's time zone
    end: datetime
    total: Volume
    by_source: list[Volume] = field(default_factory=list)
    by_topic: list[Volume] = field(default_factory=list)
    sentiment: dict[str, int] = field(default_factory=dict)
    questions: list[DigestExample] = field(default_factory=list)
    complaints: list[DigestExample] = field(default_factory=list)
    incidents: list[DigestIncident] = field(default_factory=list)
    target: timedelta = timedelta(hours=1)
    answered: int = 0
    within: float | None = None     # share answered within target
    median: float | None = None     # seconds to first response
    overdue: int = 0                # open, past target, at the end


def change(v: Volume) -> str:
    if v.last_week == 0:
        return "new" if v.count else "±0%"
    pct = (v.count - v.last_week) / v.last_week
    arrow = "▲" if pct > 0 else "▼" if pct < 0 else ""
    return f"{arrow}{pct:+.0%}".replace("+0%", "±0%")


def versus(v: Volume, when: str = "a week before") -> str:
    if v.last_week == 0:
        return f"none {when}" if v.count else f"none {when} either"
    return f"{change(v)} vs {v.last_week:,} {when}"


def volume_line(v: Volume) -> str:
    return f"{escape(v.name)}: {v.count:,} ({versus(v)})"


def sentiment_line(split: dict[str, int]) -> str:
    total = sum(split.values())
    if not total:
        return "no classified mentions"
    return " · ".join(f"{name} {split.get(name, 0) / total:.0%} ({split.get(name, 0):,})"
                      for name in ("negative", "neutral", "positive"))


def example_line(e: DigestExample) -> str:
    who = escape(e.author) + (f" ({e.reach:,} followers)" if e.reach else "")
    links = " · ".join(x for x in (_link(e.url, "original") if e.url else "",
                                   _link(e.queue_url, "queue") if e.queue_url else "") if x)
    quote = cut(escape(" ".join(e.text.split())), 280)
    return f"> {quote}\n— {who} · {escape(e.source)}" + (f" · {links}" if links else "")


def incident_line(i: DigestIncident) -> str:
    ack = f" · acknowledged by {escape(i.acknowledged_by)}" if i.acknowledged_by else ""
    link = f" · {_link(i.url, 'open')}" if i.url else ""
    return (f"{level_icon(i.level)} SEV {i.level} {escape(i.title)} · since "
            f"{i.opened_at:%a %H:%M} UTC{ack}{link}")


def sla_line(v: DigestView) -> str:
    if not v.answered:
        line = f"no first responses in the period (target {age(v.target)})"
    else:
        line = (f"{v.within:.0%} of {v.answered:,} answered within {age(v.target)} "
                f"(median {age(timedelta(seconds=v.median))})")
    return line + f" · {v.overdue:,} of the period's mentions still open past the target"


def sections(v: DigestView) -> list[tuple[str, list[str]]]:
    """(title, lines) of the digest, in order; the blocks and the fallback text share them."""
    out = [("Volume", [f"*{v.total.count:,} mentions* "
                       f"({versus(v.total, 'the same day last week')})"])]
    out.append(("By source", [volume_line(x) for x in v.by_source] or ["none"]))
    out.append(("By topic", [volume_line(x) for x in v.by_topic] or ["none"]))
    out.append(("Sentiment", [sentiment_line(v.sentiment)]))
    out.append(("Top questions", [example_line(e) for e in v.questions] or ["none"]))
    out.append(("Top complaints", [example_line(e) for e in v.complaints] or ["none"]))
    out.append((f"Open incidents ({len(v.incidents)})",
                [incident_line(i) for i in v.incidents] or ["none"]))
    out.append(("First response", [sla_line(v)]))
    return out


def title(v: DigestView) -> str:
    zone = v.end.tzname() or ""
    return (f"Daily digest · {', '.join(v.brands)} · {v.start:%a %d %b %H:%M} to "
            f"{v.end:%a %d %b %H:%M} {zone}")


def build_digest(v: DigestView) -> dict:
    """{"text", "blocks"} for chat.postMessage (the notifier cuts it to Slack's limits)."""
    head = "📊 " + title(v)
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text",
                                                       "text": cut(head, 150)}}]
    text = [escape(head)]
    for name, lines in sections(v):
        blocks.append(_section(f"*{name}*\n" + "\n".join(lines)))
        text.append(f"{name}:\n" + "\n".join(lines))
    return {"text": "\n\n".join(text), "blocks": blocks}


def plain(message: dict) -> str:
    """The fallback text for a terminal: links as "label (url)", escapes undone, no *bold*."""
    return _unslack(message["text"]).replace("*", "")
