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
from listener.cli.main import main
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


@pytest.mark.model
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


@pytest.mark.model
def test_a_student_encoder_keeps_the_first_layers_and_refuses_more_than_there_are():
    from classifiers.encoder import Encoder
    from classifiers.errors import ModelError
    full, student = Encoder(), Encoder(layers=4)
    assert (full.layers, student.layers) == (6, 4) and student.name.endswith("[:4]")
    texts = ["the flashlight burned my daughter's hand", "love it!"]
    assert not np.allclose(full.encode(texts), student.encode(texts))
    with pytest.raises(ModelError, match="has 6 layers; cannot keep 7"):
        Encoder(layers=7)


def _tiny_sentiment(tmp_path):
    texts = ["I hate this, worst ever", "it is a flashlight", "love it so much, thank you"] * 3
    (tmp_path / "val_text.txt").write_text("\n".join(texts) + "\n")
    (tmp_path / "val_labels.txt").write_text("\n".join(["0", "1", "2"] * 3) + "\n")


@pytest.mark.model
def test_eval_sentiment_prints_the_figures_as_json(tmp_path):
    _tiny_sentiment(tmp_path)
    res = CliRunner().invoke(main, ["--config", str(CONFIG), "eval", "sentiment", "--data",
                                    str(tmp_path), "--split", "val", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert {"macro_recall", "accuracy", "macro_f1", "confusion"} <= report.keys()
    assert sum(map(sum, report["confusion"])) == 9 and report["macro_recall"] > 0.6


@pytest.mark.model
def test_eval_topics_prints_per_topic_scores(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("text,reason\n"
                   "\"my flashlight burned my hand, lumitoys\",product_safety\n"
                   "\"lumitoys where is my order, no shipping update\",shipping\n"
                   "\"lumitoys is great\",\n")
    res = CliRunner().invoke(main, ["--config", str(CONFIG), "eval", "topics", "--data", str(csv),
                                    "--label-column", "reason", "--json", "--tune"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["per_topic"]["product_safety"]["recall"] == 1.0
    assert report["per_topic"]["shipping"]["f1"] == 1.0
    assert report["macro_f1"] == 1.0
    assert report["tuned"]["per_topic"]["shipping"]["f1"] == 1.0


@pytest.mark.model
def test_bench_classify_reports_rate_and_memory():
    res = CliRunner().invoke(main, ["--config", str(CONFIG), "bench", "classify", "--n", "64",
                                    "--runs", "2", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["mentions_per_s"] > 0 and report["peak_rss_mb"] > 100
    assert len(report["runs"]) == 2


@pytest.mark.model
def test_complaint_f1_in_five_fold_cross_validation():
    data = needs_shared("complaints") / "complaints-data.csv"
    res = CliRunner().invoke(main, ["train", "complaints", "--data", str(data), "--no-save",
                                    "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout.strip().splitlines()[-1])
    assert report["folds"] == 5 and report["n"] == 3449
    assert report["complaint_f1"] >= 0.80


@pytest.mark.parametrize(("text", "keyword", "found"), [
    ("the flashlight burned my hand", "burn*", True),
    ("the flashlight burned my hand", "burn", False),
    ("so #burned right now", "burned", True),          # a plain word matches a hashtag too
    ("so burned right now", "#burned", False),         # a hashtag keyword only the hashtag
    ("so #burned right now", "#burned", True),
    ("it CAUGHT   fire last night", "caught fire", True),
    ("fire caught my eye", "caught fire", False),
    ("it got too hot, then cold", "too hot", True),
    ("it's toooo hot", "too hot", False),
    ("the lamp overheating again", "lamp overheat*", True),
    ("the lamp is overheating", "lamp overheat*", False),   # a phrase is adjacent words
    ("Café Lumi", "cafe", True),                       # accents folded
    ("anything", "***", False),                        # no words: never matches
])
def test_keyword_table(text, keyword, found):
    from classifiers.text import Keyword, Words, tokenize
    assert Keyword(keyword).found_in(Words(tokenize(text))) is found


@pytest.mark.model
def test_a_student_trains_with_a_teacher_and_ships_its_depth_and_embedding_map(tmp_path):
    """finetune_sentiment with layers < 6: the file says its depth, carries the map of its
    pooled embedding into the base encoder's space, and loads back as that encoder."""
    from classifiers.builtin import builtin_encoder
    from classifiers.finetune import finetune_sentiment
    from classifiers.sentiment import SentimentHead
    _tiny_sentiment(tmp_path)
    for name in ("text", "labels"):
        (tmp_path / f"train_{name}.txt").write_text((tmp_path / f"val_{name}.txt").read_text())
    teacher = tmp_path / "teacher.safetensors"
    finetune_sentiment(tmp_path, teacher, epochs=1, batch_size=4, layers=6, log=lambda m: None)
    student = tmp_path / "student.safetensors"
    report = finetune_sentiment(tmp_path, student, epochs=1, batch_size=4, layers=2,
                                teacher=teacher, keep=3.0, log=lambda m: None)
    assert report.steps == 2 and 0.0 <= report.val_macro_recall <= 1.0
    head = SentimentHead.load(student)
    assert head.meta["layers"] == "2" and head.meta["teacher"] == "teacher.safetensors"
    assert head.align is not None and head.align[0].shape == (384, 384)
    assert SentimentHead.load(teacher).align is None  # full depth: no map
    encoder = builtin_encoder(head, fast=False)
    assert encoder.layers == 2 and encoder.align is not None
    emb = encoder.encode(["the flashlight burned my hand", "love it"])
    assert emb.shape == (2, 384) and np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)


def test_tuning_picks_each_topics_threshold_with_the_best_f1():
    from classifiers.evaluate import tune_thresholds
    gold = ["a", "a", None, "b", None]
    scores = [{"a": 0.9, "b": 0.1}, {"a": 0.7, "b": 0.2}, {"a": 0.6, "b": 0.3},
              {"a": 0.1, "b": 1.0}, {"a": 0.2, "b": 0.55}]
    tuned = tune_thresholds(gold, scores, ["a", "b"], grid=[0.5, 0.65, 0.8])
    assert tuned["per_topic"]["a"]["threshold"] == 0.65 and tuned["per_topic"]["a"]["f1"] == 1.0
    assert tuned["per_topic"]["b"]["threshold"] == 0.8  # the keyword hit (1.0) alone
    assert tuned["macro_f1"] == 1.0


@pytest.mark.model
def test_eval_sentiment_reads_a_labelled_csv(tmp_path):
    data = tmp_path / "mine.csv"
    data.write_text("text,mood\n\"I hate this, worst ever\",Negative\nit is a flashlight,neutral\n"
                    "\"love it so much, thank you\",positive\n")
    res = CliRunner().invoke(main, ["--config", str(CONFIG), "eval", "sentiment", "--data",
                                    str(data), "--label-column", "mood", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["n"] == 3 and report["split"] is None
    assert sum(map(sum, report["confusion"])) == 3


def test_eval_sentiment_names_a_bad_label_column_before_loading_any_model(tmp_path):
    data = tmp_path / "mine.csv"
    data.write_text("text,reason\nlate again,Late Flight\nfine,\n")
    res = CliRunner().invoke(main, ["--config", str(CONFIG), "eval", "sentiment", "--data",
                                    str(data), "--label-column", "reason"])
    assert res.exit_code != 0
    assert "column 'reason' holds (empty), 'late flight'; expected one of negative" in res.output
    res = CliRunner().invoke(main, ["--config", str(CONFIG), "eval", "sentiment", "--data",
                                    str(data), "--label-column", "mood"])
    assert "has no column 'mood'; columns: text, reason" in res.output
