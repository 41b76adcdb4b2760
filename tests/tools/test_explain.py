"""Explain a text (query clauses, topics with evidence, rules) and run the config's examples."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from listener.cli.config import render_examples
from listener.cli.main import main
from listener.config import load_config
from listener.query.parser import explain
from listener.tools.explain import explain_text, render, run_examples
from tests.conftest import CONFIG

BURNS = ("Saw the posts about the Pumpkin Glow burns, checked ours, and the plastic near the "
         "batteries was deformed. Reported to Lumi Toys, no answer yet.")
HIRING = "Lumi Toys is hiring a warehouse associate"
NEAR = ("Anyone know if Tesco is taking the Lumi Toys Pumpkin Glow back? Don't want it anywhere "
        "near my 8 year old after these burn reports.")


def test_a_match_names_the_clauses_that_matched(demo_config):
    e = explain_text(demo_config, None, BURNS, source="trustpilot", lang="en")
    assert (e.brand, e.product) == ("Lumi Toys", "Pumpkin Glow flashlight")
    brand = e.queries[0]
    assert brand.clause.why == ('"lumi toys" found at words 21-22; "pumpkin glow" found at '
                                'words 6-7')
    assert render(e).splitlines()[:6] == [
        f"text:      {BURNS}",
        "source:    trustpilot",
        "language:  en",
        'brand:     Lumi Toys — "lumi toys" found at words 21-22; "pumpkin glow" found at '
        'words 6-7',
        "product:   Pumpkin Glow flashlight",
        "queries:",
    ]


def test_an_exclusion_that_wins_over_a_match_is_named(demo_config):
    e = explain_text(demo_config, None, HIRING)
    assert e.brand is None
    lines = render(e).splitlines()
    assert lines[3:6] == [
        "brand:     none — the mention would not be stored",
        '           Lumi Toys: "lumi toys" found at words 1-2, but excluded by -hiring: '
        '"hiring" found at word 4',
        "product:   none",
    ]
    assert '        ✗ -hiring: excluded by -hiring: "hiring" found at word 4' in lines
    assert '          ✓ hiring: "hiring" found at word 4' in lines


@pytest.mark.parametrize("query, why", [
    ('"pumpkin glow" NEAR/5 burn*',
     'near miss: "pumpkin glow" and "burn*" are 13 words apart; NEAR/5 allows at most 5'),
    ('"pumpkin glow" NEAR/13 burn*',
     '"pumpkin glow" and "burn*" are 13 word(s) apart (NEAR/13 allows at most 13)'),
    ('lumitoys OR ("pumpkin glow" NEAR/5 burn*)',
     'near miss: "pumpkin glow" and "burn*" are 13 words apart; NEAR/5 allows at most 5'),
    ('"pumpkin glow" NEAR/5 fire', '"fire" is not in the text'),
    ('"pumpkin glow" lang:en', "lang is not given, not 'en'"),
])
def test_near_misses_and_other_failures_say_what_was_found(query, why):
    assert explain(query, NEAR).why == why


def test_a_near_miss_is_explained_for_a_brand(demo_config):
    cfg = load_config("""
brands:
  - name: Lumi Toys
    query: '"pumpkin glow" NEAR/5 burn*'
sources: {replay: {}}
""", env={})
    e = explain_text(cfg, None, NEAR)
    assert e.brand is None
    assert render(e).splitlines()[4] == (
        '           Lumi Toys: near miss: "pumpkin glow" and "burn*" are 13 words apart; '
        "NEAR/5 allows at most 5")


def test_topics_sentiment_severity_and_rules(demo_config, make_classifier):
    classifier = make_classifier(demo_config)
    e = explain_text(demo_config, classifier, BURNS, source="trustpilot", lang="en")
    safety = next(t for t in e.topics if t.name == "product_safety")
    assert (safety.matched, safety.score, safety.evidence) == (True, 1.0, 'keyword "burns"')
    assert e.severity == "critical"
    rules = {r.name: r for r in e.rules}
    assert rules["safety-reports"].counts
    assert rules["safety-reports"].why == ("counts (brand Lumi Toys, topic product_safety), rare "
                                           "detector over 3h")
    assert e.sentiment in ("negative", "neutral", "positive") and 0 < e.sentiment_score <= 1
    assert 0 <= e.complaint <= 1
    text = render(e)
    assert "  ✓ product_safety 1.00 [critical]: keyword \"burns\"" in text
    assert text.splitlines()[-3:-2] == ["alert rules:"]

    hiring = explain_text(demo_config, classifier, HIRING)
    assert [(r.name, r.counts, r.why) for r in hiring.rules] == [
        ("safety-reports", False, "no brand matches, so the mention is not stored"),
        ("negative-spike", False, "no brand matches, so the mention is not stored")]


def test_a_topic_recovered_by_similarity_without_any_keyword(demo_config, make_classifier):
    text = "the lamp got so hot it scorched my son's fingers"
    e = explain_text(demo_config, make_classifier(demo_config), text)
    safety = next(t for t in e.topics if t.name == "product_safety")
    assert safety.matched and 0.62 <= safety.score < 1
    assert safety.evidence == (f'similar to example "the flashlight got so hot it burned my '
                               f'daughter\'s hand" ({safety.score:.2f})')
    shipping = next(t for t in e.topics if t.name == "shipping")
    assert not shipping.matched
    assert shipping.evidence.startswith("no keyword; nearest is the ")
    assert shipping.evidence.endswith(f"at {shipping.score:.2f}, below 0.55")


def test_the_shipped_config_examples_pass(demo_config, make_classifier):
    results = run_examples(demo_config, make_classifier(demo_config))
    kinds = {(r.kind, r.name) for r in results}
    assert {("brand", "Lumi Toys"), ("product", "Lumi Toys / Pumpkin Glow flashlight"),
            ("topic", "product_safety"), ("topic", "shipping")} <= kinds
    assert [r for r in results if not r.passed] == []


FAILING = """
brands:
  - name: Lumi Toys
    query: '("lumi toys" OR lumitoys) -hiring'
    should_match: ["Lumi Toys rocks", "lumi toys NEAR the top of my list"]
    should_not_match: ["Lumi Toys hiring event", "Lumi Toys careers page"]
    products:
      - name: Pumpkin Glow
        query: '"pumpkin glow"'
        should_match: ["my pumpkin glow from lumitoys", "pumpkin glow is great"]
sources: {replay: {}}
"""


def test_a_failing_example_is_reported_with_its_explanation():
    results = run_examples(load_config(FAILING, env={}))
    assert [(r.kind, r.expect, r.passed) for r in results] == [
        ("brand", "should_match", True), ("brand", "should_match", True),
        ("brand", "should_not_match", True), ("brand", "should_not_match", False),
        ("product", "should_match", True), ("product", "should_match", False)]
    out = render_examples(results)
    assert out.splitlines()[-7:] == [
        "failures:",
        "  brand Lumi Toys should not match: Lumi Toys careers page",
        '    why: matches: "lumi toys" found at words 1-2',
        "  product Lumi Toys / Pumpkin Glow should match: pumpkin glow is great",
        '    why: does not match: the brand query of Lumi Toys does not match: none of '
        '"lumi toys", lumitoys matches',
        "",
        "4 passed, 2 failed",
    ]
    assert "FAIL    brand    Lumi Toys" in out


def test_config_test_exits_1_on_a_failure_and_0_when_all_pass(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(FAILING)
    res = CliRunner().invoke(main, ["config", "test", str(bad)])
    assert res.exit_code == 1
    assert res.output.rstrip().endswith("4 passed, 2 failed")
    good = tmp_path / "good.yaml"
    good.write_text(FAILING.replace(', "Lumi Toys careers page"', "").replace(
        ', "pumpkin glow is great"', ""))
    res = CliRunner().invoke(main, ["config", "test", str(good)])
    assert res.exit_code == 0, res.output
    assert res.output.rstrip().endswith("4 passed, 0 failed")
    # config check stays a schema check: the failing examples do not make it fail
    assert CliRunner().invoke(main, ["config", "check", str(bad)]).exit_code == 0


@pytest.mark.model
def test_explain_command_prints_json(tmp_path):
    res = CliRunner().invoke(main, ["--config", str(CONFIG), "explain", HIRING, "--source",
                                    "twitter", "--json"],
                             env={"LISTENER_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["brand"] is None and out["source"] == "twitter"
    assert out["queries"][0]["why"] == ('"lumi toys" found at words 1-2, but excluded by '
                                        '-hiring: "hiring" found at word 4')
    assert {t["name"] for t in out["topics"]} == {"product_safety", "shipping"}


@pytest.mark.model
def test_explain_a_stored_mention(tmp_path):
    env = {"LISTENER_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SLACK_BOT_TOKEN": ""}
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(CONFIG), "collect", "--once"],
                         env=env).exit_code == 0
    res = runner.invoke(main, ["--config", str(CONFIG), "explain", "--mention", "1"], env=env)
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == ("mention:   #1 https://apps.apple.com/us/app/lumi-toys/id1234567890"
                        "?see-all=reviews")
    assert lines[1] == "stored as: brand Lumi Toys, product Starlight Projector; not classified yet"
    assert lines[2].startswith("text:      Love the bedtime stories mode for the Starlight")
    assert lines[3:5] == ["source:    appstore", "language:  en"]
    res = runner.invoke(main, ["--config", str(CONFIG), "explain", "--mention", "99999"], env=env)
    assert (res.exit_code, res.output.strip()) == (1, "error: no stored mention has id 99999")
    res = runner.invoke(main, ["--config", str(CONFIG), "explain"], env=env)
    assert res.exit_code == 2 and "give a TEXT or --mention ID" in res.output
