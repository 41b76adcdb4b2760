"""Replay -> store -> classify -> detect -> a local fake Slack Web API, on the demo stream."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient
from sqlmodel import Session, select

from alerts.notifiers import SlackNotifier
from listener.daemon.runner import build_sources
from listener.pipeline.simulate import step_through
from listener.sources.contract import SourceContext
from listener.sources.replay import ReplaySettings, ReplaySource
from listener.storage.models import Decision, Incident, Label, Mention

pytestmark = pytest.mark.model
CRISIS_START = "2026-10-30T09:40"


def run(engine, config, classifier, slack, *, until: datetime | None = None):
    clock = [None]
    sources = build_sources(config, Path("."), clock=lambda: clock[0])
    first, last = sources["replay"].time_range()
    notifier = SlackNotifier(WebClient(token=slack.token, base_url=slack.base_url,
                                       retry_handlers=[]))
    return step_through(engine, config=config, sources=sources, classifier=classifier,
                        notifier=notifier, start=first, end=until or last + timedelta(hours=1),
                        step=timedelta(minutes=10), clock=clock)


def test_the_crisis_raises_one_alert_with_the_playbook_and_chatter_raises_none(
        sqlite_engine, demo_config, make_classifier, fake_slack):
    classifier = make_classifier(demo_config)
    taken = run(sqlite_engine, demo_config, classifier, fake_slack)

    top = fake_slack.top_level()
    assert len(top) == 1, [m["text"] for m in top]
    alert = top[0]     # as chat.update left it; the checks below are on the message as posted
    posted = next(r["payload"] for r in fake_slack.requests if r["method"] == "chat.postMessage")
    assert posted["channel"] == alert["channel"] == "#crisis"
    assert "product safety" in posted["text"]
    assert "https://wiki.example.com/crisis/product-safety" in posted["text"]
    assert [u["ts"] for u in fake_slack.updates] == [alert["ts"]] * len(fake_slack.updates)
    body = json.dumps(posted["blocks"])
    assert "distinct people reported it in the last 3h" in body
    assert "burned her hand" in body                 # the first report is among the examples
    assert body.count("https://x.com/") + body.count("https://www.reddit.com/") >= 3
    assert "Holding statement" in body and "@pr-oncall" in body
    # updates (escalations, repeats) are replies in the alert's thread, never new alerts
    assert all(m["thread_ts"] == alert["ts"] for m in fake_slack.messages if m.get("thread_ts"))

    first = next(t for t in taken if t.action == "first")
    with Session(sqlite_engine) as s:
        incident = s.get(Incident, first.incident_id)
        assert incident.rule == "safety-reports" and incident.topic == "product_safety"
        # the alert came within a few hours of the first report, before the evening peak
        assert CRISIS_START < incident.opened_at.isoformat() < "2026-10-30T13:00"
        # the negative spike the crisis causes is muted by the safety incident (inhibition)
        inhibited = s.exec(select(Decision).where(Decision.action == "inhibited")).all()
        assert all("inhibited by open incident" in d.reason for d in inhibited)
        labels = s.exec(select(Label)).all()
        assert labels and all(lab.model_version == labels[0].model_version for lab in labels)
        assert s.exec(select(Mention).where(Mention.brand != "Lumi Toys")).all() == []


def test_ordinary_chatter_alone_raises_no_alert(sqlite_engine, demo_config, make_classifier,
                                               fake_slack):
    """A day and a half of background (praise, shipping questions, other complaints, slang
    like 'this flashlight is fire'), up to the first safety report: nothing is sent."""
    src = ReplaySource(SourceContext(ReplaySettings()))
    _first, _ = src.time_range()
    until = datetime.fromisoformat(CRISIS_START + ":00+00:00")
    run(sqlite_engine, demo_config, make_classifier(demo_config), fake_slack, until=until)
    assert fake_slack.messages == []
    with Session(sqlite_engine) as s:
        assert len(s.exec(select(Mention)).all()) > 450
        assert s.exec(select(Incident)).all() == []
