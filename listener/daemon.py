"""Build the daemon from a config: engine, clock, sources, classifier, notifier, scheduler.
No logic lives here beyond wiring; the steps are in `listener.pipeline` and `listener.detection`.
"""

from __future__ import annotations

import inspect
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from alerts.notifiers import ConsoleNotifier, Notifier, SlackNotifier
from classifiers.base import TopicSpec
from classifiers.errors import ModelError
from listener import pipeline, store
from listener.clock import ReplayClock, SystemClock
from listener.config import Config, database_url
from listener.db import create_tables, make_engine
from listener.detection import detect
from listener.errors import ListenerError
from listener.health import WaitCounter
from listener.sources import SOURCES
from listener.sources.replay import ReplaySource

log = logging.getLogger(__name__)


def build_engine(config: Config, config_dir: Path, url: str | None = None) -> Engine:
    engine = make_engine(url or database_url(config, config_dir))
    create_tables(engine)
    return engine


def build_classifier(config: Config):
    from classifiers.builtin import BuiltinClassifier

    settings = config.classifier
    topics = [TopicSpec(t.name, t.description, tuple(t.keywords), tuple(t.examples), t.similarity,
                        tuple(t.sentiments)) for t in config.topics]
    sentiment = zero_shot = None
    try:
        if settings.sentiment.model != "builtin":
            from classifiers.hf import HFSentiment
            sentiment = HFSentiment(settings.sentiment.model, labels=settings.sentiment.labels,
                                    threads=settings.threads)
        if settings.zero_shot is not None:
            from classifiers.hf import ZeroShotTopics
            zero_shot = ZeroShotTopics(settings.zero_shot.model,
                                       hypothesis=settings.zero_shot.hypothesis,
                                       threads=settings.threads)
        return BuiltinClassifier(topics, threads=settings.threads,
                                 batch_size=settings.batch_size, fast=settings.fast,
                                 sentiment=sentiment, zero_shot=zero_shot,
                                 zero_shot_threshold=(settings.zero_shot.threshold
                                                      if settings.zero_shot else 0.8))
    except ModelError as exc:
        raise ListenerError(f"classifier: {exc}") from None


def build_notifier(config: Config) -> Notifier:
    if config.slack.token is None:
        return ConsoleNotifier()
    from slack_sdk import WebClient

    kwargs = {"token": config.slack.token.get_secret_value(), "timeout": 15, "retry_handlers": []}
    if config.slack.base_url:
        kwargs["base_url"] = config.slack.base_url.rstrip("/") + "/"
    return SlackNotifier(WebClient(**kwargs))


def build_sources(config: Config, config_dir: Path, clock: Callable[[], datetime],
                  clocks: dict[str, Callable[[], datetime]] | None = None) -> dict:
    """One source per enabled config block, on `clock` (or its own entry in `clocks`). A source
    that waits out rate limits gets a counting sleep, kept as `source.waits` for its health."""
    out = {}
    queries = [b.query for b in config.brands]   # sources that search compile them
    for name, settings in config.enabled_sources().items():
        cls = SOURCES[name]
        counter = WaitCounter()
        extra = {"sleep": counter} if "sleep" in inspect.signature(cls).parameters else {}
        source = cls(settings, base_dir=config_dir, clock=(clocks or {}).get(name, clock),
                     queries=queries, **extra)
        if extra:
            source.waits = counter
        out[name] = source
    return out


def build_clock(config: Config, config_dir: Path, engine: Engine):
    """A replay config runs on simulated time, resuming where the replay's cursor stopped."""
    settings = config.enabled_sources().get("replay")
    if settings is None:
        return SystemClock()
    with Session(engine) as session:
        cursor = store.source_state(session, name="replay").cursor or {}
    if cursor.get("at"):
        start = datetime.fromisoformat(cursor["at"])
    else:
        start = settings.start or ReplaySource(settings, base_dir=config_dir,
                                               clock=SystemClock()).first_time()
    if start is None:
        raise ListenerError(f"the replay file {settings.path} holds no readable mention")
    return ReplayClock(start, settings.speed)


@dataclass
class Daemon:
    config: Config
    config_dir: Path
    engine: Engine
    clock: object
    sources: dict
    classifier: object
    notifier: Notifier
    stop_when_done: bool = False
    on_tick: Callable[[Daemon], None] | None = None
    stopped: threading.Event = field(default_factory=threading.Event)
    finished: bool = False

    # -- jobs -----------------------------------------------------------------------------
    def job_collect(self, name: str) -> None:
        pipeline.collect(self.engine, config=self.config, name=name, source=self.sources[name],
                         now=self.clock.now())

    def job_classify(self) -> None:
        pipeline.classify(self.engine, classifier=self.classifier,
                          batch_size=self.config.classifier.batch_size, now=self.clock.now(),
                          max_batches=20)

    def job_detect(self) -> None:
        detect(self.engine, config=self.config, now=self.clock.now())

    def job_notify(self) -> None:
        pipeline.notify(self.engine, notifier=self.notifier, now=self.clock.now())

    def _guard(self, fn, *args):
        def run():
            try:
                fn(*args)
            except ListenerError as exc:
                log.error("%s: %s", fn.__name__, exc)
            except Exception:  # a job failing must not take the daemon down
                log.exception("%s failed", fn.__name__)
            if self.on_tick:
                self.on_tick(self)
        return run

    # -- running ----------------------------------------------------------------------------
    def interval(self, every) -> float:
        return max(0.2, every.total_seconds() / self.clock.speed)

    def done(self) -> bool:
        """All finite sources exhausted and every mention classified (demo and tests)."""
        with Session(self.engine) as session:
            states = [store.source_state(session, name=n) for n in self.sources]
            pending = store.unclassified(session, limit=1)
        return all(s.exhausted for s in states) and not pending

    def run(self) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        workers = 1 if self.engine.dialect.name == "sqlite" else 4
        if self.clock.speed > 1:
            # on a compressed clock, jobs overlapping their interval is expected, not news
            logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
        scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(workers)},
                                        job_defaults={"coalesce": True, "max_instances": 1,
                                                      "misfire_grace_time": None})
        sched = self.config.schedule
        for name, settings in self.config.enabled_sources().items():
            scheduler.add_job(self._guard(self.job_collect, name), "interval",
                              seconds=self.interval(settings.every), id=f"collect:{name}")
        scheduler.add_job(self._guard(self.job_classify), "interval",
                          seconds=self.interval(sched.classify_every), id="classify")
        scheduler.add_job(self._guard(self.job_detect), "interval",
                          seconds=self.interval(sched.detect_every), id="detect")
        scheduler.add_job(self._guard(self.job_notify), "interval",
                          seconds=self.interval(sched.notify_every), id="notify")
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, lambda *_: self.stopped.set())
        scheduler.start()
        log.info("listening: %d source(s), %d rule(s)", len(self.sources),
                 len(self.config.alerts.rules))
        try:
            while not self.stopped.wait(0.5):
                if self.stop_when_done and self.done():
                    # one last detect and notify on the final state, then stop
                    scheduler.pause()
                    self.job_detect()
                    self.job_notify()
                    self.finished = True
                    break
        finally:
            scheduler.shutdown(wait=True)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            log.info("stopped")

    def stop(self) -> None:
        self.stopped.set()


def build_daemon(config: Config, config_dir: Path, *, engine: Engine | None = None,
                 notifier: Notifier | None = None, classifier=None,
                 stop_when_done: bool = False) -> Daemon:
    engine = engine or build_engine(config, config_dir)
    classifier = classifier or build_classifier(config)   # slow: before the clock starts
    notifier = notifier or build_notifier(config)
    clock = build_clock(config, config_dir, engine)
    return Daemon(config=config, config_dir=config_dir, engine=engine, clock=clock,
                  sources=build_sources(config, config_dir, clock), classifier=classifier,
                  notifier=notifier, stop_when_done=stop_when_done)
