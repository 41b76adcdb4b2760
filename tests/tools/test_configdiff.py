"""listener config diff: the keys that changed (secrets masked) and the effect on stored
mentions of removing a keyword or narrowing a brand query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from listener.cli.main import main
from listener.config import load_config
from listener.pipeline.collect import collect
from listener.sources.contract import SourceContext
from listener.sources.replay import ReplaySettings, ReplaySource
from listener.tools.config_diff import key_changes, render, stored_effects
from tests.conftest import CONFIG

NARROWER = ('("lumi toys" OR lumitoys OR @lumitoys OR "pumpkin glow" OR pumpkinglow)',
            '("lumi toys" OR lumitoys OR @lumitoys OR pumpkinglow)')
WITHOUT_BURNED = ("keywords: [burned, burnt,", "keywords: [burnt,")


def demo_text(*edits: tuple[str, str]) -> str:
    text = CONFIG.read_text()
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    return text


@pytest.fixture()
def demo_store(sqlite_engine, demo_config, tmp_path):
    source = ReplaySource(SourceContext(ReplaySettings(), base_dir=tmp_path,
                                        clock=lambda: datetime.max.replace(tzinfo=UTC)))
    r = collect(sqlite_engine, config=demo_config, name="replay", source=source,
                         now=datetime.now(UTC))
    assert r.stored == 923
    return sqlite_engine


def test_changed_keys_are_listed_with_secrets_masked():
    base = "brands: [{name: A, query: a}]\nsources: {replay: {}}\nslack: {token: %s}\n"
    old = load_config(base % "xoxb-old-secret", env={})
    new = load_config(base.replace("query: a", "query: a OR b") % "xoxb-new-secret"
                      + "topics: [{name: t, description: d, keywords: [x]}]\n", env={})
    changes = key_changes(old, new)
    assert ("brands[A].query", "changed", '"a" -> "a OR b"') in changes
    assert ("slack.token", "changed", "(secret changed)") in changes
    assert ("topics[t].keywords", "added", '["x"]') in changes
    assert "secret" not in render(changes, None).replace("(secret changed)", "")


def test_removing_a_keyword_reports_the_mentions_that_leave_the_topic(
        demo_store, demo_config, classifier_parts):
    encoder, _ = classifier_parts
    new = load_config(demo_text(WITHOUT_BURNED), env={})
    assert key_changes(demo_config, new) == [
        ("topics[product_safety].keywords", "changed", 'removed "burned"')]
    report = stored_effects(demo_store, demo_config, new, since=timedelta(days=7),
                            embed=encoder.encode, examples=50)
    assert report.mentions == 923
    (effect,) = report.effects
    assert (effect.kind, effect.name, effect.newly) == ("topic", "product_safety", 0)
    assert 0 < effect.stopped == len(effect.stopped_examples)
    assert all("burned" in t.lower() for t in effect.stopped_examples)
    out = render(key_changes(demo_config, new), report)
    assert f"  topic product_safety: 0 would newly match, {effect.stopped} would stop matching" \
        in out


def test_config_diff_command_on_a_narrower_brand_query(tmp_path):
    env = {"LISTENER_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}", "SLACK_BOT_TOKEN": ""}
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(CONFIG), "collect", "--once"],
                         env=env).exit_code == 0
    new = tmp_path / "new.yaml"
    new.write_text(demo_text(NARROWER))
    res = runner.invoke(main, ["config", "diff", str(CONFIG), str(new), "--since", "7d",
                               "--examples", "1"], env=env)
    assert res.exit_code == 0, res.output
    assert res.output.splitlines() == [
        "keys:",
        '  changed  brands[Lumi Toys].query: "(\\"lumi toys\\" OR lumitoys OR @lumitoys OR '
        '\\"pumpkin glow\\" OR pumpkinglow) -hiring -job -careers" -> "(\\"lumi toys\\" OR '
        'lumitoys OR @lumitoys OR pumpkinglow) -hiring -job -careers"',
        "stored mentions 2026-10-23 23:58 - 2026-10-30 23:58 UTC: 923",
        "  brand Lumi Toys: 0 would newly match, 28 would stop matching",
        "    - hot deal on pumpkin glow at Tesco rn, $14.99 each. grab em before halloween",
        "  product Lumi Toys / Pumpkin Glow flashlight: 0 would newly match, 28 would stop "
        "matching",
        "    - hot deal on pumpkin glow at Tesco rn, $14.99 each. grab em before halloween",
        "(only stored mentions are seen: texts no brand query matched at collection were not "
        "kept)",
    ]
