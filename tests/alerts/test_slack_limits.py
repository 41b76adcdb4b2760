"""Slack's limits: every message is cut to 50 blocks and 3,000-character sections before it is
sent (the fake Slack refuses what real Slack refuses), and posts to one channel are paced to
about one a second on an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_sdk import WebClient

from alerts.alert_message import AlertView, Example, Playbook, build_message
from alerts.limits import MAX_BLOCKS, cut, fit
from alerts.notifiers import Outgoing, SlackNotifier
from alerts.pacing import Pacer
from tests.fakes.slack import over_limits

T = datetime(2026, 10, 30, 12, tzinfo=UTC)


class FakeTime:
    """monotonic() and sleep() of an injected clock: sleeping moves it on."""

    def __init__(self) -> None:
        self.t = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.t += seconds


def huge_alert() -> dict:
    long_text = "it burned my hand & <b>smoked</b> " * 400
    return build_message(AlertView(
        incident_id=1, kind="first", level=9, rule="safety", title="Lumi " * 80,
        what="7 distinct authors in 2h", observed=7, expected=0, previous=0, window="2h",
        opened_at=T, examples=[Example(long_text, "a" * 500, 10, "twitter",
                                       "https://x.com/1", T)] * 5,
        playbook=Playbook("p", "https://wiki.example.com/p", "@pr " * 300, long_text)))


def huge_digest() -> dict:
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": "Digest " * 40}}]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": f"line {i} <https://e.x/"
                                            f"{i}|link &amp; more> " * 200}} for i in range(80)]
    return {"text": "digest " * 10000, "blocks": blocks}


def test_a_huge_alert_and_a_huge_digest_are_cut_to_what_slack_takes(fake_slack):
    assert over_limits(huge_digest())                 # refused as it is
    sections = [b["text"]["text"] for b in huge_alert()["blocks"] if b["type"] == "section"]
    assert max(len(s) for s in sections) == 3000      # an alert is built within limits,
    assert all(s.endswith("…") for s in sections if len(s) == 3000)   # cut with care
    notifier = SlackNotifier(WebClient(token=fake_slack.token, base_url=fake_slack.base_url,
                                       retry_handlers=[], timeout=5))
    for message in (huge_alert(), huge_digest()):
        notifier.send(Outgoing("#social-alerts", message))
    alert, digest = fake_slack.messages
    assert len(digest["blocks"]) == MAX_BLOCKS
    assert digest["blocks"][-1]["elements"][0]["text"] == (
        "… 32 more block(s) left out: Slack shows at most 50")
    for sent in (alert, digest):
        assert over_limits(sent) is None
        for b in sent["blocks"]:
            if b["type"] == "section":
                assert len(b["text"]["text"]) <= 3000
        assert len(sent["text"]) <= 40000
    assert len(alert["blocks"][0]["text"]["text"]) <= 150


def test_a_cut_ends_with_an_ellipsis_and_never_splits_a_link_or_an_escape():
    text = "x" * 2990 + " <https://example.com/a|a link>"
    got = cut(text, 3000)
    assert got == "x" * 2990 + "…"
    assert cut("a &amp; b", 6) == "a…"
    assert cut("short", 3000) == "short"
    lines = "\n".join(f"line {i:04d}" for i in range(400))
    assert cut(lines, 3000).endswith("\nline 0298…")    # at a line end when one is near


def test_fit_leaves_a_message_within_limits_untouched():
    msg = {"text": "t", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
           "update": {"x": 1}}
    assert fit(msg) == msg


def test_posts_to_one_channel_are_paced_to_one_a_second(fake_slack):
    clock = FakeTime()
    fake_slack.clock = clock.monotonic
    notifier = SlackNotifier(WebClient(token=fake_slack.token, base_url=fake_slack.base_url,
                                       retry_handlers=[], timeout=5),
                             Pacer(1.0, monotonic=clock.monotonic, sleep=clock.sleep))
    msg = {"text": "hello", "blocks": []}
    for channel in ("#a", "#a", "#b", "#a"):
        notifier.send(Outgoing(channel, msg))
    at = [(r["payload"]["channel"], r["at"]) for r in fake_slack.requests]
    assert at == [("#a", 0.0), ("#a", 1.0), ("#b", 1.0), ("#a", 2.0)]
    assert clock.slept == [1.0, 1.0]       # #b did not wait for #a


def test_a_pacer_does_not_wait_once_the_interval_has_passed():
    clock = FakeTime()
    pacer = Pacer(1.0, monotonic=clock.monotonic, sleep=clock.sleep)
    assert pacer.wait("#a") == 0.0
    clock.t = 0.4
    assert pacer.wait("#a") == 0.6
    clock.t = 5.0
    assert pacer.wait("#a") == 0.0 and clock.slept == [0.6]
