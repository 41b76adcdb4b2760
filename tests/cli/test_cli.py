"""The commands other issues rely on: collect, classify, detect, mentions, incidents, demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from listener.cli.main import main
from tests.conftest import CONFIG, ROOT

FIELDS = {"source", "external_id", "url", "author", "created_at", "text", "brand", "sentiment",
          "topics"}


@pytest.mark.model
def test_collect_classify_detect_then_list_mentions_and_incidents(tmp_path):
    runner = CliRunner()
    env = {"LISTENER_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "SLACK_BOT_TOKEN": ""}
    args = ["--config", str(CONFIG)]

    res = runner.invoke(main, [*args, "collect", "--once", "--source", "replay"], env=env)
    assert res.exit_code == 0, res.output
    assert res.output.strip() == ("replay: fetched 967, stored 923, duplicates 0, not matching any "
                                  "brand 44, malformed 0")
    again = runner.invoke(main, [*args, "collect", "--once"], env=env)
    assert "fetched 0, stored 0" in again.output           # the cursor remembers

    res = runner.invoke(main, [*args, "classify"], env=env)
    assert res.exit_code == 0 and res.output.strip() == "classified 923 mention(s)"

    res = runner.invoke(main, [*args, "detect", "--at", "2026-10-30T12:00:00Z"], env=env)
    assert res.exit_code == 0, res.output
    assert "first      safety-reports|brand=Lumi Toys|topic=product_safety: opened" in res.output
    assert "notifications: 1 sent, 0 retrying, 0 failed" in res.output
    assert "ALERT → console, would go to #crisis" in res.output

    res = runner.invoke(main, [*args, "mentions", "--format", "jsonl"], env=env)
    lines = res.output.splitlines()
    assert len(lines) == 923
    records = [json.loads(line) for line in lines]
    assert all(FIELDS <= r.keys() for r in records)
    burned = next(r for r in records if "burned her hand" in r["text"])
    assert burned["sentiment"] == "negative" and "product_safety" in burned["topics"]
    assert burned["url"].startswith("https://x.com/") and burned["created_at"].endswith("Z")

    res = runner.invoke(main, [*args, "mentions", "--limit", "5"], env=env)
    assert res.output.rstrip().endswith("(5 rows)")

    res = runner.invoke(main, [*args, "incidents", "--format", "jsonl"], env=env)
    (incident,) = [json.loads(line) for line in res.output.splitlines()]
    assert incident["rule"] == "safety-reports" and incident["status"] == "open"
    assert incident["deliveries"][0]["delivered_to"] == "the console"


def test_unknown_source_for_collect_is_a_clear_error(tmp_path):
    res = CliRunner().invoke(main, ["--config", str(CONFIG), "collect", "--once", "--source",
                                    "twitter"],
                             env={"LISTENER_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert res.exit_code == 1
    assert res.output.strip() == "error: source 'twitter' is not configured; configured: replay"


@pytest.mark.daemon
def test_the_demo_raises_the_safety_alert_and_says_where_it_went(tmp_path):
    env = {**os.environ, "SLACK_BOT_TOKEN": "", "HF_HUB_OFFLINE": "1"}
    env.pop("LISTENER_DATABASE_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "listener.cli", "--config", str(CONFIG),
         "--database-url", f"sqlite:///{tmp_path / 'demo.db'}", "demo", "--speed", "8000"],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env=env, check=False)
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ALERT → console, would go to #crisis" in out
    assert "product safety" in out and "distinct people reported it" in out
    assert "https://wiki.example.com/crisis/product-safety" in out
    assert "923 about your brands were stored, 44 did not match any brand query" in out
    assert "The alerts went to the console above" in out
    assert "mentions --limit 20" in out and "incidents" in out.splitlines()[-1]


def test_the_installed_command_is_the_cli_group():
    """`listener` on the PATH runs what pyproject's [project.scripts] names: a click command."""
    import importlib
    import tomllib

    import click

    target = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["listener"]
    module, _, name = target.partition(":")
    assert isinstance(getattr(importlib.import_module(module), name), click.Command)
