"""The lifecycle, table-driven: (state, new signal, now, silence, inhibitor) -> decision and reason.
Silences: matchers and expiry, pure records and `now`."""

from datetime import UTC, datetime, timedelta

import pytest

from alerts.detectors import Signal
from alerts.errors import MatcherError
from alerts.lifecycle import IncidentState, Mute, Policy, decide
from alerts.matchers import Silence, parse_matcher, silenced_by

T = datetime(2026, 10, 30, 12, tzinfo=UTC)
POLICY = Policy(repeat_interval=timedelta(hours=4), resolve_after=timedelta(hours=2),
                group_wait=timedelta(seconds=30))
SILENCE = Mute("silenced-3", "silence #3 (topic=product_safety) by ana until 2026-10-30 14:00 "
                             "UTC: recall announced")
INHIBITOR = Mute("inhibited-by-12", "inhibited by open incident #12 (safety-reports)")


def state(level=7, signal_ago=0, notified_ago: float | None = 0):
    notified = None if notified_ago is None else T - timedelta(minutes=notified_ago)
    return IncidentState(level, level, T - timedelta(minutes=signal_ago), notified)


def sig(level):
    return Signal("rare", 4, 0, level, timedelta(hours=2), T, reason="4 distinct authors in 2h")


CASES = [
    # (name, state, signal level, silence, inhibitor) -> action, notify, reason
    ("nothing open, nothing new", None, None, None, None, None, None, None),
    ("first", None, 7, None, None, "first", True,
     "opened at severity 7: 4 distinct authors in 2h"),
    ("escalation", state(7, notified_ago=30), 8, None, None, "escalated", True,
     "severity rose from 7 to 8: 4 distinct authors in 2h"),
    ("lower level is no news", state(8, notified_ago=30), 7, None, None, "skip", False,
     "already notified at severity 8; repeat after 4h00m"),
    ("repeat after repeat_interval", state(7, notified_ago=240), 7, None, None, "repeat", True,
     "still firing 4h00m after the last notification"),
    ("not yet repeat", state(7, notified_ago=239), 7, None, None, "skip", False,
     "already notified at severity 7; repeat after 4h00m"),
    ("quiet, not for long enough", state(7, signal_ago=30), None, None, None, "skip", False,
     "no signal for 30m; resolves after 2h00m of quiet"),
    ("resolve", state(7, signal_ago=125), None, None, None, "resolved", True,
     "quiet for 2h05m (resolve_after 2h00m)"),
    ("resolve of a never-notified incident sends nothing", state(7, 125, None), None, None, None,
     "resolved", False, "quiet for 2h05m (resolve_after 2h00m); never notified, nothing to send"),
    ("first, silenced", None, 7, SILENCE, None, "silenced", False,
     "first not sent: " + SILENCE.reason),
    ("escalation, silenced", state(7, notified_ago=30), 9, SILENCE, None, "silenced", False,
     "escalated not sent: " + SILENCE.reason),
    ("resolve, silenced", state(7, signal_ago=125), None, SILENCE, None, "silenced", False,
     "resolved not sent: " + SILENCE.reason),
    ("a silence does not change a skip", state(7, notified_ago=30), 7, SILENCE, None, "skip",
     False, "already notified at severity 7; repeat after 4h00m"),
    ("silence over, never notified: first", state(7, notified_ago=None), 7, None, None, "first",
     True, "firing at severity 7, not notified yet: 4 distinct authors in 2h"),
    ("inhibited", None, 7, None, INHIBITOR, "inhibited", False, INHIBITOR.reason),
    ("inhibition only stops a new incident", state(7, notified_ago=30), 8, None, INHIBITOR,
     "escalated", True, "severity rose from 7 to 8: 4 distinct authors in 2h"),
    ("held for group_wait", state(7, notified_ago=-0.25), 7, None, None, "skip", False,
     "first message held until 12:00:15 (group_wait 30s)"),
    ("burst within group_wait is one message", state(7, notified_ago=-0.25), 9, None, None,
     "grouped", True, "severity rose from 7 to 9 within group_wait; the held message will say 9"),
]


@pytest.mark.parametrize("name, st, level, silence, inhibitor, action, notify, reason", CASES,
                         ids=[c[0] for c in CASES])
def test_lifecycle(name, st, level, silence, inhibitor, action, notify, reason):
    d = decide(POLICY, st, sig(level) if level else None, T, silence=silence, inhibitor=inhibitor)
    if action is None:
        assert d is None
        return
    assert (d.action, d.notify, d.reason) == (action, notify, reason)


def test_the_first_message_is_held_for_group_wait():
    assert decide(POLICY, None, sig(7), T).hold == timedelta(seconds=30)
    assert decide(POLICY, state(7, notified_ago=240), sig(7), T).hold == timedelta(0)


def test_a_silenced_decision_still_does_its_effect_and_names_the_silence():
    d = decide(POLICY, None, sig(7), T, silence=SILENCE)
    assert (d.does, d.code) == ("first", "silenced-3-first")
    d = decide(POLICY, state(7, signal_ago=125), None, T, silence=SILENCE)
    assert (d.does, d.code) == ("resolved", "silenced-3-resolved")


def silence(*matchers, start=-60, end=60, id=1):
    return Silence(id, tuple(parse_matcher(m) for m in matchers), T + timedelta(minutes=start),
                   T + timedelta(minutes=end), "ana", "recall announced")


LABELS = {"rule": "safety-reports", "brand": "Lumi Toys", "product": "", "topic": "product_safety"}


@pytest.mark.parametrize("matchers, mutes", [
    (["topic=product_safety"], True),
    (["topic=product_safety", "brand=Lumi Toys"], True),
    (["topic=product_safety", "brand=Other"], False),
    (["topic!=product_safety"], False),
    (["brand=~Lumi.*"], True),
    (["brand=~Lumi"], False),                      # a regex matches the whole value
    (["brand!~Lumi.*", "rule=safety-reports"], False),
    (["product="], True),                          # a missing label is the empty string
    (["rule=~safety-.*|negative-spike"], True),
])
def test_matchers(matchers, mutes):
    assert silence(*matchers).mutes(LABELS, T) is mutes


@pytest.mark.parametrize("start, end, state", [(-60, 60, "active"), (10, 60, "pending"),
                                               (-60, 0, "expired"), (-60, -1, "expired")])
def test_a_silence_mutes_from_its_start_until_its_expiry(start, end, state):
    s = silence("topic=product_safety", start=start, end=end)
    assert s.state(T) == state
    assert s.mutes(LABELS, T) is (state == "active")


def test_the_longest_active_silence_is_the_one_named():
    short = silence("topic=product_safety", end=30, id=1)
    long = silence("brand=Lumi Toys", end=90, id=2)
    other = silence("brand=Other", end=300, id=3)
    assert silenced_by([short, long, other], LABELS, T) is long
    assert silenced_by([other], LABELS, T) is None
    assert long.describe() == ("silence #2 (brand=Lumi Toys) by ana until 2026-10-30 13:30 UTC: "
                               "recall announced")


@pytest.mark.parametrize("text, message", [
    ("topic", "'topic' is not a matcher; write e.g. topic=product_safety or brand=~'Lumi.*'"),
    ("colour=red", "'colour=red': unknown label 'colour'; use one of brand, product, topic, rule"),
    ("brand=~(", "'brand=~(': '(' is not a regular expression (missing ), unterminated "
                 "subpattern at position 0)"),
])
def test_bad_matchers_say_what_to_write(text, message):
    with pytest.raises(MatcherError) as exc:
        parse_matcher(text)
    assert str(exc.value) == message
