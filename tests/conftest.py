from __future__ import annotations

import os
import uuid
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
CONFIG = ROOT / "config.yaml"
PG_ADMIN_URL = os.environ.get("LISTENER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# The store's two backends; the PostgreSQL run is marked so that `make check` can leave it out.
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
# The lanes' markers (pyproject.toml describes them); `make check` deselects all four.
LANES = ("postgresql", "browser", "model", "daemon")
DESELECTED = pytest.StashKey[dict]()     # node id -> its lanes


def pytest_addoption(parser):
    parser.addoption("--screenshots", metavar="DIR", type=Path, default=None,
                     help="write the browser tests' screenshots (the README's queue.png, "
                          "incident.png, dashboard.png) into DIR; without it they go to a "
                          "temporary directory (make screenshots passes docs)")


@pytest.hookimpl(tryfirst=True)     # before -m deselects by the markers set here
def pytest_collection_modifyitems(config, items):
    """A test whose fixtures load the model is marked so, wherever it is; the model's other
    uses (a CLI command, a subprocess) carry their marker in their module."""
    for item in items:
        if "classifier_parts" in item.fixturenames:
            item.add_marker(pytest.mark.model)


def pytest_deselected(items):
    left = items[0].config.stash.setdefault(DESELECTED, {})
    left.update({i.nodeid: _lanes(i) for i in items})


def _lanes(item) -> set[str]:
    return {lane for lane in LANES if item.get_closest_marker(lane)}


def pytest_sessionfinish(session):
    """Under pytest-xdist the workers collect and deselect: each hands its list to the
    controller, which prints the summary."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["left_out"] = {k: sorted(v) for k, v in session.config.stash.get(DESELECTED,
                                                                              {}).items()}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    left = node.config.stash.setdefault(DESELECTED, {})
    left.update({k: set(v) for k, v in node.workeroutput.get("left_out", {}).items()})


def pytest_terminal_summary(terminalreporter, config):
    """Says what a selection by marker (-m) left out, by marker and file, so that a green
    `make check` is not taken for the whole suite."""
    left = config.stash.get(DESELECTED, {})
    if not left or not config.getoption("markexpr"):
        return
    about = {name.strip(): text.strip() for name, _, text in
             (line.partition(":") for line in config.getini("markers"))}
    terminalreporter.section(f"{len(left)} tests left out of this run (make test runs them all)")
    for lane in (*LANES, "other"):
        tests = [n for n, lanes in left.items() if lane in lanes or (lane == "other" and not lanes)]
        if tests:
            files = Counter(n.split("::")[0].removeprefix("tests/") for n in tests)
            terminalreporter.write_line(
                f"{lane} ({len(tests)}): {about.get(lane, 'deselected by -k or -m')}")
            terminalreporter.write_line(
                "    " + ", ".join(f"{f} {n}" for f, n in sorted(files.items())))


def needs_shared(sub: str) -> Path:
    path = SHARED_DATA / sub
    if not path.exists():
        pytest.skip(f"needs ../shared/data/{sub} beside the project (absent in this clone)")
    return path


@pytest.fixture()
def recorded() -> Path:
    """The exchanges the platforms' client libraries recorded against the live APIs."""
    return needs_shared("recorded")


@pytest.fixture(scope="session")
def classifier_parts():
    """The built-in encoder and sentiment head, loaded once for the whole test session."""
    from classifiers.builtin import builtin_encoder
    from classifiers.sentiment import SentimentHead
    head = SentimentHead.load()
    return builtin_encoder(head, threads=2, fast=False), head


@pytest.fixture()
def demo_config():
    from listener.config import load_config_file
    return load_config_file(CONFIG, env={})


@pytest.fixture()
def make_classifier(classifier_parts):
    from classifiers.base import TopicSpec
    from classifiers.builtin import BuiltinClassifier

    def build(config):
        encoder, head = classifier_parts
        topics = [TopicSpec(t.name, t.description, tuple(t.keywords), tuple(t.examples),
                            t.similarity) for t in config.topics]
        return BuiltinClassifier(topics, encoder=encoder, head=head)
    return build


def _pg_database():
    """Create a throwaway PostgreSQL database; yields its URL; drops it afterwards."""
    import psycopg
    try:
        admin = psycopg.connect(PG_ADMIN_URL.replace("postgresql+psycopg", "postgresql"),
                                autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    name = f"listener_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path):
    """A fresh store on SQLite and on a real PostgreSQL (its own database per test)."""
    from listener.daemon.runner import make_engine
    from listener.storage.db import create_tables
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
        create_tables(eng)
        yield eng
        eng.dispose()
    else:
        gen = _pg_database()
        url = next(gen)
        eng = make_engine(url)
        create_tables(eng)
        yield eng
        eng.dispose()
        gen.close()


@pytest.fixture()
def sqlite_engine(tmp_path):
    from listener.storage.db import create_tables, make_engine
    eng = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    create_tables(eng)
    yield eng
    eng.dispose()


@pytest.fixture()
def fake_slack():
    from tests.fakes.slack import FakeSlack
    with FakeSlack() as slack:
        yield slack
