"""Demo data for the web tests: the demo stream collected through the replay source, labelled by a
keyword stand-in for the model (fast, deterministic), detected into incidents by the real
detection step, plus an admin, an agent and one hostile mention."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from classifiers.base import Labels, TopicHit
from listener.daemon.runner import build_sources
from listener.pipeline.classify import classify
from listener.pipeline.collect import collect
from listener.pipeline.detect import detect
from listener.queue import users
from listener.storage.db import create_tables, make_engine
from listener.storage.models import Mention
from tests.conftest import ROOT

AT = datetime(2026, 10, 30, 16, 30, tzinfo=UTC)     # the web app's "now": the crisis growing
PASSWORD = "correct horse battery"
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
NEGATIVE = re.compile(r"burn|hot|broke|refund|terrible|worst|disappoint|fire|smok|hurt|melt|"
                      r"never again|awful|angry|late|missing|stopped working", re.I)
POSITIVE = re.compile(r"love|great|thank|amazing|perfect|favorite|awesome", re.I)


class KeywordClassifier:
    version = "test-keywords"

    def __init__(self, config) -> None:
        self.topics = {t.name: re.compile("|".join(
            re.escape(k).replace(r"\*", r"\w*").replace('"', "") for k in t.keywords), re.I)
            for t in config.topics if t.keywords}

    def classify(self, texts):
        out = []
        for text in texts:
            sentiment = ("negative" if NEGATIVE.search(text)
                         else "positive" if POSITIVE.search(text) else "neutral")
            topics = {name: TopicHit(1.0, f"keyword {m.group(0)!r}")
                      for name, rx in self.topics.items() if (m := rx.search(text))}
            out.append(Labels(sentiment, 0.9, topics,
                              complaint=0.8 if sentiment == "negative" else 0.1))
        return out


def seed(engine, config) -> None:
    sources = build_sources(config, ROOT, clock=lambda: AT)     # the stream up to AT
    collect(engine, config=config, name="replay", source=sources["replay"], now=AT)
    with Session(engine) as session:
        created = AT - timedelta(minutes=20)
        session.add(Mention(source="twitter", external_id="hostile-1", url="https://x.com/h/1",
                            author="mallory", author_reach=50_000, text=HOSTILE,
                            created_at=created, created_epoch=int(created.timestamp()),
                            collected_at=AT, brand=config.brands[0].name, raw={}))
        users.add_user(session, username="alice", password=PASSWORD, role="admin", now=AT)
        users.add_user(session, username="bob", password=PASSWORD, role="agent", now=AT)
        session.commit()
    classify(engine, classifier=KeywordClassifier(config), batch_size=256, now=AT)
    detect(engine, config=config, now=AT)


def seeded_database(folder: Path, config) -> Path:
    """A SQLite file holding the seeded demo data (the slow part, done once per module)."""
    path = folder / "seeded.db"
    engine = make_engine(f"sqlite:///{path}")
    create_tables(engine)
    seed(engine, config)
    engine.dispose()
    return path


def copy_of(seeded: Path, path: Path):
    """An engine on a fresh copy of a seeded database (SQLite's backup API), so that a test
    changes only its own copy."""
    with closing(sqlite3.connect(seeded)) as src, closing(sqlite3.connect(path)) as dst:
        src.backup(dst)
    return make_engine(f"sqlite:///{path}")
