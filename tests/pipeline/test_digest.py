"""The daily digest on a fixture database: figures against the same local hours a week before,
the sentiment split, escaped examples with links, incidents open at the end, first-response
attainment; the daemon's job posts it once a day at the hour on an injected clock; the CLI
prints it; a huge digest is cut to Slack's limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from slack_sdk import WebClient
from sqlmodel import Session

from alerts.digest_message import DigestExample, DigestView, Volume, build_digest
from alerts.notifiers import Outgoing, SlackNotifier
from listener.cli.main import main
from listener.config import load_config
from listener.daemon.runner import Daemon
from listener.pipeline.digest import digest_message, period_before, queue_digest
from listener.storage.models import Incident
from tests.fakes.clock import HandClock
from tests.fakes.slack import over_limits
from tests.support.mentionrows import BRAND_AND_TOPICS, add_mention

CONFIG = BRAND_AND_TOPICS + """\
queue: {first_response: 60m, base_url: "https://queue.example.com"}
digest: {at: "09:00", timezone: Europe/Berlin, channel: "#digest", examples: 2}
"""
# Fri 30 Oct 2026 09:00 in Berlin (CET) is 08:00 UTC; a week before (CEST) 09:00 is 07:00 UTC
END = datetime(2026, 10, 30, 8, tzinfo=UTC)
START = END - timedelta(days=1)
LAST_WEEK_START = datetime(2026, 10, 22, 7, tzinfo=UTC)


@pytest.fixture()
def config():
    return load_config(CONFIG, {})


def seed(engine) -> None:
    with Session(engine) as s:
        day = START + timedelta(hours=5)
        add_mention(s, at=day, text="is it safe <!channel>?", author="mom <b>", reach=900,
                    sentiment="neutral", topics=("product_safety",), status="responded",
                    first_response_at=day + timedelta(minutes=30))
        add_mention(s, at=day, text="it burned my kid", author="dad", reach=5000,
                    sentiment="negative", topics=("product_safety",), complaint=0.9,
                    status="responded", first_response_at=day + timedelta(hours=2))
        add_mention(s, at=END - timedelta(seconds=1), text="love it", sentiment="positive")
        add_mention(s, at=day, source="reddit", text="never again", reach=20,
                    sentiment="negative")
        add_mention(s, at=END, text="tomorrow's", sentiment="negative")     # after the end
        add_mention(s, at=START - timedelta(seconds=1), text="before", sentiment="negative")
        for i, source in enumerate(["twitter", "twitter", "reddit", "reddit"]):
            add_mention(s, at=LAST_WEEK_START + timedelta(hours=i), source=source,
                        text="late parcel", topics=("shipping",) if i == 0 else ())
        add_mention(s, at=LAST_WEEK_START - timedelta(minutes=1), text="not in the week before")
        for title, opened, resolved in (("open one", START, None),
                                        ("resolved before", START, END - timedelta(hours=1)),
                                        ("resolved after", START, END + timedelta(hours=1))):
            s.add(Incident(key=title, rule="r", title=title, level=7, peak_level=7,
                           opened_at=opened, last_signal_at=opened, observed=3, expected=0,
                           resolved_at=resolved, status="resolved" if resolved else "open",
                           acknowledged_by="ana" if title == "open one" else None))
        s.commit()


def test_the_figures_compare_with_the_same_local_hours_a_week_before(sqlite_engine, config):
    seed(sqlite_engine)
    assert period_before(config, END.date()) == (START, END)
    text = digest_message(sqlite_engine, config=config, start=START, end=END)["text"]
    sections = dict(part.split(":\n", 1) for part in text.split("\n\n")[1:])
    assert text.startswith("📊 Daily digest · Lumi Toys · Thu 29 Oct 09:00 to Fri 30 Oct "
                           "09:00 CET")
    assert sections["Volume"] == "*4 mentions* (±0% vs 4 the same day last week)"
    assert sections["By source"] == ("twitter: 3 (▲+50% vs 2 a week before)\n"
                                     "reddit: 1 (▼-50% vs 2 a week before)")
    assert sections["By topic"] == ("product_safety: 2 (none a week before)\n"
                                    "shipping: 0 (▼-100% vs 1 a week before)")
    assert sections["Sentiment"] == "negative 50% (2) · neutral 25% (1) · positive 25% (1)"
    assert sections["Top questions"].startswith(
        "> is it safe &lt;!channel&gt;?\n— mom &lt;b&gt; (900 followers) · twitter · "
        "<https://example.com/twitter/")
    assert "<!channel>" not in text
    complaints = sections["Top complaints"].split("\n")
    assert complaints[0] == "> it burned my kid" and complaints[2] == "> never again"
    assert sections["Open incidents (2)"].split("\n") == [
        "🔴 SEV 7 open one · since Thu 08:00 UTC · acknowledged by ana · "
        "<https://queue.example.com/incidents/1|open>",
        "🔴 SEV 7 resolved after · since Thu 08:00 UTC · "
        "<https://queue.example.com/incidents/3|open>"]
    assert sections["First response"] == (
        "50% of 2 answered within 1h (median 1h 15m) · 1 of the period's mentions still open "
        "past the target")


def test_blocks_carry_the_same_sections(sqlite_engine, config):
    seed(sqlite_engine)
    msg = digest_message(sqlite_engine, config=config, start=START, end=END)
    assert msg["blocks"][0]["type"] == "header"
    assert [b["text"]["text"].split("\n")[0] for b in msg["blocks"][1:]] == [
        "*Volume*", "*By source*", "*By topic*", "*Sentiment*", "*Top questions*",
        "*Top complaints*", "*Open incidents (2)*", "*First response*"]


def test_the_daemon_posts_it_once_a_day_at_the_hour_on_its_clock(sqlite_engine, fake_slack,
                                                                   config):
    seed(sqlite_engine)
    clock = HandClock(datetime(2026, 10, 29, 0, tzinfo=UTC))
    fake_slack.clock = clock.now
    daemon = Daemon(config=config, config_dir=None, engine=sqlite_engine, clock=clock,
                    sources={}, classifier=None,
                    notifier=SlackNotifier(WebClient(token=fake_slack.token,
                                                     base_url=fake_slack.base_url,
                                                     retry_handlers=[], timeout=5)))
    while clock.at < datetime(2026, 10, 31, 12, tzinfo=UTC):
        daemon.job_digest()
        daemon.job_notify()
        clock.at += timedelta(minutes=5)
    posted = [(r["payload"]["channel"], r["at"]) for r in fake_slack.requests]
    assert posted == [("#digest", datetime(2026, 10, d, 8, tzinfo=UTC)) for d in (29, 30, 31)]
    friday = fake_slack.messages[1]["text"]
    assert "Thu 29 Oct 09:00 to Fri 30 Oct 09:00 CET" in friday and "*4 mentions*" in friday
    # after a restart, the day's digest is not posted again
    assert not queue_digest(sqlite_engine, config=config, now=datetime(2026, 10, 31, 13,
                                                                       tzinfo=UTC))


def test_listener_digest_now_prints_the_last_24_hours(sqlite_engine, config, tmp_path):
    seed(sqlite_engine)
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG)
    url = f"sqlite:///{tmp_path / 'test.db'}"
    res = CliRunner().invoke(main, ["--config", str(path), "--database-url", url, "digest",
                                    "--now"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    # a replay config: "now" is just after the newest stored mention (Fri 08:00 UTC)
    assert lines[0] == "📊 Daily digest · Lumi Toys · Thu 29 Oct 09:00 to Fri 30 Oct 09:00 CET"
    assert "is it safe <!channel>?" in res.output       # plain text for a terminal
    assert "— mom <b> (900 followers) · twitter · original (https://example.com/" in res.output
    day = CliRunner().invoke(main, ["--config", str(path), "--database-url", url, "digest",
                                    "--day", "2026-10-22"])
    assert day.exit_code == 0 and "5 mentions (none the same day last week)" in day.output
    bad = CliRunner().invoke(main, ["--config", str(path), "--database-url", url, "digest",
                                    "--day", "22/10/2026"])
    assert bad.exit_code == 2 and "'22/10/2026' is not a date like 2026-10-30" in bad.output


def test_a_huge_digest_is_cut_to_slacks_limits(fake_slack):
    at = datetime(2026, 10, 30, 9, tzinfo=UTC)
    example = DigestExample("a very long complaint & <more> " * 200, "x", 1, "twitter",
                            "https://x.com/1")
    view = DigestView(["Lumi Toys"], at - timedelta(days=1), at, Volume("total", 10**6, 10**5),
                      by_source=[Volume(f"source-{i}", i, i + 1) for i in range(300)],
                      by_topic=[Volume(f"topic-{i}", i, 0) for i in range(300)],
                      questions=[example] * 10, complaints=[example] * 10)
    message = build_digest(view)
    assert over_limits(message) is None          # each section already within 3,000
    notifier = SlackNotifier(WebClient(token=fake_slack.token, base_url=fake_slack.base_url,
                                       retry_handlers=[], timeout=5))
    notifier.send(Outgoing("#digest", message))
    sent = fake_slack.messages[0]
    assert all(len(b["text"]["text"]) <= 3000 for b in sent["blocks"] if b["type"] == "section")
    by_source = sent["blocks"][2]["text"]["text"]
    assert by_source.startswith("*By source*\nsource-0: 0 (▼-100% vs 1") and by_source.endswith("…")


def test_listener_digest_post_sends_it_through_the_outbox(sqlite_engine, fake_slack, tmp_path):
    seed(sqlite_engine)
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG + f"slack: {{token: '${{SLACK_BOT_TOKEN}}', "
                             f"base_url: '{fake_slack.base_url}'}}\n")
    res = CliRunner().invoke(main, ["--config", str(path), "--database-url",
                                    f"sqlite:///{tmp_path / 'test.db'}", "digest", "--post"],
                             env={"SLACK_BOT_TOKEN": fake_slack.token})
    assert res.exit_code == 0, res.output
    assert "posted: 1 sent, 0 retrying, 0 failed" in res.output
    (sent,) = fake_slack.messages
    assert sent["channel"] == "#digest" and sent["blocks"][0]["type"] == "header"
    assert "*5 mentions*" in sent["text"]      # up to just after the newest mention


def test_the_digest_and_the_reminders_query_the_same_on_sqlite_and_postgresql(engine):
    from listener.pipeline.reminders import queue_reminders
    seed(engine)
    text = digest_message(engine, config=load_config(CONFIG, {}), start=START, end=END)["text"]
    assert "*4 mentions* (±0% vs 4 the same day last week)" in text
    assert "twitter: 3 (▲+50% vs 2 a week before)" in text
    assert "50% of 2 answered within 1h (median 1h 15m)" in text
    reminding = load_config(CONFIG.replace(
        "queue: {", 'queue: {sla_reminders: {channel: "#support", min_reach: 1000}, '), {})
    # the open negative mention from 5,000 followers was answered; "never again" has 20
    assert queue_reminders(engine, config=reminding, now=END) == 0
    with Session(engine) as s:
        add_mention(s, at=END - timedelta(hours=2), text="any news?", reach=1500)
        s.commit()
    assert queue_reminders(engine, config=reminding, now=END) == 1
    assert queue_reminders(engine, config=reminding, now=END + timedelta(hours=1)) == 0
