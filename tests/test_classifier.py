"""The built-in classifier: bad input never crashes, the fast path agrees with torch, topics
say why, and the evaluation commands print the figures the issues ask for."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from classifiers.base import TopicSpec
from classifiers.builtin import BuiltinClassifier, clean
from classifiers.topics import TopicMatcher
from listener.cli import main
from tests.conftest import CONFIG, needs_shared

BAD_INPUT = ["", "🎃🎃🔥", "https://x.com/lumitoys/status/1", "a" * 10_000,
             "lone surrogate \ud800 here", "懐中電灯で娘が火傷しました", "Кто-нибудь ещё?"]


def test_bad_input_gets_a_label_and_never_crashes(classifier_parts):
    encoder, head = classifier_parts
    labels = BuiltinClassifier([], encoder=encoder, head=head).classify(BAD_INPUT)
    assert len(labels) == len(BAD_INPUT)
    for lab in labels:
        assert lab.sentiment in ("negative", "neutral", "positive")
        assert 0 <= lab.sentiment_score <= 1 and 0 <= lab.complaint <= 1


def test_clean_replaces_surrogates_and_caps_length():
    assert clean("x\ud800y") == "x?y"
    assert len(clean("a" * 10_000)) == 2000


def test_obvious_sentiment_and_complaints(classifier_parts):
    encoder, head = classifier_parts
    c = BuiltinClassifier([], encoder=encoder, head=head)
    bad, good = c.classify(["@lumitoys worst customer service ever, my order never arrived and "
                            "nobody answers", "I love my new pumpkin glow lantern, thank you!"])
    assert bad.sentiment == "negative" and bad.complaint > 0.5
    assert good.sentiment == "positive" and good.complaint < 0.5


def test_a_topic_is_recovered_by_similarity_without_any_keyword(classifier_parts):
    encoder, _ = classifier_parts
    spec = TopicSpec("product_safety", "a product hurt someone: burn, fire, injury",
                     keywords=("burn*",), examples=("the flashlight burned my daughter's hand",),
                     similarity=0.5)
    matcher = TopicMatcher([spec], encoder.encode)
    texts = ["the lamp got so hot it scorched my son's fingers", "burnt toast again lol",
             "where is my order"]
    hits = matcher.match(texts, encoder.encode(texts))
    assert hits[0]["product_safety"].evidence.startswith("similar to example")
    assert hits[1]["product_safety"].evidence == 'keyword "burn*"'
    assert hits[2] == {}


@pytest.mark.slow
def test_the_int8_fast_path_agrees_with_torch(tmp_path, monkeypatch):
    monkeypatch.setenv("LISTENER_CACHE_DIR", str(tmp_path))
    from classifiers.encoder import Encoder
    texts = ["the flashlight burned my daughter's hand", "love it!", "where is my order?"]
    enc = Encoder(threads=2)
    fp32 = enc.encode(texts)
    path = enc.use_onnx(tag="test")
    assert path.is_file() and enc.backend == "onnx-int8"
    int8 = enc.encode(texts)
    assert float(np.min((fp32 * int8).sum(1))) > 0.97


def _tiny_sentiment(tmp_path):
    texts = ["I hate this, worst ever", "it is a flashlight", "love it so much, thank you"] * 3
    (tmp_path / "val_text.txt").write_text("\n".join(texts) + "\n")
    (tmp_path / "val_labels.txt").write_text("\n".join(["0", "1", "2"] * 3) + "\n")


@pytest.mark.slow
def test_eval_sentiment_prints_the_figures_as_json(tmp_path):
    _tiny_sentiment(tmp_path)
    res = CliRunner().invoke(main, ["--config", str(CONFIG), "eval", "sentiment", "--data",
                                    str(tmp_path), "--split", "val", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert {"macro_recall", "accuracy", "macro_f1", "confusion"} <= report.keys()
    assert sum(map(sum, report["confusion"])) == 9 and report["macro_recall"] > 0.6


@pytest.mark.slow
def test_eval_topics_prints_per_topic_scores(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("text,reason\n"
                   "\"my flashlight burned my hand, lumitoys\",product_safety\n"
                   "\"lumitoys where is my order, no shipping update\",shipping\n"
                   "\"lumitoys is great\",\n")
    res = CliRunner().invoke(main, ["--config", str(CONFIG), "eval", "topics", "--data", str(csv),
                                    "--label-column", "reason", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["per_topic"]["product_safety"]["recall"] == 1.0
    assert report["per_topic"]["shipping"]["f1"] == 1.0
    assert report["macro_f1"] == 1.0


@pytest.mark.slow
def test_bench_classify_reports_rate_and_memory():
    res = CliRunner().invoke(main, ["--config", str(CONFIG), "bench", "classify", "--n", "64",
                                    "--runs", "2", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["mentions_per_s"] > 0 and report["peak_rss_mb"] > 100
    assert len(report["runs"]) == 2


@pytest.mark.slow
def test_complaint_f1_in_five_fold_cross_validation():
    data = needs_shared("complaints") / "complaints-data.csv"
    res = CliRunner().invoke(main, ["train", "complaints", "--data", str(data), "--no-save",
                                    "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout.strip().splitlines()[-1])
    assert report["folds"] == 5 and report["n"] == 3449
    assert report["complaint_f1"] >= 0.80
