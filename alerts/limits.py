"""Slack's message limits, applied to every message before it is sent (alert, reminder, digest).

Slack refuses a whole message (invalid_blocks, msg_too_long) when one part is over its limit, so
a big digest or an alert with long examples is cut to fit instead: at most 50 blocks (the last
one then says how many were left out), section text 3,000 characters, header text 150, at most
10 context elements and 10 section fields, and the fallback text 40,000. A cut never splits a
`<url|label>` link or an `&amp;` escape, so what remains is still valid markup.
"""

from __future__ import annotations

import copy
import re

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_FIELD = 2000
MAX_HEADER = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_FIELDS = 10
MAX_TEXT = 40000
CUT = "…"

# a link or an escape that a cut must not split
_TOKEN = re.compile(r"<[^<>]*>|&(?:amp|lt|gt);")


def cut(text: str, limit: int) -> str:
    """`text` shortened to at most `limit` characters, ending in "…" when cut; at a line end if
    one is near, and never inside a link or an escape."""
    if len(text) <= limit:
        return text
    end = limit - len(CUT)
    for m in _TOKEN.finditer(text, max(0, end - 600)):
        if m.start() < end < m.end():
            end = m.start()
            break
    line = text.rfind("\n", 0, end)
    if line >= end * 0.8:
        end = line
    return text[:end].rstrip() + CUT


def _fit_text(obj: dict, limit: int) -> None:
    if isinstance(obj, dict) and isinstance(obj.get("text"), str):
        obj["text"] = cut(obj["text"], limit)


def _fit_block(block: dict) -> dict:
    kind = block.get("type")
    if kind == "header":
        _fit_text(block.get("text"), MAX_HEADER)
    elif kind == "section":
        _fit_text(block.get("text"), MAX_SECTION)
        if "fields" in block:
            block["fields"] = block["fields"][:MAX_FIELDS]
            for f in block["fields"]:
                _fit_text(f, MAX_FIELD)
    elif kind == "context":
        block["elements"] = block.get("elements", [])[:MAX_CONTEXT_ELEMENTS]
        for e in block["elements"]:
            _fit_text(e, MAX_SECTION)
    return block


def fit(message: dict) -> dict:
    """A copy of the {"text", "blocks"} message within Slack's limits (other keys kept)."""
    out = copy.deepcopy(message)
    if isinstance(out.get("text"), str):
        out["text"] = cut(out["text"], MAX_TEXT)
    blocks = [_fit_block(b) for b in out.get("blocks") or []]
    if len(blocks) > MAX_BLOCKS:
        left_out = len(blocks) - (MAX_BLOCKS - 1)
        note = {"type": "context", "elements": [{
            "type": "mrkdwn", "text": f"{CUT} {left_out} more block(s) left out: Slack shows "
                                      f"at most {MAX_BLOCKS}"}]}
        blocks = [*blocks[:MAX_BLOCKS - 1], note]
    if "blocks" in out:
        out["blocks"] = blocks
    return out
