"""`listener bench classify|queue`: benchmarks that print figures (medians of several runs),
never assertions."""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from listener.cli.classifier import configured_classifier
from listener.cli.context import SHARED, Ctx
from listener.errors import ListenerError


def _bench_texts(n: int) -> list[str]:
    path = SHARED / "sentiment" / "val_text.txt"
    if path.is_file():
        base = path.read_text(encoding="utf-8").splitlines()
    else:
        from listener.sources.contract import SourceContext
        from listener.sources.replay import ReplaySettings, ReplaySource
        src = ReplaySource(SourceContext(ReplaySettings(), base_dir=Path("."), clock=lambda: None))
        base = [m.text for m in src._read({"offset": 0}, until=None).mentions]
    return (base * (n // len(base) + 1))[:n]


@click.group()
def bench() -> None:
    """Benchmarks (figures, not assertions)."""


@bench.command("classify")
@click.option("--n", default=2000, show_default=True, help="mentions per run")
@click.option("--runs", default=5, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def bench_classify(obj: Ctx, n: int, runs: int, as_json: bool) -> None:
    """Mentions per second through the configured classifier (loaded once), median of runs."""
    import psutil
    texts = _bench_texts(n)
    classifier = configured_classifier(obj)
    classifier.classify(texts[:64])  # warm up
    rates = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for s in range(0, len(texts), 256):
            classifier.classify(texts[s:s + 256])
        rates.append(len(texts) / (time.perf_counter() - t0))
    rss = psutil.Process().memory_info().rss / 2**20
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {"mentions_per_s": round(statistics.median(rates), 1),
              "runs": [round(r, 1) for r in rates], "n": n, "peak_rss_mb": round(peak, 1),
              "rss_mb": round(rss, 1), "model": classifier.version,
              "threads": obj.config.classifier.threads if obj.config_path.exists() else None}
    if as_json:
        click.echo(json.dumps(report))
        return
    click.echo(f"{report['mentions_per_s']:.0f} mentions/s (median of {runs} runs of {n}: "
               + ", ".join(f"{r:.0f}" for r in rates) + f"); peak RSS {peak:.0f} MB; "
               f"model {classifier.version}")


@bench.command("queue")
@click.option("--rows", default=1_000_000, show_default=True, help="synthetic mentions")
@click.option("--requests", "n_requests", default=7, show_default=True,
              help="first-page requests timed")
@click.option("--db", type=click.Path(path_type=Path), default=None,
              help="scratch SQLite file (default: a temporary one, removed afterwards)")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def bench_queue(obj: Ctx, rows: int, n_requests: int, db: Path | None, as_json: bool) -> None:
    """Time the queue's first page over ROWS synthetic mentions in a scratch SQLite store."""
    with tempfile.TemporaryDirectory() as tmp:
        path = db or Path(tmp) / "bench.db"
        if path.exists():
            raise ListenerError(f"{path} exists; the benchmark fills a fresh file")
        report = _bench_queue(obj, path, rows, n_requests)
    if as_json:
        click.echo(json.dumps(report))
        return
    click.echo(f"{rows} mentions: filled in {report['fill_s']} s, triage rows in "
               f"{report['sync_s']} s; first page (HTTP, 50 rows) median "
               f"{report['first_page_ms']} ms of {n_requests} "
               f"({', '.join(str(x) for x in report['first_page_runs_ms'])}); filtered "
               f"(brand + negative) {report['filtered_page_ms']} ms; a later page "
               f"{report['later_page_ms']} ms")


def _bench_queue(obj: Ctx, path: Path, rows: int, n_requests: int) -> dict:
    from fastapi.testclient import TestClient
    from sqlmodel import Session

    from listener.config import load_config
    from listener.queue import triage, users
    from listener.storage.db import create_tables, make_engine
    from listener.web import create_app

    config = obj.config if obj.config_path.exists() else load_config(
        "brands: [{name: Bench, query: bench}]")
    engine = make_engine(f"sqlite:///{path}")
    create_tables(engine)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    t0 = time.perf_counter()
    _fill(engine, config, rows, int(now.timestamp()))
    fill = time.perf_counter() - t0
    severities = {t.name: t.severity for t in config.topics}
    t0 = time.perf_counter()
    with Session(engine) as session:
        triage.sync_triage(session, severities=severities, new_batch=None)
        session.commit()
        users.add_user(session, username="bench", password="bench-password", role="agent",
                       now=now)
        session.commit()
    sync = time.perf_counter() - t0
    app = create_app(config, engine, lambda: now, secret_key="bench")
    brand = config.brands[0].name

    def timed(client, url: str) -> float:
        t = time.perf_counter()
        res = client.get(url)
        assert res.status_code == 200, res.status_code
        return (time.perf_counter() - t) * 1000

    with TestClient(app) as client:
        login = client.get("/login")
        token = login.text.split('name="csrf_token" value="')[1].split('"')[0]
        client.post("/login", data={"username": "bench", "password": "bench-password",
                                    "csrf_token": token})
        timed(client, "/queue")                              # warm the caches
        runs = [timed(client, "/queue") for _ in range(n_requests)]
        filtered = [timed(client, f"/queue?brand={brand}&sentiment=negative")
                    for _ in range(n_requests)]
        page = client.get("/queue").text
        nxt = page.split('class="next" href="')[1].split('"')[0].replace("&amp;", "&")
        later = [timed(client, nxt) for _ in range(n_requests)]
    engine.dispose()
    return {"rows": rows, "fill_s": round(fill, 1), "sync_s": round(sync, 1),
            "first_page_ms": round(statistics.median(runs), 1),
            "first_page_runs_ms": [round(r, 1) for r in runs],
            "filtered_page_ms": round(statistics.median(filtered), 1),
            "later_page_ms": round(statistics.median(later), 1), "page_size": 50,
            "database": "sqlite"}


def _fill(engine, config, rows: int, until: int) -> None:
    """Bulk insert synthetic mentions (a week up to `until`), labels and topics, raw SQL."""
    rnd = random.Random(7)
    brands = [b.name for b in config.brands]
    topics = [t.name for t in config.topics]
    sources = ["twitter", "reddit", "appstore", "trustpilot", "bluesky", "mastodon"]
    sentiments = ["negative", "neutral", "positive"]
    from listener.storage.models import Label, Mention, MentionTopic

    extra = tuple(_defaults(Mention, MENTION_COLS).values())
    collected = datetime.fromtimestamp(until, UTC).replace(tzinfo=None).isoformat(" ")
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        raw.execute("PRAGMA synchronous=OFF")
        for start in range(0, rows, 50_000):
            ids = range(start + 1, min(rows, start + 50_000) + 1)
            ments, labs, tops = [], [], []
            for i in ids:
                epoch = until - rnd.randrange(7 * 86400)
                created = datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None).isoformat(" ")
                text = f"synthetic mention {i} about {rnd.choice(brands)}" + (
                    "?" if i % 9 == 0 else "")
                ments.append((i, rnd.choice(sources), str(i), "", f"user{i % 50_000}",
                              int(rnd.paretovariate(1.2) * 10), text, "en", created, epoch,
                              collected, rnd.choice(brands), None, "{}"))
                labs.append((i, rnd.choice(sentiments), 0.9, "{}", rnd.random(), "bench",
                             collected))
                if topics and i % 20 == 0:
                    tops.append((i, rnd.choice(topics), 0.9, epoch))
            raw.executemany(_insert_sql(Mention, MENTION_COLS), [r + extra for r in ments])
            raw.executemany(_insert_sql(Label, LABEL_COLS), labs)
            raw.executemany(_insert_sql(MentionTopic, TOPIC_COLS), tops)


MENTION_COLS = ("id", "source", "external_id", "url", "author", "author_reach", "text", "lang",
                "created_at", "created_epoch", "collected_at", "brand", "product", "raw")
LABEL_COLS = ("mention_id", "sentiment", "sentiment_score", "topics", "complaint",
              "model_version", "classified_at")
TOPIC_COLS = ("mention_id", "topic", "score", "created_epoch")


def _defaults(model, given: tuple[str, ...]) -> dict:
    """Required columns the benchmark does not set, with their scalar defaults."""
    return {c.name: c.default.arg for c in model.__table__.columns
            if c.name not in given and not c.nullable and c.default is not None
            and c.default.is_scalar}


def _insert_sql(model, given: tuple[str, ...]) -> str:
    cols = [*given, *_defaults(model, given)]
    return (f"INSERT INTO {model.__tablename__} ({', '.join(cols)}) "
            f"VALUES ({', '.join('?' * len(cols))})")
