"""Slack message (Block Kit + plain-text fallback) for an incident notification.

Everything that came from the public (mention text, author names, URLs) is escaped so that a post
cannot ping `<!channel>` or forge a link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from alerts.limits import MAX_SECTION, cut

LEVEL_ICON = [(9, "🚨"), (7, "🔴"), (5, "🟠"), (3, "🟡"), (0, "🔵")]
SUBTEAM = re.compile(r"<!subteam\^S[A-Z0-9]+(\|@[\w.-]+)?>")
KIND_PREFIX = {"first": "", "escalated": "Escalated: ", "repeat": "Still firing: ",
               "resolved": "Resolved: ", "acknowledged": "Acknowledged: "}


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: str, label: str) -> str:
    if not url.startswith(("http://", "https://")):
        return escape(label)
    return f"<{escape(url).replace('|', '%7C')}|{escape(label).replace('|', '/')}>"


@dataclass
class Example:
    text: str
    author: str
    reach: int
    source: str
    url: str
    created_at: datetime


@dataclass
class Playbook:
    name: str
    url: str
    owner: str
    holding_statement: str


@dataclass
class AlertView:
    incident_id: int
    kind: str                      # first | escalated | repeat | resolved
    level: int
    title: str                     # brand · product · topic
    rule: str
    what: str                      # e.g. "7 distinct authors reported it in 2h"
    observed: float
    expected: float
    previous: float | None
    window: str
    opened_at: datetime
    first_seen: datetime | None = None
    sources: dict[str, float] = field(default_factory=dict)   # source -> share
    examples: list[Example] = field(default_factory=list)
    playbook: Playbook | None = None
    incident_url: str | None = None
    # why it fired (listener/detection.py evidence(), alerts/explain.py)
    terms: list[tuple[str, float, float]] = field(default_factory=list)  # term, share, before
    authors: dict[str, float] = field(default_factory=dict)              # author -> share
    top3_share: float | None = None
    without_top3: dict | None = None          # {"fires": bool, "observed": n}
    duplicates_share: float = 0.0
    # the first message, updated in place (chat.update), shows the incident's current state
    resolved_at: datetime | None = None
    resolved_by: str | None = None            # a person resolved it by hand (the web queue)
    # who pressed Acknowledge (since its last escalation): shown instead of the button
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    # a user group to ping (configured Slack markup such as "<!subteam^S123>", never public text)
    mention: str | None = None


def level_icon(level: int) -> str:
    return next(icon for floor, icon in LEVEL_ICON if level >= floor)


def growth_line(v: AlertView) -> str:
    parts = [f"*{v.what}*"]
    if v.expected:
        parts.append(f"expected {v.expected:g} (×{v.observed / v.expected:.1f})")
    if v.previous is not None:
        parts.append(f"{v.previous:g} in the {v.window} before")
    if v.first_seen:
        parts.append(f"first seen {v.first_seen:%a %H:%M} UTC")
    return " · ".join(parts)


def why_lines(v: AlertView) -> list[str]:
    """The terms driving it, and who: the authors' shares, the top three's, and whether it would
    still fire without them (public text escaped)."""
    lines = []
    if v.terms:
        lines.append("Terms: " + ", ".join(
            f"*{escape(t)}* {share:.0%} (before {before:.0%})" for t, share, before in v.terms[:5]))
    parts = []
    if v.authors:
        parts.append("Authors: " + ", ".join(f"{escape(a)} {p:.0%}" for a, p in
                                             list(v.authors.items())[:3]))
    if v.top3_share is not None and v.without_top3 is not None:
        verdict = "still fires" if v.without_top3["fires"] else "would not fire"
        parts.append(f"top 3 authors {v.top3_share:.0%}; without them it {verdict} "
                     f"({v.without_top3['observed']:g} left)")
    if v.duplicates_share:
        parts.append(f"near-duplicates {v.duplicates_share:.0%}")
    if parts:
        lines.append(" · ".join(parts))
    return lines


def build_message(v: AlertView) -> dict:
    """Returns {"text": fallback, "blocks": [...]} for chat.postMessage. With kind "first" it is
    also the incident's current state, which chat.update writes over the first message."""
    prefix = KIND_PREFIX.get(v.kind, "")
    if v.kind == "first" and v.resolved_at is not None:
        prefix = KIND_PREFIX["resolved"]
    header = f"{level_icon(v.level)} SEV {v.level} · {prefix}{v.title}"[:150]
    text = f"{prefix}SEV {v.level} {v.title}: {v.what}"
    if v.kind == "acknowledged":
        text = f"{ack_line(v)}: SEV {v.level} {v.title}"
    if v.playbook:
        text += f" · playbook {v.playbook.url}"
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": header}}]
    if v.mention and SUBTEAM.fullmatch(v.mention):
        text = f"{v.mention} {text}"
        blocks.append(_section(f"{v.mention} please take a look"))
    if v.kind == "acknowledged":
        blocks.append(_section(f"✅ {ack_line(v)}"))
    elif v.kind == "resolved":
        how = f"Resolved by {escape(v.resolved_by)}" if v.resolved_by else "Quiet again"
        blocks.append(_section(f"{how}. Peak: {escape(v.what)}"))
    else:
        blocks.append(_section(growth_line(v)))
        if v.sources:
            share = ", ".join(f"{escape(s)} {p:.0%}" for s, p in
                              sorted(v.sources.items(), key=lambda kv: -kv[1])[:5])
            blocks.append({"type": "context", "elements": [
                {"type": "mrkdwn", "text": f"Sources: {share}"}]})
        why = why_lines(v)
        if why:
            blocks.append({"type": "context", "elements": [
                {"type": "mrkdwn", "text": line} for line in why]})
        if v.examples:
            lines = []
            for e in v.examples[:5]:
                quote = escape(e.text.replace("\n", " "))
                quote = quote if len(quote) <= 280 else quote[:277] + "…"
                who = f"{escape(e.author)} ({e.reach:,} followers)" if e.reach else escape(e.author)
                lines.append(f"> {quote}\n— {who} · {escape(e.source)} · {_link(e.url, 'open')}")
            blocks.append(_section("*Examples*\n" + "\n".join(lines)))
        if v.playbook:
            p = v.playbook
            blocks.append(_section(
                f"*Playbook:* {_link(p.url, p.name)} · *Owner:* {escape(p.owner)}\n"
                f"*Holding statement:* {escape(p.holding_statement)}"))
    if v.kind == "first" and v.resolved_at is None and v.acknowledged_by:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"✅ {ack_line(v)}"}]})
    elif v.kind not in ("resolved", "acknowledged") and v.resolved_at is None:
        blocks.append({"type": "actions", "elements": [{
            "type": "button", "action_id": "ack", "value": str(v.incident_id),
            "text": {"type": "plain_text", "text": "Acknowledge"}}]})
    ctx = f"Rule `{escape(v.rule)}` · incident #{v.incident_id} · opened {v.opened_at:%a %H:%M} UTC"
    if v.resolved_at is not None:
        ctx += f" · resolved {v.resolved_at:%a %H:%M} UTC"
        if v.resolved_by:
            ctx += f" by {escape(v.resolved_by)}"
    if v.incident_url:
        ctx += f" · {_link(v.incident_url, 'open in the queue')}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": ctx}]})
    return {"text": text, "blocks": blocks}


def ack_line(v: AlertView) -> str:
    at = f" at {v.acknowledged_at:%a %H:%M} UTC" if v.acknowledged_at else ""
    return f"Acknowledged by {escape(v.acknowledged_by or 'someone')}{at}"


def _section(mrkdwn: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(mrkdwn, MAX_SECTION)}}


def render_console(message: dict) -> str:
    """The Block Kit message as plain text, for the console notifier."""
    out = []
    for b in message.get("blocks", []):
        if b["type"] in ("header", "section"):
            out.append(b["text"]["text"])
        elif b["type"] == "context":
            out.extend(e["text"] for e in b["elements"])
    return _unslack("\n".join(out))


def _unslack(text: str) -> str:
    text = re.sub(r"<([^|>]+)\|([^>]+)>", r"\2 (\1)", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
