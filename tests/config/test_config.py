"""Config: strict schema, exact messages for each kind of mistake, secrets never printed."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from listener.cli.main import main
from listener.config import load_config, load_config_file
from listener.errors import ConfigError
from listener.sources import SOURCES
from tests.conftest import CONFIG

BASE = """\
brands:
  - name: Lumi Toys
    query: lumitoys
sources:
  replay: {}
"""


def problems(text: str, env: dict | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(text, env or {})
    return info.value.problems


def test_the_shipped_config_is_valid():
    cfg = load_config_file(CONFIG, env={})
    assert cfg.brands[0].name == "Lumi Toys"
    assert "replay" in cfg.enabled_sources()
    assert cfg.slack.token is None  # no SLACK_BOT_TOKEN: alerts go to the console


@pytest.mark.parametrize("kind, text, env, expected", [
    ("unknown key",
     BASE.replace("    query: lumitoys\n", "    query: lumitoys\n    prodcts: []\n"), {},
     'brands[0].prodcts: unknown key; did you mean "products"? valid keys here: name, query, '
     'products, should_match, should_not_match'),
    ("bad duration",
     BASE + "alerts:\n  rules:\n    - {name: r, detector: rare, window: '90'}\n", {},
     'alerts.rules[0].window: "90" is not a duration; write e.g. "90s", "15m", "2h" or "1d"'),
    ("missing env var",
     BASE + "slack:\n  token: ${SLACK_BOT_TOKEN}\n", {},
     "slack.token: environment variable SLACK_BOT_TOKEN is not set; export it, or write "
     "${SLACK_BOT_TOKEN:-} to leave the setting empty"),
    ("unknown source",
     BASE.replace("  replay: {}", "  replay: {}\n  twiter: {}"), {},
     'sources.twiter: unknown source "twiter"; did you mean "twitter"? valid sources: '
     + ", ".join(SOURCES)),
    ("bad query",
     BASE.replace("query: lumitoys", "query: '(lumitoys OR \"lumi toys\"'"), {},
     'brands[0].query: "(lumitoys OR \\"lumi toys\\"" is not a valid query: the ( at column 1 '
     "is not closed"),
    ("undefined reference",
     BASE + "topics: [{name: safety, description: harm}]\n"
            "alerts:\n  rules:\n    - {name: r, detector: rare, match: {topics: [safty]}}\n", {},
     'alerts.rules[0].match.topics[0]: "safty" is not a defined topic; did you mean "safety"? '
     "defined: safety"),
    ("value not allowed",
     BASE + "alerts:\n  rules:\n    - {name: r, detector: rare-ish}\n", {},
     "alerts.rules[0].detector: \"rare-ish\" is not allowed; use one of 'rare' or 'spike'"),
    ("no brand",
     "sources:\n  replay: {}\n", {}, "brands: required key is missing"),
    ("an option of the other detector",
     BASE + "alerts:\n  rules:\n    - {name: r, detector: spike, min_authors: 3}\n", {},
     "alerts.rules[0].min_authors: belongs to the rare detector, not to spike; remove it, or "
     "write detector: rare"),
    ("and the other way round",
     BASE + "alerts:\n  rules:\n    - {name: r, detector: rare, history: 7d}\n", {},
     "alerts.rules[0].history: belongs to the spike detector, not to rare; remove it, or "
     "write detector: spike"),
    ("an option no detector has",
     BASE + "alerts:\n  rules:\n    - {name: r, detector: rare, min_author: 3}\n", {},
     'alerts.rules[0].min_author: unknown key; did you mean "min_authors"? valid keys here: '
     "name, match, window, channel, detector, min_authors"),
    ("no detector",
     BASE + "alerts:\n  rules:\n    - {name: r}\n", {},
     "alerts.rules[0].detector: required key is missing; use one of 'rare' or 'spike'"),
])
def test_each_kind_of_mistake_has_an_exact_message(kind, text, env, expected):
    assert problems(text, env) == [expected]


def test_every_mistake_is_reported_at_once():
    text = BASE.replace("query: lumitoys", "query: 'a AND'") + "queue: {first_response: soon}\n"
    assert len(problems(text)) == 2


def test_a_secret_from_the_environment_is_never_printed():
    text = BASE + "slack:\n  base_url: ${SLACK_URL}\n"
    msgs = problems(text, {"SLACK_URL": "ftp://hunter2-secret"})
    assert msgs == ["slack.base_url: the value from the environment is not allowed; start it "
                    "with http:// or https://"]
    cfg = load_config(BASE + "slack:\n  token: ${T}\n", {"T": "xoxb-hunter2"})
    assert "hunter2" not in repr(cfg) and "hunter2" not in str(cfg.model_dump())
    assert cfg.slack.token.get_secret_value() == "xoxb-hunter2"


def test_optional_env_var_falls_back_to_its_default():
    cfg = load_config(BASE + "slack:\n  channel: ${CH:-#alerts}\n", {})
    assert cfg.slack.channel == "#alerts"


def test_invalid_yaml_names_the_line():
    assert problems("brands: [\n") [0].startswith("line 2, column 1: not valid YAML")


def test_config_check_exit_codes(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(main, ["config", "check", str(CONFIG)], env={"SLACK_BOT_TOKEN": ""})
    assert ok.exit_code == 0, ok.output
    assert "OK (1 brand(s), 1 source(s), 2 topic(s), 2 rule(s))" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE + "alerts:\n  rules:\n    - {name: r, detector: rare, window: '90'}\n")
    res = runner.invoke(main, ["config", "check", str(bad)])
    assert res.exit_code == 2
    assert res.output.strip() == (f'{bad}: alerts.rules[0].window: "90" is not a duration; '
                                  'write e.g. "90s", "15m", "2h" or "1d"')


def test_invalid_config_stops_run_before_anything_starts(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE.replace("  replay: {}", "  twiter: {}"))
    proc = subprocess.run([sys.executable, "-m", "listener.cli", "--config", str(bad), "run"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2
    assert 'sources.twiter: unknown source "twiter"' in proc.stderr
    assert not (tmp_path / "listener.db").exists()
