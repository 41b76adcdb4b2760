"""Who acknowledged shows in Slack: after a signed click on Acknowledge, the notify step replies
in the alert's thread and updates the first message (chat.update) so that it says who and when
where the button was; a second click changes nothing; an escalation brings the button back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from slack_sdk import WebClient
from sqlmodel import Session

from alerts.notifiers import SlackNotifier
from listener.config import load_config
from listener.incidents.outbox import enqueue
from listener.pipeline.notify import notify
from listener.storage.models import Incident
from listener.web.app import create_app
from tests.web.test_slack_ack import SECRET, click, signed

T = datetime(2026, 10, 30, 12, tzinfo=UTC)
CONFIG = """\
brands: [{name: Lumi Toys, query: lumitoys}]
sources: {replay: {}}
topics: [{name: product_safety, description: harm, severity: critical}]
alerts:
  rules: [{name: safety, match: {topics: [product_safety]}, detector: rare, window: 2h}]
slack: {channel: "#social-alerts", signing_secret: "${SLACK_SIGNING_SECRET}"}
"""


def actions(message: dict) -> list[dict]:
    return [b for b in message["blocks"] if b["type"] == "actions"]


def setup(engine, slack):
    config = load_config(CONFIG, {"SLACK_SIGNING_SECRET": SECRET})
    with Session(engine) as s:
        inc = Incident(key="k", rule="safety", topic="product_safety", title="Lumi · safety",
                       level=7, peak_level=7, opened_at=T, last_signal_at=T,
                       last_notified_at=T, observed=3, expected=0,
                       evidence={"observed": 3, "expected": 0, "window": "2h", "examples": []})
        s.add(inc)
        s.flush()
        enqueue(s, config, config.alerts.rules[0], inc, "first", T)
        s.commit()
        incident_id = inc.id
    notifier = SlackNotifier(WebClient(token=slack.token, base_url=slack.base_url,
                                       retry_handlers=[], timeout=5))
    notify(engine, notifier=notifier, now=T)
    clicked_at = T + timedelta(minutes=5)
    app = create_app(config, engine, lambda: clicked_at, secret_key="k")
    return config, incident_id, notifier, TestClient(app)


def test_the_first_message_says_who_acknowledged_and_loses_its_button(sqlite_engine,
                                                                       fake_slack):
    config, iid, notifier, client = setup(sqlite_engine, fake_slack)
    first = fake_slack.messages[0]
    assert actions(first)[0]["elements"][0]["action_id"] == "ack"
    body = click(iid)
    assert client.post("/slack/actions", content=body, headers=signed(body)).status_code == 200
    r = notify(sqlite_engine, notifier=notifier, now=T + timedelta(minutes=5))
    assert r.sent == 1
    reply = fake_slack.messages[1]
    assert reply["thread_ts"] == first["ts"]
    assert reply["text"] == "Acknowledged by ana at Fri 12:05 UTC: SEV 7 Lumi · safety"
    assert reply["blocks"][1]["text"]["text"] == "✅ Acknowledged by ana at Fri 12:05 UTC"
    assert actions(reply) == []
    (update,) = fake_slack.updates
    assert (update["channel"], update["ts"]) == (first["channel_id"], first["ts"])
    assert actions(first) == []                  # the fake applied the update to the message
    shown = [e["text"] for b in first["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert "✅ Acknowledged by ana at Fri 12:05 UTC" in shown

    # a second click (or another person's) records nothing new and sends nothing
    client.post("/slack/actions", content=body, headers=signed(body))
    assert notify(sqlite_engine, notifier=notifier, now=T + timedelta(minutes=6)).sent == 0

    # an escalation asks again: the first message gets its button back
    with Session(sqlite_engine) as s:
        inc = s.get(Incident, iid)
        inc.level = inc.peak_level = 9
        inc.escalated_at = T + timedelta(minutes=30)
        enqueue(s, config, config.alerts.rules[0], inc, "escalated", T + timedelta(minutes=30))
        s.add(inc)
        s.commit()
    notify(sqlite_engine, notifier=notifier, now=T + timedelta(minutes=30))
    assert actions(first)[0]["elements"][0]["action_id"] == "ack"
    assert "Acknowledged by" not in str(first["blocks"])


def test_an_acknowledgement_of_an_incident_never_posted_only_records_it(sqlite_engine,
                                                                         fake_slack):
    _config, iid, notifier, client = setup(sqlite_engine, fake_slack)
    with Session(sqlite_engine) as s:
        inc = s.get(Incident, iid)
        inc.last_notified_at = None
        s.add(inc)
        s.commit()
    body = click(iid)
    client.post("/slack/actions", content=body, headers=signed(body))
    assert notify(sqlite_engine, notifier=notifier, now=T + timedelta(minutes=5)).sent == 0
    with Session(sqlite_engine) as s:
        assert s.get(Incident, iid).acknowledged_by == "ana"
