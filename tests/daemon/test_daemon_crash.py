"""The daemon killed with SIGKILL mid-replay and restarted: no mention lost, none stored twice,
no alert sent twice; SIGTERM then shuts it down cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from listener.config import load_config_file
from listener.query.matching import match_mention
from listener.sources.contract import SourceContext
from listener.sources.replay import ReplaySettings, ReplaySource
from tests.conftest import CONFIG
from tests.support.waiting import wait_for

pytestmark = pytest.mark.daemon


def query(db: Path, sql: str):
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as c:
            return c.execute(text(sql)).all()
    except Exception:
        return None
    finally:
        engine.dispose()


def start(cfg: Path, env: dict, log) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "listener.cli", "--config", str(cfg),
                             "run"],
                            cwd=cfg.parent, env=env, stdout=log, stderr=subprocess.STDOUT)


def slice_of_demo(path: Path, since: str, until: str) -> list[str]:
    """Fourteen hours of the demo stream around the first safety report."""
    src = ReplaySource(SourceContext(ReplaySettings()))
    lines = src.path.read_text().splitlines()
    keep = [ln for ln in lines if since <= json.loads(ln)["created_at"] < until]
    path.write_text("\n".join(keep) + "\n")
    return keep


def test_sigkill_mid_replay_then_restart_loses_and_repeats_nothing(tmp_path, fake_slack):
    stream = tmp_path / "stream.jsonl"
    slice_of_demo(stream, "2026-10-30T04:00", "2026-10-30T18:00")
    data = yaml.safe_load(CONFIG.read_text())
    data["sources"]["replay"].update(speed=3000, path=str(stream))
    data["database"]["url"] = f"sqlite:///{tmp_path / 'listener.db'}"
    data["slack"]["base_url"] = fake_slack.base_url
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(data))
    env = {**os.environ, "SLACK_BOT_TOKEN": fake_slack.token, "HF_HUB_OFFLINE": "1"}
    db = tmp_path / "listener.db"
    log = (tmp_path / "daemon.log").open("w")

    proc = start(cfg, env, log)
    try:
        wait_for(lambda: fake_slack.top_level(), 120, "the first alert", every=0.2)
        stored = query(db, "select count(*) from mentions")[0][0]
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        state = query(db, "select exhausted from source_states where name='replay'")
        assert state == [(0,)] or state == [(False,)], "killed too late: the replay had ended"

        proc = start(cfg, env, log)
        resolved = wait_for(lambda: query(db, "select id from incidents where status='resolved'"),
                            180, "the incident to resolve after the replay", every=0.2)
        assert resolved
        wait_for(lambda: query(db, "select count(*) from outbox where status='pending'")
                 == [(0,)], 30, "the outbox to drain", every=0.2)
        wait_for(lambda: query(db, "select count(*) from mentions m left join labels l on "
                                   "l.mention_id = m.id where l.mention_id is null") == [(0,)],
                 30, "every mention to be classified", every=0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0          # clean shutdown
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()

    config = load_config_file(cfg, env={})
    src = ReplaySource(SourceContext(ReplaySettings(path=str(stream))))
    expected = {(m.source, m.external_id) for m in src._read({"offset": 0}, until=None).mentions
                if match_mention(config, m)}
    rows = query(db, "select source, external_id from mentions")
    assert stored < len(expected)                       # the kill really was mid-replay
    assert len(rows) == len(set(rows)) == len(expected)  # every mention exactly once
    assert set(rows) == expected
    assert query(db, "select count(*) from labels")[0][0] == len(expected)

    sent = query(db, "select count(*) from outbox where status='sent'")[0][0]
    assert len(fake_slack.messages) == sent                 # every alert sent exactly once
    keys = [(m.get("thread_ts"), m["text"]) for m in fake_slack.messages]
    assert len(keys) == len(set(keys))
    assert len(fake_slack.top_level()) == 1
    assert any(json.dumps(m["blocks"]).find("Resolved") >= 0 for m in fake_slack.messages)
