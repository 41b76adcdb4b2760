"""The source registry loads no platform SDK: the config imports it for the sources' Settings, and
an SDK is imported only by its own source, once that source is built. Each check runs in a fresh
interpreter, since this one has long imported every SDK."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

SDKS = ("tweepy", "praw", "prawcore", "mastodon", "feedparser", "atproto")

PROBE = """
import json, sys
from datetime import UTC, datetime
from pathlib import Path

def loaded():
    return sorted(m for m in sys.modules if m.split(".")[0] in {sdks!r})

seen = {{}}
import listener.config
import listener.config.model
import listener.sources
seen["import"] = loaded()
from listener.config import load_config
from listener.daemon.runner import build_sources
config = load_config({config!r}, env={env!r})
seen["config"] = loaded()
sources = build_sources(config, Path("."), clock=lambda: datetime.max.replace(tzinfo=UTC))
seen["built"] = loaded()
print(json.dumps(seen))
"""

BRAND = "brands:\n  - {name: Lumi Toys, query: lumitoys}\nsources:\n"


def probe(block: str, env: dict | None = None) -> dict[str, list[str]]:
    code = PROBE.format(sdks=SDKS, config=BRAND + block, env=env or {})
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_config_and_a_replay_only_daemon_import_no_platform_sdk():
    seen = probe("  replay: {}\n")
    assert seen == {"import": [], "config": [], "built": []}


@pytest.mark.parametrize("block, env, sdk", [
    ("  twitter: {bearer_token: '${T}'}\n", {"T": "token"}, ["tweepy"]),
    ("  reddit: {client_id: '${I}', client_secret: '${S}', user_agent: "
     "'python:listener-tests:0.1 (by /u/listener_tests)'}\n", {"I": "id", "S": "secret"},
     ["praw", "prawcore"]),
    ("  mastodon: {instances: [{url: 'https://mastodon.example', hashtags: [lumitoys]}]}\n", {},
     ["mastodon"]),
])
def test_a_configured_source_imports_its_own_sdk_once_it_is_built(block, env, sdk):
    seen = probe(block, env)
    assert (seen["import"], seen["config"]) == ([], [])
    assert sorted({m.split(".")[0] for m in seen["built"]}) == sdk
