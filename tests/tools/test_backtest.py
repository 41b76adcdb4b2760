"""`listener backtest` on a database filled by the demo replay: the stored mentions, replayed
through the live detection code on the historical clock, open the demo crisis; a config without
the safety topic and its rule opens nothing; the live incidents and outbox are not touched."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner
from sqlmodel import Session, select

from listener.cli.main import main
from listener.storage.db import make_engine
from listener.storage.models import Decision, Incident, OutboxMessage
from tests.conftest import CONFIG

pytestmark = pytest.mark.model
PERIOD = ["--since", "2026-10-28T00:00:00Z", "--until", "2026-11-01T00:00:00Z"]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("backtest")
    env = {"LISTENER_DATABASE_URL": f"sqlite:///{tmp / 'demo.db'}", "SLACK_BOT_TOKEN": ""}
    runner = CliRunner()
    for cmd in (["collect", "--once"], ["classify"]):
        res = runner.invoke(main, ["--config", str(CONFIG), *cmd], env=env)
        assert res.exit_code == 0, res.output
    return tmp, env


def without_safety(tmp) -> str:
    config = yaml.safe_load(CONFIG.read_text())
    config["topics"] = [t for t in config["topics"] if t["name"] != "product_safety"]
    config["alerts"]["rules"] = [r for r in config["alerts"]["rules"]
                                 if "product_safety" not in r.get("match", {}).get("topics", [])]
    config["alerts"]["inhibit"] = []
    config["playbooks"] = {}
    path = tmp / "no-safety.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_the_backtest_opens_the_demo_crisis_and_a_config_without_safety_opens_nothing(demo_db):
    tmp, env = demo_db
    res = CliRunner().invoke(main, ["--config", str(CONFIG), "backtest", *PERIOD, "--against",
                                    without_safety(tmp), "--json"], env=env)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)

    (crisis,) = out["config"]["incidents"]
    assert (crisis["rule"], crisis["key"]) == (
        "safety-reports", "safety-reports|brand=Lumi Toys|topic=product_safety")
    assert "2026-10-30T09:40" < crisis["opened_at"] < "2026-10-30T13:00"
    assert crisis["level"] >= 6 and crisis["peak_level"] >= crisis["level"]
    assert crisis["messages"][0] == "first"
    assert crisis["reason"].startswith("opened at severity")
    assert out["config"]["mentions"] == 923 and out["config"]["unmatched"] == 0

    assert out["against"]["incidents"] == []
    assert [x["key"] for x in out["diff"]["only_in_config"]] == [crisis["key"]]
    assert out["diff"]["only_in_against"] == [] and out["diff"]["changed"] == []

    # nothing was sent and the live store has no incident, decision or outbox row
    engine = make_engine(env["LISTENER_DATABASE_URL"])
    with Session(engine) as s:
        for table in (Incident, Decision, OutboxMessage):
            assert s.exec(select(table)).all() == []
    engine.dispose()


def test_the_backtest_report_says_when_and_how_severe(demo_db):
    _, env = demo_db
    res = CliRunner().invoke(main, ["--config", str(CONFIG), "backtest", *PERIOD], env=env)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].startswith(f"{CONFIG}: 2026-10-28 00:00 to 2026-11-01 00:00 UTC, 923 of "
                               "923 stored mentions match its brands, ")
    assert lines[0].endswith(" detection runs; nothing was sent")
    (line,) = [x for x in lines if "[safety-reports]" in x]
    assert line.startswith("  2026-10-30 1") and "SEV " in line
    assert "Pumpkin Glow flashlight · product safety" in line
