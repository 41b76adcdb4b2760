"""Hot reload: a running daemon takes a good config over without a restart and refuses a bad one,
keeping the old one running and telling the admin channel why."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from listener.config import load_config_file
from listener.daemon.reload import needs_restart
from listener.daemon.runner import build_daemon
from listener.storage.models import ConfigLoad, Mention
from tests.support.waiting import wait_for

T0 = datetime(2026, 10, 29, 9, 0, tzinfo=UTC)

CONFIG = """\
brands:
  - name: Lumi Toys
    query: lumitoys OR "lumi toys"
{extra}
sources:
  replay: {{path: stream.jsonl, speed: 1, every: 100ms}}
topics:
  - name: product_safety
    description: a product hurt someone; burn, fire, injury
    keywords: [burn*]
slack:
  token: xoxb-test-token
  base_url: {slack}
  channel: "#social-alerts"
  admin_channel: "#listener-admin"
schedule: {{classify_every: 100ms, detect_every: 1h, notify_every: 100ms,
           watch_config_every: 100ms}}
"""
ACME = """\
  - name: Acme
    query: acme -hiring
"""


def line(n: int, text: str, seconds: float = 0) -> str:
    return json.dumps({"source": "twitter", "external_id": str(n), "author": f"a{n}",
                       "created_at": (T0 + timedelta(seconds=seconds)).isoformat(),
                       "text": text}) + "\n"


def append(path, text: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(text)


def write_config(path, text: str) -> None:
    path.write_text(text)
    st = path.stat()   # a new mtime even within the file system's timestamp granularity
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


def brands(engine) -> dict[str, str]:
    with Session(engine) as s:
        return {m.external_id: m.brand for m in s.exec(select(Mention))}


def loads(engine) -> list[ConfigLoad]:
    with Session(engine) as s:
        return list(s.exec(select(ConfigLoad).order_by(ConfigLoad.id)))


@pytest.fixture()
def running(tmp_path, fake_slack, sqlite_engine, make_classifier):
    stream = tmp_path / "stream.jsonl"
    stream.write_text(line(1, "my lumitoys flashlight is great") +
                      line(2, "acme rocket skates are great"))
    path = tmp_path / "config.yaml"
    text = CONFIG.format(extra="", slack=fake_slack.base_url)
    write_config(path, text)
    config = load_config_file(path, env={})
    daemon = build_daemon(config, tmp_path, engine=sqlite_engine,
                          classifier=make_classifier(config), config_path=path)
    thread = threading.Thread(target=daemon.run, daemon=True)
    thread.start()
    yield daemon, path, stream, text
    daemon.stop()
    thread.join(timeout=30)
    assert not thread.is_alive()


def test_a_valid_change_is_applied_while_the_daemon_runs(running, fake_slack):
    daemon, path, stream, _text = running
    engine = daemon.engine
    wait_for(lambda: brands(engine).get("1") == "Lumi Toys")
    assert "2" not in brands(engine)            # acme is not listened for yet
    (start,) = loads(engine)
    assert start.ok and start.changes == "started" and len(start.sha256) == 64

    write_config(path, CONFIG.format(extra=ACME, slack=fake_slack.base_url).replace(
        "keywords: [burn*]", "keywords: [burn*, explod*]"))
    wait_for(lambda: len(loads(engine)) == 2)
    reload = loads(engine)[1]
    assert (reload.ok, reload.who, reload.error) == (True, "watch", None)
    assert reload.changes == "brands, topics"
    assert [b.name for b in daemon.config.brands] == ["Lumi Toys", "Acme"]
    assert daemon.classifier.topic_specs[0].keywords == ("burn*", "explod*")

    append(stream, line(3, "my acme rocket skates exploded", 1))
    wait_for(lambda: brands(engine).get("3") == "Acme")   # the new brand matches
    append(stream, line(4, "lumi toys flashlight", 1))
    wait_for(lambda: brands(engine).get("4") == "Lumi Toys")
    assert "2" not in brands(engine)            # what was read before the reload stays read
    assert fake_slack.messages == []            # a good reload is not news


def test_an_invalid_change_is_refused_and_the_admin_channel_is_told(running, fake_slack):
    daemon, path, stream, text = running
    engine = daemon.engine
    wait_for(lambda: brands(engine).get("1") == "Lumi Toys")
    running_config = daemon.config

    write_config(path, text.replace('query: lumitoys OR "lumi toys"',
                                    'query: (lumitoys OR "lumi toys"'))
    msg = wait_for(lambda: fake_slack.messages)[0]
    error = ('brands[0].query: "(lumitoys OR \\"lumi toys\\"" is not a valid query: '
             'the ( at column 1 is not closed')
    assert msg["channel"] == "#listener-admin"
    assert msg["text"].startswith(f":warning: Config reload refused (watch): {path}\n")
    assert f"{path}: {error}" in msg["text"]
    assert daemon.config is running_config       # the old config still runs
    refused = wait_for(lambda: [x for x in loads(engine) if not x.ok])[0]
    assert refused.who == "watch" and error in refused.error

    append(stream, line(5, "lumi toys again", 1))
    wait_for(lambda: brands(engine).get("5") == "Lumi Toys")   # still listening
    time.sleep(0.3)
    assert len(fake_slack.messages) == 1        # told once, not at every poll

    write_config(path, text)                    # fixed: taken over again
    wait_for(lambda: loads(engine)[-1].ok and len(loads(engine)) == 3)


def test_sighup_reloads_in_the_main_thread(tmp_path, fake_slack, sqlite_engine,
                                           make_classifier):
    stream = tmp_path / "stream.jsonl"
    stream.write_text(line(1, "lumitoys"))
    path = tmp_path / "config.yaml"
    write_config(path, CONFIG.format(extra="", slack=fake_slack.base_url).replace(
        "watch_config_every: 100ms", "watch_config_every: 1h"))
    config = load_config_file(path, env={})
    daemon = build_daemon(config, tmp_path, engine=sqlite_engine,
                          classifier=make_classifier(config), config_path=path)

    def hup_then_stop():
        try:
            wait_for(lambda: loads(sqlite_engine))
            write_config(path, CONFIG.format(extra=ACME, slack=fake_slack.base_url).replace(
                "watch_config_every: 100ms", "watch_config_every: 1h"))
            os.kill(os.getpid(), signal.SIGHUP)
            wait_for(lambda: len(loads(sqlite_engine)) == 2)
        finally:
            daemon.stop()
    helper = threading.Thread(target=hup_then_stop, daemon=True)
    helper.start()
    daemon.run()                                 # in the main thread: it owns the signals
    helper.join(timeout=5)
    assert [(x.ok, x.who) for x in loads(sqlite_engine)][1] == (True, "sighup")
    assert [b.name for b in daemon.config.brands] == ["Lumi Toys", "Acme"]


def test_what_waits_for_a_restart(demo_config):
    new = demo_config.model_copy(deep=True)
    new.classifier.batch_size = 8
    new.database.url = "sqlite:///other.db"
    assert needs_restart(demo_config, new) == ["database", "classifier"]
    assert needs_restart(demo_config, demo_config) == []
