"""Slack alerts against the local fake Slack Web API: the exact blocks of an alert (snapshot),
thread replies and chat.update of the first message on escalation and resolution, and the outbox's
429 -> Retry-After -> success and 5xx -> backoff -> success paths on an injected clock."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient
from sqlmodel import Session, select

from alerts.alert_message import AlertView, Example, Playbook, build_message
from alerts.notifiers import SlackNotifier
from listener.config import load_config
from listener.pipeline.detect import detect
from listener.pipeline.notify import notify
from listener.storage.models import Incident, Mention, MentionTopic, OutboxMessage
from tests.fakes.slack import Scripted
from tests.support.incidents_fixture import LUMI_TOYS, safety_reports

SNAPSHOTS = Path(__file__).parent / "snapshots"
T = datetime(2026, 10, 30, 12, tzinfo=UTC)
CONFIG = LUMI_TOYS + safety_reports(group_wait="30s") + """\
slack:
  channel: "#crisis"
"""


def fixture_view(**kw) -> AlertView:
    base = dict(
        incident_id=42, kind="first", level=8, rule="safety-reports",
        title="Lumi Toys · Pumpkin Glow flashlight · product safety",
        what="5 distinct people reported it in the last 2h", observed=5, expected=0.4,
        previous=0, window="2h", opened_at=T, first_seen=T - timedelta(minutes=50),
        sources={"twitter": 0.6, "reddit": 0.4},
        examples=[
            Example("The Pumpkin Glow flashlight got so hot it burned my son's hand",
                    "mia_parent", 1204, "twitter", "https://x.com/mia/status/1", T),
            Example("Ours melted <b>too</b> & smelled like plastic", "dad_of_3", 88, "reddit",
                    "https://reddit.com/r/parenting/comments/abc", T)],
        playbook=Playbook("product-safety", "https://wiki.example.com/crisis/product-safety",
                          "@pr-oncall", "We're aware of reports and are looking into it."),
        incident_url="https://listener.example.com/incidents/42",
        terms=[("burned", 0.6, 0.0), ("hot", 0.4, 0.05)], authors={"mia_parent": 0.2},
        top3_share=0.6, without_top3={"fires": False, "observed": 2}, duplicates_share=0.0)
    base.update(kw)
    return AlertView(**base)


@pytest.mark.parametrize("name, kw", [
    ("alert_first", {}),
    ("alert_first_resolved", {"resolved_at": T + timedelta(hours=3)}),
])
def test_alert_blocks_match_the_snapshot_exactly(name, kw):
    got = build_message(fixture_view(**kw))
    path = SNAPSHOTS / f"{name}.json"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n")
    assert got == json.loads(path.read_text())


def add_reports(engine, start: int, n: int, at: datetime) -> None:
    with Session(engine) as s:
        for i in range(start, start + n):
            when = at - timedelta(minutes=50) + timedelta(minutes=i % 40)
            m = Mention(source="replay", external_id=str(i), author=f"parent{i}",
                        text="lumitoys flashlight burned my kid", created_at=when,
                        created_epoch=int(when.timestamp()), collected_at=when,
                        brand="Lumi Toys", reach=100 * i)
            s.add(m)
            s.flush()
            s.add(MentionTopic(mention_id=m.id, topic="product_safety", score=1.0,
                               created_epoch=m.created_epoch))
        s.commit()


def slack_notifier(fake) -> SlackNotifier:
    return SlackNotifier(WebClient(token=fake.token, base_url=fake.base_url, retry_handlers=[],
                                   timeout=5))


def test_escalation_and_resolution_reply_in_the_thread_and_update_the_first_message(
        sqlite_engine, fake_slack):
    config = load_config(CONFIG, {})
    notifier = slack_notifier(fake_slack)
    add_reports(sqlite_engine, 0, 3, T)
    (taken,) = detect(sqlite_engine, config=config, now=T)
    assert taken.action == "first"
    held = T + timedelta(seconds=30)   # group_wait
    assert notify(sqlite_engine, notifier=notifier, now=held).sent == 1
    (first,) = fake_slack.messages
    with Session(sqlite_engine) as s:
        (row,) = s.exec(select(OutboxMessage)).all()
        assert (row.slack_ts, row.slack_channel) == (first["ts"], "C0CRISIS")
        level0 = s.exec(select(Incident)).one().level

    later = T + timedelta(minutes=10)
    add_reports(sqlite_engine, 3, 40, later)
    (taken,) = detect(sqlite_engine, config=config, now=later)
    assert taken.action == "escalated"
    assert notify(sqlite_engine, notifier=notifier, now=later).sent == 1
    reply = fake_slack.messages[1]
    assert reply["thread_ts"] == first["ts"] and reply["text"].startswith("Escalated: SEV")
    (update,) = fake_slack.updates
    with Session(sqlite_engine) as s:
        level = s.exec(select(Incident)).one().level
    assert level > level0
    assert (update["channel"], update["ts"]) == ("C0CRISIS", first["ts"])   # the id, not #crisis
    assert update["text"].startswith(f"SEV {level} ")
    assert update["blocks"][0]["text"]["text"].endswith(f"SEV {level} · " + taken_title(
        sqlite_engine))
    assert "43 distinct people" in update["text"]

    quiet = later + timedelta(hours=5)
    (taken,) = detect(sqlite_engine, config=config, now=quiet)
    assert taken.action == "resolved"
    assert notify(sqlite_engine, notifier=notifier, now=quiet).sent == 1
    resolved = fake_slack.messages[2]
    assert resolved["thread_ts"] == first["ts"] and resolved["text"].startswith("Resolved: ")
    assert [m.get("thread_ts") for m in fake_slack.messages] == [None, first["ts"], first["ts"]]
    update = fake_slack.updates[-1]
    assert len(fake_slack.updates) == 2 and update["ts"] == first["ts"]
    assert update["text"].startswith(f"Resolved: SEV {level} ")
    assert "resolved Fri 17:10 UTC" in update["blocks"][-1]["elements"][0]["text"]
    assert fake_slack.messages[0]["text"] == update["text"]        # the first message now says so
    assert [r["method"] for r in fake_slack.requests] == [
        "chat.postMessage", *UPLOAD, "chat.postMessage", "chat.update", "chat.postMessage",
        "chat.update"]


UPLOAD = ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]


def test_the_chart_goes_into_the_alerts_thread(sqlite_engine, fake_slack):
    config = load_config(CONFIG, {})
    add_reports(sqlite_engine, 0, 3, T)
    detect(sqlite_engine, config=config, now=T)
    with Session(sqlite_engine) as s:
        chart = s.exec(select(Incident)).one().evidence["chart"]
    assert (chart["step_s"], chart["window_buckets"], len(chart["recent"])) == (3600, 2, 72)
    assert sum(chart["recent"]) == 3 and chart["recent"][-1] == 3   # the reports, this hour
    notify(sqlite_engine, notifier=slack_notifier(fake_slack),
                    now=T + timedelta(seconds=30))
    (first,) = fake_slack.messages
    (png,) = fake_slack.shared_files()
    assert (png["channel_id"], png["thread_ts"]) == ("C0CRISIS", first["ts"])
    assert png["filename"] == "chart.png" and png["title"] == "Lumi Toys · product safety"
    assert png["data"].startswith(b"\x89PNG\r\n\x1a\n")
    assert "chart" not in first      # the outbox's chart spec is not posted


@pytest.mark.parametrize("error", ["missing_scope", "not_allowed_token_type"])
def test_without_the_upload_scope_the_chart_is_skipped_said_once_and_the_message_stands(
        sqlite_engine, fake_slack, caplog, error):
    config = load_config(CONFIG, {})
    fake_slack.refuse["files.getUploadURLExternal"] = error
    notifier = slack_notifier(fake_slack)
    add_reports(sqlite_engine, 0, 3, T)
    detect(sqlite_engine, config=config, now=T)
    with Session(sqlite_engine) as s:   # a second incident's first message
        inc = s.exec(select(Incident)).one()
        first = s.exec(select(OutboxMessage)).one()
        s.add(OutboxMessage(incident_id=inc.id, dedup_key="again", kind="first",
                            channel="#crisis", message=first.message, chart=first.chart,
                            next_attempt_at=T, created_at=T))
        s.commit()
    r = notify(sqlite_engine, notifier=notifier, now=T + timedelta(seconds=30))
    assert (r.sent, r.failed) == (2, 0) and len(fake_slack.messages) == 2
    assert [r["method"] for r in fake_slack.requests] == [
        "chat.postMessage", "files.getUploadURLExternal", "chat.postMessage"]
    warnings = [r.getMessage() for r in caplog.records if "charts are off" in r.getMessage()]
    assert len(warnings) == 1 and error in warnings[0] and "files:write" in warnings[0]


def test_chart_png_is_small_and_drawn_from_plain_numbers():
    from alerts.chart import render_chart
    png = render_chart([0, 1, 0, 2, 0, 0, 4, 9], step=timedelta(hours=1), end=T,
                       window_buckets=2, expected_per_bucket=0.5, title="t")
    assert png.startswith(b"\x89PNG") and len(png) < 60_000


def taken_title(engine) -> str:
    with Session(engine) as s:
        return s.exec(select(Incident)).one().title


def _outbox(engine) -> None:
    with Session(engine) as s:
        inc = Incident(key="k", rule="r", title="t", level=7, peak_level=7, opened_at=T,
                       last_signal_at=T, observed=3, expected=0, evidence={})
        s.add(inc)
        s.flush()
        s.add(OutboxMessage(incident_id=inc.id, dedup_key="k0", kind="first", channel="#crisis",
                            message=build_message(fixture_view()), next_attempt_at=T,
                            created_at=T))
        s.commit()


@pytest.mark.parametrize("scripted, waits", [
    # 429: nothing before Retry-After (30 s), then success
    ([Scripted(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "30"})], [30]),
    # 5xx twice: backoff 5 s then 10 s, then success
    ([Scripted(503, {"ok": False, "error": "service_unavailable"}),
      Scripted(500, {"ok": False, "error": "internal_error"})], [5, 10]),
])
def test_retryable_failures_are_retried_at_the_right_times_on_an_injected_clock(
        sqlite_engine, fake_slack, scripted, waits):
    _outbox(sqlite_engine)
    fake_slack.script.extend(scripted)
    clock = [T]
    fake_slack.clock = lambda: clock[0]
    notifier = slack_notifier(fake_slack)
    sent = 0
    while clock[0] <= T + timedelta(seconds=60) and not sent:
        sent = notify(sqlite_engine, notifier=notifier, now=clock[0]).sent
        clock[0] += timedelta(seconds=1)
    expected, at = [T], T
    for w in waits:
        at += timedelta(seconds=w)
        expected.append(at)
    assert [(r["method"], r["at"]) for r in fake_slack.requests] == [
        ("chat.postMessage", t) for t in expected]
    assert len(fake_slack.messages) == 1
    with Session(sqlite_engine) as s:
        row = s.exec(select(OutboxMessage)).one()
        assert (row.status, row.attempts, row.sent_at) == ("sent", len(waits) + 1, expected[-1])


ROUTED = CONFIG + """\
  critical_channel: "#crisis"
  critical_mention: "<!subteam^S123>"
  routes:
    - {match: {brand: Other Brand}, channel: "#other"}
    - {match: {brand: Lumi Toys, topic: product_safety, min_level: 9}, channel: "#lumi-exec"}
    - {match: {topic: product_safety}, channel: "#lumi-safety"}
"""


@pytest.mark.parametrize("level, channel", [(5, "#lumi-safety"), (9, "#lumi-exec")])
def test_routes_pick_the_channel_by_brand_topic_and_level(level, channel):
    from listener.incidents.routing import channel_for
    config = load_config(ROUTED, {})
    incident = Incident(key="k", rule="safety-reports", brand="Lumi Toys", topic="product_safety",
                        title="t", level=level, peak_level=level, observed=3, expected=0)
    assert channel_for(config, config.alerts.rules[0], level, incident) == channel


def test_a_bad_critical_mention_is_refused_by_the_config():
    from listener.errors import ConfigError
    with pytest.raises(ConfigError, match="critical_mention"):
        load_config(CONFIG + '  critical_mention: "<!channel>"\n', {})


def test_hostile_mention_text_posts_no_live_markup_and_only_the_configured_ping(
        sqlite_engine, fake_slack):
    config = load_config(ROUTED, {})
    hostile = "lumitoys burned <!channel> <@U123> <https://evil|click> &amp; it"
    add_reports(sqlite_engine, 0, 3, T)
    with Session(sqlite_engine) as s:
        for m in s.exec(select(Mention)):
            m.text = hostile
            m.author = f"<@U123> {m.id}"
            s.add(m)
        s.commit()
    detect(sqlite_engine, config=config, now=T)
    notify(sqlite_engine, notifier=slack_notifier(fake_slack),
                    now=T + timedelta(seconds=30))
    (posted,) = [r["payload"] for r in fake_slack.requests if r["method"] == "chat.postMessage"]
    raw = json.dumps(posted, ensure_ascii=False)
    for live in ("<!channel>", "<@U123>", "<https://evil|click>", "<https://evil", "&amp; it"):
        assert live not in raw
    assert "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil|click&gt; &amp;amp; it" in raw
    assert posted["channel"] == "#lumi-safety"
    assert posted["text"].startswith("<!subteam^S123> SEV ")       # the configured ping only
    assert raw.count("<!") == 2                                     # text + its section
