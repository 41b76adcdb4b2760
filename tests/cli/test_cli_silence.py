"""`listener silence add/list/expire` against a throwaway database."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from listener.cli.main import main
from tests.conftest import CONFIG


def test_add_list_and_expire_a_silence(tmp_path):
    env = {"LISTENER_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}", "USER": "ana"}
    run = lambda *a: CliRunner().invoke(main, ["--config", str(CONFIG), *a], env=env)  # noqa: E731

    res = run("silence", "add", "--match", "topic=product_safety", "--match", "brand=~Lumi.*",
              "--for", "2h", "--comment", "recall announced")
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("silence #1: topic=product_safety, brand=~Lumi.* from ")

    (row,) = [json.loads(x) for x in
              run("silence", "list", "--format", "jsonl").stdout.splitlines()]
    assert (row["id"], row["state"], row["matchers"], row["created_by"], row["comment"]) == (
        1, "active", "topic=product_safety brand=~Lumi.*", "ana", "recall announced")

    assert run("silence", "expire", "1").exit_code == 0
    assert run("silence", "list", "--format", "jsonl").stdout == ""
    (row,) = [json.loads(x) for x in
              run("silence", "list", "--all", "--format", "jsonl").stdout.splitlines()]
    assert row["state"] == "expired"

    res = run("silence", "expire", "7")
    assert res.exit_code == 1 and res.output.strip() == (
        "error: no silence #7; see `listener silence list --all`")


def test_a_bad_matcher_says_what_to_write(tmp_path):
    env = {"LISTENER_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"}
    res = CliRunner().invoke(main, ["--config", str(CONFIG), "silence", "add", "--match",
                                    "colour=red", "--comment", "x"], env=env)
    assert res.exit_code == 2
    assert ("'colour=red': unknown label 'colour'; use one of brand, product, topic, rule"
            in res.output)


@pytest.mark.parametrize("args, option, message", [
    (["--match", "topic=a", "--for", "365d"], "--for", "at most 90 days"),
    (["--match", "topic=a", "--for", "soon"], "--for", '"soon" is not a duration'),
    (["--match", " ", "--comment", "x"], "--match", "needs at least one matcher"),
    (["--match", "topic=a", "--comment", " "], "--comment", "needs a comment"),
])
def test_the_cli_keeps_the_rules_of_the_web_and_api(tmp_path, args, option, message):
    """`silence add` goes through incidents.add_silence: the same refusals, on its own options."""
    env = {"LISTENER_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"}
    if "--comment" not in args:
        args = [*args, "--comment", "why"]
    res = CliRunner().invoke(main, ["--config", str(CONFIG), "silence", "add", *args], env=env)
    assert res.exit_code == 2, res.output
    assert f"Invalid value for {option}: " in res.output and message in res.output
    assert "duration: " not in res.output


def test_a_silence_can_start_later(tmp_path):
    env = {"LISTENER_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}", "USER": "ana"}
    run = lambda *a: CliRunner().invoke(main, ["--config", str(CONFIG), *a], env=env)  # noqa: E731
    res = run("silence", "add", "--match", "topic=a", "--start", "2099-01-02T03:00Z",
              "--for", "1d", "--comment", " launch ")
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == (
        "silence #1: topic=a from 2099-01-02 03:00 until 2099-01-03 03:00 UTC")
    (row,) = [json.loads(x) for x in
              run("silence", "list", "--format", "jsonl").stdout.splitlines()]
    assert (row["state"], row["comment"]) == ("pending", "launch")
