"""The outbox against a local fake Slack Web API: delivery, retries, permanent errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient

from alerts.alert_message import AlertView, Example, Playbook, build_message, escape
from alerts.notifiers import SlackNotifier
from listener.pipeline.notify import notify
from tests.fakes.slack import Scripted
from tests.support.outbox import outbox_rows, queue_messages

NOW = datetime(2026, 10, 30, 12, tzinfo=UTC)


def view(**kw) -> AlertView:
    base = dict(
        incident_id=1, kind="first", level=7, rule="safety-reports",
        title="Lumi Toys · Pumpkin Glow flashlight · product safety",
        what="3 distinct people reported it in the last 3h", observed=3, expected=0,
        previous=0, window="3h", opened_at=NOW,
        first_seen=NOW - timedelta(hours=1), sources={"twitter": 0.67, "reddit": 0.33},
        examples=[Example("it burned my <!channel> daughter & <https://evil.example|click>",
                          "mom <b>", 1204, "twitter", "https://x.com/a/status/1", NOW)],
        playbook=Playbook("product-safety", "https://wiki.example.com/crisis/product-safety",
                          "@pr-oncall", "We're looking into it."))
    base.update(kw)
    return AlertView(**base)


def test_public_text_is_escaped_so_nobody_can_ping_or_forge_links():
    msg = build_message(view())
    examples = next(b for b in msg["blocks"] if "Examples" in b.get("text", {}).get("text", ""))
    body = examples["text"]["text"]
    assert "<!channel>" not in body and "&lt;!channel&gt;" in body
    assert "<https://evil.example|click>" not in body
    assert "mom &lt;b&gt;" in body and "daughter &amp;" in body
    assert "<https://x.com/a/status/1|open>" in body
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"


def test_message_carries_growth_examples_and_the_playbook():
    msg = build_message(view())
    assert msg["text"].startswith("SEV 7 Lumi Toys · Pumpkin Glow flashlight · product safety: "
                                  "3 distinct people reported it in the last 3h")
    assert "https://wiki.example.com/crisis/product-safety" in msg["text"]
    flat = str(msg["blocks"])
    assert "0 in the 3h before" in flat and "first seen Fri 11:00 UTC" in flat
    assert "*Owner:* @pr-oncall" in flat and "We're looking into it." in flat
    assert msg["blocks"][0]["type"] == "header"


def _outbox(engine, n=1):
    queue_messages(engine, kinds=["first"] + ["escalated"] * (n - 1), now=NOW,
                   message=lambda incident_id, kind: build_message(view()))


def notifier(slack, token="xoxb-test-token", base_url=None):
    return SlackNotifier(WebClient(token=token, base_url=base_url or slack.base_url,
                                   retry_handlers=[], timeout=5))


def test_delivers_and_threads_replies_under_the_first_message(sqlite_engine, fake_slack):
    _outbox(sqlite_engine, n=2)
    r = notify(sqlite_engine, notifier=notifier(fake_slack), now=NOW)
    assert (r.sent, r.retrying, r.failed) == (2, 0, 0)
    first, reply = fake_slack.messages
    assert first["channel"] == "#crisis" and "thread_ts" not in first
    assert reply["thread_ts"] == first["ts"]
    rows = outbox_rows(sqlite_engine)
    assert [n.status for n in rows] == ["sent", "sent"] and rows[0].slack_ts == first["ts"]


@pytest.mark.parametrize("script, error", [
    (Scripted(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "30"}),
     "Slack rate limit (429)"),
    (Scripted(503, {"ok": False, "error": "service_unavailable"}), "Slack answered HTTP 503"),
])
def test_retryable_failures_stay_in_the_outbox_until_slack_is_back(sqlite_engine, fake_slack,
                                                                    script, error):
    _outbox(sqlite_engine)
    fake_slack.script.append(script)
    r = notify(sqlite_engine, notifier=notifier(fake_slack), now=NOW)
    assert r.retrying == 1 and fake_slack.messages == []
    row = outbox_rows(sqlite_engine)[0]
    assert row.status == "pending" and row.last_error == error and row.attempts == 1
    if script.status == 429:
        assert row.next_attempt_at == NOW + timedelta(seconds=30)   # honours Retry-After
    assert notify(sqlite_engine, notifier=notifier(fake_slack), now=NOW).sent == 0
    later = row.next_attempt_at
    r = notify(sqlite_engine, notifier=notifier(fake_slack), now=later)
    assert r.sent == 1 and len(fake_slack.messages) == 1
    assert outbox_rows(sqlite_engine)[0].status == "sent"


def test_slack_unreachable_keeps_the_notification(sqlite_engine, fake_slack):
    _outbox(sqlite_engine)
    dead = notifier(fake_slack, base_url="http://127.0.0.1:9/api/")
    r = notify(sqlite_engine, notifier=dead, now=NOW)
    assert r.retrying == 1
    row = outbox_rows(sqlite_engine)[0]
    assert row.status == "pending" and row.last_error.startswith("Slack unreachable")


@pytest.mark.parametrize("token, script, message", [
    ("xoxb-wrong-secret", None,
     "Slack said invalid_auth: the bot token is not valid; check slack.token"),
    ("xoxb-test-token", Scripted(200, {"ok": False, "error": "channel_not_found"}),
     "Slack said channel_not_found: the channel does not exist or the bot cannot see it; "
     "check slack.channel"),
])
def test_permanent_errors_name_the_setting_and_are_not_retried(sqlite_engine, fake_slack, token,
                                                               script, message):
    _outbox(sqlite_engine)
    if script:
        fake_slack.script.append(script)
    r = notify(sqlite_engine, notifier=notifier(fake_slack, token=token), now=NOW)
    assert r.failed == 1
    row = outbox_rows(sqlite_engine)[0]
    assert row.status == "failed" and row.last_error == message
    assert "secret" not in row.last_error
    calls = len(fake_slack.requests)
    notify(sqlite_engine, notifier=notifier(fake_slack, token=token),
                    now=NOW + timedelta(hours=1))
    assert len(fake_slack.requests) == calls
