"""Incoming-webhook mode (slack.webhook_url) against a local fake webhook: delivery through the
outbox, no threads (a reply is a message of its own), 429/5xx retried, 4xx permanent naming the
setting, the URL never in an error or the log, and the config's rules for token vs webhook."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from alerts.alert_message import AlertView, build_message
from alerts.pacing import Pacer
from alerts.webhook import WebhookNotifier
from listener.config import load_config
from listener.daemon.runner import build_notifier
from listener.errors import ConfigError
from listener.pipeline.notify import notify
from tests.fakes.slack import FakeWebhook, text_reply
from tests.support.outbox import outbox_rows, queue_messages

NOW = datetime(2026, 10, 30, 12, tzinfo=UTC)
BASE = "brands: [{name: Lumi Toys, query: lumitoys}]\nsources: {replay: {}}\n"


@pytest.fixture()
def webhook():
    with FakeWebhook() as hook:
        yield hook


def notifier_for(url: str):
    return build_notifier(load_config(BASE + "slack: {webhook_url: '${SLACK_WEBHOOK_URL}'}\n",
                                      {"SLACK_WEBHOOK_URL": url}), pacer=Pacer(0.0))


def outbox(engine, kinds=("first",)):
    def message(incident_id: int, kind: str) -> dict:
        return build_message(AlertView(incident_id=incident_id, kind=kind, level=7,
                                       title="Lumi · safety", rule="r", what="3 authors",
                                       observed=3, expected=0, previous=0, window="2h",
                                       opened_at=NOW))
    queue_messages(engine, kinds=kinds, message=message, now=NOW)


def test_the_config_builds_a_webhook_notifier_that_posts_through_the_outbox(sqlite_engine,
                                                                            webhook):
    notifier = notifier_for(webhook.url)
    assert isinstance(notifier, WebhookNotifier)
    outbox(sqlite_engine, kinds=("first", "escalated"))
    r = notify(sqlite_engine, notifier=notifier, now=NOW)
    assert (r.sent, r.retrying, r.failed) == (2, 0, 0)
    first, reply = webhook.posts
    assert first["text"].startswith("SEV 7 Lumi · safety") and first["blocks"]
    assert "thread_ts" not in reply and reply["text"].startswith("Escalated: SEV 7")
    assert [n.delivered_to for n in outbox_rows(sqlite_engine)] == [
        "Slack (incoming webhook)"] * 2
    assert not hasattr(notifier, "update") and not hasattr(notifier, "upload_chart")


@pytest.mark.parametrize("status, body, headers, error, retry_after", [
    (429, "rate_limited", {"Retry-After": "7"}, "Slack webhook rate limit (429)", 7.0),
    (500, "rollup_error", {}, "Slack webhook answered HTTP 500", None),
    (503, "", {}, "Slack webhook answered HTTP 503", None),
])
def test_429_and_5xx_stay_in_the_outbox_and_are_retried(sqlite_engine, webhook, status, body,
                                                        headers, error, retry_after):
    outbox(sqlite_engine)
    webhook.fail_next(text_reply(status, body, headers))
    notifier = notifier_for(webhook.url)
    assert notify(sqlite_engine, notifier=notifier, now=NOW).retrying == 1
    row = outbox_rows(sqlite_engine)[0]
    assert (row.status, row.last_error) == ("pending", error)
    assert row.next_attempt_at == NOW + timedelta(seconds=retry_after or 5)
    assert notify(sqlite_engine, notifier=notifier, now=row.next_attempt_at).sent == 1
    assert len(webhook.posts) == 1


@pytest.mark.parametrize("status, body, error", [
    (404, "no_service", "Slack webhook said no_service (HTTP 404): the webhook is disabled or "
                        "removed; check slack.webhook_url"),
    (403, "action_prohibited", "Slack webhook said action_prohibited (HTTP 403): an admin has "
                               "restricted posting with this webhook; check slack.webhook_url"),
    (410, "channel_is_archived", "Slack webhook said channel_is_archived (HTTP 410): the "
                                 "webhook's channel is archived; check slack.webhook_url"),
    (403, "", "Slack webhook answered HTTP 403 (no reason); check slack.webhook_url"),
    (400, "invalid_payload", "Slack webhook refused the message (HTTP 400, invalid_payload)"),
])
def test_4xx_errors_are_permanent_name_the_setting_and_never_show_the_url(
        sqlite_engine, webhook, caplog, status, body, error):
    outbox(sqlite_engine)
    webhook.fail_next(text_reply(status, body))
    caplog.set_level(logging.DEBUG)
    notifier = notifier_for(webhook.url)
    assert notify(sqlite_engine, notifier=notifier, now=NOW).failed == 1
    row = outbox_rows(sqlite_engine)[0]
    assert (row.status, row.last_error) == ("failed", error)
    assert "webhooksecret123" not in caplog.text
    assert notify(sqlite_engine, notifier=notifier, now=NOW + timedelta(hours=1)).sent == 0


def test_an_unreachable_webhook_is_retried_without_showing_the_url(sqlite_engine, caplog):
    outbox(sqlite_engine)
    caplog.set_level(logging.DEBUG)
    notifier = notifier_for("http://127.0.0.1:9/services/T1/B1/webhooksecret123")
    assert notify(sqlite_engine, notifier=notifier, now=NOW).retrying == 1
    row = outbox_rows(sqlite_engine)[0]
    assert row.last_error.startswith("Slack webhook unreachable: ")
    assert "webhooksecret123" not in caplog.text + row.last_error


@pytest.mark.parametrize("slack, env, problem", [
    ("{token: '${T}', webhook_url: '${W}'}", {"T": "xoxb-1", "W": "https://hooks.slack.com/s/1"},
     "slack: token and webhook_url are both set; a bot token does everything a webhook does and "
     "more (threads, updates, charts): keep one"),
    ("{webhook_url: '${W}'}", {"W": "hooks.slack.com/services/secretpart"},
     "slack.webhook_url: is not a URL; paste the whole https://hooks.slack.com/services/... "
     "address Slack gave for the incoming webhook"),
])
def test_the_config_refuses_token_and_webhook_together_and_a_bad_url_unquoted(slack, env,
                                                                               problem):
    with pytest.raises(ConfigError) as err:
        load_config(BASE + f"slack: {slack}\n", env)
    assert err.value.problems == [problem]
    assert "secretpart" not in str(err.value)


def test_an_empty_webhook_url_from_the_environment_means_none():
    config = load_config(BASE + "slack: {webhook_url: '${SLACK_WEBHOOK_URL:-}'}\n", {})
    assert config.slack.webhook_url is None
