"""Render the demo's first alert for the README: the demo stream replayed through the pipeline
into the local fake Slack Web API (tests/fakes/slack.py), then what Slack received written out:
docs/alert.txt (the chat.postMessage payload block by block, and the message as chat.update
left it) and docs/alert-chart.png (the PNG
files_upload_v2 put into the alert's thread).

    .venv/bin/python scripts/render_alert.py
"""

from __future__ import annotations

import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from slack_sdk import WebClient  # noqa: E402

from alerts.notifiers import SlackNotifier  # noqa: E402
from listener.config import load_config_file  # noqa: E402
from listener.daemon.runner import build_classifier, build_engine, build_sources  # noqa: E402
from listener.pipeline.simulate import step_through  # noqa: E402
from tests.fakes.slack import FakeSlack  # noqa: E402


def text_of(message: dict) -> str:
    out = [f"fallback text: {message['text']}", ""]
    for b in message["blocks"]:
        if b["type"] in ("header", "section"):
            out.append(f"[{b['type']}] {b['text']['text']}")
        elif b["type"] == "context":
            out.extend(f"[context] {e['text']}" for e in b["elements"])
        elif b["type"] == "actions":
            out.append("[actions] " + " ".join(
                f"[ {e['text']['text']} ] (action_id {e['action_id']}, value {e['value']})"
                for e in b["elements"]))
    return "\n".join(out) + "\n"


def main() -> None:
    config = load_config_file(ROOT / "config.yaml", env={})
    with tempfile.TemporaryDirectory() as tmp, FakeSlack() as slack:
        engine = build_engine(config, ROOT, f"sqlite:///{tmp}/demo.db")
        clock = [None]
        sources = build_sources(config, ROOT, clock=lambda: clock[0])
        first, last = sources["replay"].time_range()
        notifier = SlackNotifier(WebClient(token=slack.token, base_url=slack.base_url,
                                           retry_handlers=[]))
        step_through(engine, config=config, sources=sources, classifier=build_classifier(config),
                     notifier=notifier, start=first, end=last + timedelta(hours=1),
                     step=timedelta(minutes=10), clock=clock)
        alert = slack.top_level()[0]          # as chat.update left it at the end of the demo
        posted = next(r["payload"] for r in slack.requests if r["method"] == "chat.postMessage")
        (ROOT / "docs" / "alert.txt").write_text(
            "# the alert as first posted\n" + text_of(posted)
            + "\n# the same message at the end of the demo, after chat.update\n"
            + text_of(alert))
        chart = next(f for f in slack.shared_files() if f.get("thread_ts") == alert["ts"])
        (ROOT / "docs" / "alert-chart.png").write_bytes(chart["data"])
        engine.dispose()
    print("wrote docs/alert.txt and docs/alert-chart.png")


if __name__ == "__main__":
    main()
