"""SLA reminders against the fake Slack on an injected clock: one reminder per mention that needs
a response, reaches the bar and has waited past queue.first_response; never twice (the record is
in the database); none for answered, no-response-needed, unneeded or below-the-bar mentions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk import WebClient
from sqlmodel import Session, select

from alerts.notifiers import SlackNotifier
from listener.config import load_config
from listener.daemon.runner import Daemon
from listener.errors import ConfigError
from listener.pipeline.notify import notify
from listener.pipeline.reminders import queue_reminders
from listener.storage.db import create_tables, make_engine
from listener.storage.models import OutboxMessage
from tests.fakes.clock import HandClock
from tests.fakes.slack import Scripted
from tests.support.mentionrows import BRAND_AND_TOPICS, add_mention

T = datetime(2026, 10, 30, 12, tzinfo=UTC)
CONFIG = BRAND_AND_TOPICS + """\
queue:
  first_response: 60m
  base_url: https://queue.example.com
  sla_reminders: {channel: "#support", min_reach: 1000, min_severity: high}
"""


@pytest.fixture()
def config():
    return load_config(CONFIG, {})


def seed(engine) -> dict[str, int]:
    with Session(engine) as s:
        ids = {name: add_mention(s, at=T, **kw).id for name, kw in {
            "angry-reach": dict(text="@lumitoys worst <!channel> service", author="big <b>",
                                reach=5000, sentiment="negative"),
            "safety-question": dict(text="is the pumpkin glow safe?", reach=10,
                                    topics=("product_safety",)),
            "claimed": dict(text="where is my refund?", reach=2000, status="claimed",
                            assignee="ana"),
            "responded": dict(text="awful", reach=5000, sentiment="negative",
                              status="responded", first_response_at=T + timedelta(minutes=20)),
            "no-response": dict(text="awful", reach=5000, sentiment="negative",
                                status="no_response"),
            "praise": dict(text="love it", reach=50000, sentiment="positive"),
            "small-shipping": dict(text="late again?", reach=10, topics=("shipping",)),
        }.items()}
        add_mention(s, at=T - timedelta(days=2), text="old and angry", reach=9000,
                    sentiment="negative")
        s.commit()
    return ids


def notifier(slack) -> SlackNotifier:
    return SlackNotifier(WebClient(token=slack.token, base_url=slack.base_url,
                                   retry_handlers=[], timeout=5))


def test_one_reminder_per_mention_past_target_that_needs_a_response(sqlite_engine, fake_slack,
                                                                     config):
    ids = seed(sqlite_engine)
    assert queue_reminders(sqlite_engine, config=config, now=T + timedelta(minutes=59)) == 0
    assert queue_reminders(sqlite_engine, config=config, now=T + timedelta(minutes=61)) == 3
    notify(sqlite_engine, notifier=notifier(fake_slack), now=T + timedelta(minutes=61))
    sent = fake_slack.messages
    assert [m["channel"] for m in sent] == ["#support"] * 3
    with Session(sqlite_engine) as s:
        reminded = sorted(p.mention_id for p in s.exec(select(OutboxMessage).where(
            OutboxMessage.kind == "sla_reminder")))
    assert reminded == sorted([ids["angry-reach"], ids["safety-question"], ids["claimed"]])
    first = sent[0]
    assert first["text"] == ("⏰ Lumi Toys mention waiting 1h 01m: big &lt;b&gt; (5,000 "
                             "followers) on twitter: @lumitoys worst &lt;!channel&gt; service")
    body = str(first["blocks"])
    assert "no first response after *1h 01m* (target 1h) · unclaimed" in body
    assert f"<https://example.com/twitter/{int(T.timestamp())}|original post>" in body
    assert (f"<https://queue.example.com/queue?status=all&amp;since=2026-10-30T12%3A00%3A00&amp;until="
            f"2026-10-30T12%3A00%3A01#m{ids['angry-reach']}|open in the queue>") in body
    assert "needs a response: negative" in body and "<!channel>" not in body
    assert "claimed by ana" in str(sent[2]["blocks"])
    assert "needs a response: question" in str(sent[1]["blocks"])


def test_never_twice_even_after_a_restart(sqlite_engine, fake_slack, config, tmp_path):
    seed(sqlite_engine)
    assert queue_reminders(sqlite_engine, config=config, now=T + timedelta(minutes=61)) == 3
    again = make_engine(f"sqlite:///{tmp_path / 'test.db'}")    # the daemon restarted
    create_tables(again)
    for minutes in (62, 120, 600):
        assert queue_reminders(again, config=config, now=T + timedelta(minutes=minutes)) == 0
    notify(again, notifier=notifier(fake_slack), now=T + timedelta(hours=2))
    notify(again, notifier=notifier(fake_slack), now=T + timedelta(hours=3))
    assert len(fake_slack.messages) == 3
    again.dispose()


def test_a_reminder_slack_refused_for_a_while_is_retried_by_the_outbox(sqlite_engine,
                                                                        fake_slack, config):
    seed(sqlite_engine)
    queue_reminders(sqlite_engine, config=config, now=T + timedelta(minutes=61))
    fake_slack.script.append(Scripted(503, {"ok": False, "error": "service_unavailable"}))
    at = T + timedelta(minutes=61)
    r = notify(sqlite_engine, notifier=notifier(fake_slack), now=at)
    assert (r.sent, r.retrying) == (0, 1)
    r = notify(sqlite_engine, notifier=notifier(fake_slack), now=at + timedelta(seconds=5))
    assert r.sent == 3 and len(fake_slack.messages) == 3


def test_the_daemon_schedules_the_reminders_job_and_it_runs_on_its_clock(sqlite_engine,
                                                                         fake_slack, config):
    seed(sqlite_engine)
    clock = HandClock(T)
    daemon = Daemon(config=config, config_dir=None, engine=sqlite_engine, clock=clock,
                    sources={}, classifier=None, notifier=notifier(fake_slack))
    scheduler = BackgroundScheduler()
    daemon._schedule(scheduler, config)
    assert {"sla-reminders", "notify"} <= {j.id for j in scheduler.get_jobs()}
    assert "digest" not in {j.id for j in scheduler.get_jobs()}
    for minutes in range(0, 130, 1):           # every minute of the daemon's clock
        clock.at = T + timedelta(minutes=minutes)
        daemon.job_reminders()
        daemon.job_notify()
    assert len(fake_slack.messages) == 3
    assert {r["at"] for r in fake_slack.requests} == {None}


def test_reminders_are_off_without_the_setting_and_the_setting_is_strict(sqlite_engine):
    seed(sqlite_engine)
    plain = load_config(CONFIG.replace(
        '  sla_reminders: {channel: "#support", min_reach: 1000, min_severity: high}\n', ""), {})
    assert queue_reminders(sqlite_engine, config=plain, now=T + timedelta(hours=2)) == 0
    with pytest.raises(ConfigError) as err:
        load_config(CONFIG.replace("min_severity: high", "min_severity: severe, every: 5m"), {})
    assert err.value.problems == [
        "queue.sla_reminders.min_severity: \"severe\" is not allowed; use one of 'low', "
        "'medium', 'high' or 'critical'",
        "queue.sla_reminders.every: unknown key; valid keys here: channel, needs, min_reach, "
        "min_severity, max_age"]


def test_config_yaml_documents_reminders_the_digest_and_the_webhook_and_they_load():
    import re

    from listener.config import DigestSettings, SlaReminderSettings
    from tests.conftest import CONFIG as SHIPPED
    keys = {*SlaReminderSettings.model_fields, *DigestSettings.model_fields, "sla_reminders",
            "digest", "webhook_url"}
    text = SHIPPED.read_text()
    enabled = re.sub(rf"^(\s*)# ( *)((?:{'|'.join(keys)}):.*)$", r"\1\2\3", text, flags=re.M)
    config = load_config(enabled, {})
    assert config.queue.sla_reminders.min_severity == "high"
    assert (config.digest.at, config.digest.timezone) == ("09:00", "Europe/Berlin")
    assert config.slack.webhook_url is None and config.schedule.reminders_every
    for key in keys:
        assert re.search(rf"^\s*(# +)?{key}:", text, flags=re.M), f"{key} is not documented"
