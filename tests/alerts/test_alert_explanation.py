"""Why an incident fired: driving terms against the baseline, authors and sources with their
share, the top three authors' share and whether it would still fire without them; the Slack
message carries it in two compact lines with public text escaped."""

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from alerts.alert_message import why_lines
from alerts.detectors import RareDetector
from alerts.drivers import driving_terms, minus, shares, top_share, words
from alerts.series import CountSeries
from listener.config import load_config
from listener.incidents.evidence import gather
from listener.storage import counts
from listener.storage.models import Mention, MentionTopic
from tests.pipeline.test_notify import view
from tests.support.incidents_fixture import LUMI_TOYS, SAFETY_REPORTS

T = datetime(2026, 10, 30, 12, tzinfo=UTC)


def test_words_drop_stop_words_handles_and_links():
    assert words("The @lumitoys flashlight BURNED my hand! https://x.co/a #recall") == {
        "flashlight", "burned", "hand", "#recall"}


def test_driving_terms_are_over_represented_against_the_baseline():
    window = ["flashlight burned my hand", "it burned her palm", "burned and a blister",
              "love the flashlight"]
    baseline = ["love the flashlight"] * 20 + ["where is my order"] * 20 + ["burned toast"]
    (term,) = driving_terms(window, baseline, exclude=["Lumi Toys"])
    assert (term.term, term.share, round(term.baseline_share, 3)) == ("burned", 0.75, 0.024)
    assert driving_terms([], baseline) == []


def test_shares_and_the_top_three():
    authors = ["a", "a", "a", "b", "c", "d", "e", "a"]
    assert shares(authors, top=2) == {"a": 0.5, "b": 0.125}
    assert top_share(authors) == (["a", "b", "c"], 0.75)


def test_minus_removes_counts_at_their_buckets_and_never_below_zero():
    s = CountSeries(T, timedelta(minutes=5), (0, 2, 1, 3))
    out = minus(s, {T - timedelta(minutes=12): 1, T - timedelta(minutes=1): 5,
                    T - timedelta(hours=3): 1})
    assert out.counts == (0, 1, 1, 0)


def test_the_message_says_what_drives_it_with_public_text_escaped():
    v = view(terms=[("burned", 0.75, 0.02), ("<!channel>", 0.5, 0.0)],
             authors={"mom <b>": 0.5, "dad": 0.25}, top3_share=0.75,
             without_top3={"fires": False, "observed": 1}, duplicates_share=0.25)
    assert why_lines(v) == [
        "Terms: *burned* 75% (before 2%), *&lt;!channel&gt;* 50% (before 0%)",
        "Authors: mom &lt;b&gt; 50%, dad 25% · top 3 authors 75%; without them it would not "
        "fire (1 left) · near-duplicates 25%"]
    assert why_lines(view()) == []


CONFIG = LUMI_TOYS + SAFETY_REPORTS


def add(s, i, author, text, at, topic=True):
    m = Mention(source="twitter" if i % 2 else "reddit", external_id=str(i), author=author,
                author_reach=100 * (i + 1), text=text, created_at=at,
                created_epoch=int(at.timestamp()), collected_at=at, brand="Lumi Toys")
    s.add(m)
    s.flush()
    if topic:
        s.add(MentionTopic(mention_id=m.id, topic="product_safety", score=1.0,
                           created_epoch=m.created_epoch))


def test_evidence_explains_the_incident(sqlite_engine):
    config = load_config(CONFIG, {})
    rule = config.alerts.rules[0]
    group = {"brand": "Lumi Toys", "topic": "product_safety"}
    with Session(sqlite_engine) as s:
        for i in range(20):   # a quiet baseline: other talk about the brand the day before
            add(s, 100 + i, f"fan{i}", "lumitoys flashlight is lovely", T - timedelta(days=1,
                minutes=i), topic=False)
        for i, a in enumerate(["ann", "bob", "cat", "dan", "ann"]):
            add(s, i, a, "lumitoys flashlight burned my kid, blister",
                T - timedelta(minutes=50 - i))
        s.commit()
        detector = RareDetector(rule.window, 3, "critical")
        series = counts.rule_series(s, rule=rule, group=group, now=T, began=counts.first_epoch(s),
                                    step=int(config.alerts.bucket.total_seconds()))
        signal = detector.detect(series, T)
        until = int(T.timestamp())
        window = counts.group_mentions(s, rule=rule, group=group, until=until,
                                       since=until - int(signal.window.total_seconds()))
        ev = gather(s, config=config, rule=rule, group=group, signal=signal, detector=detector,
                    series=series, window=window, now=T).to_json()
    assert [t["term"] for t in ev["terms"]] == ["blister", "burned", "kid"]
    assert ev["terms"][0]["share"] == 1.0 and ev["terms"][0]["baseline_share"] == 0.0
    assert ev["authors_share"] == {"ann": 0.4, "bob": 0.2, "cat": 0.2, "dan": 0.2}
    assert ev["top_authors"] == ["ann", "bob", "cat"] and ev["top3_share"] == 0.8
    assert ev["without_top3"] == {"fires": False, "observed": 1}   # dan alone
    assert ev["sources"] == {"reddit": 0.6, "twitter": 0.4}
    assert ev["reach"] == {"max": 500, "total": 500 + 200 + 300 + 400}   # ann at her widest
    assert 3 <= len(ev["examples"]) <= 5
