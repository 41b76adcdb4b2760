"""Build the daemon from a config: engine, clock, sources, classifier, notifier, scheduler.
No logic lives here beyond wiring; the steps are in `listener.pipeline` `listener.pipeline.detect`.
"""

from __future__ import annotations

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
from alerts.pacing import Pacer
from classifiers.base import TopicSpec
from classifiers.errors import ModelError
from listener.clock import ReplayClock, SystemClock
from listener.config import Config, database_url
from listener.errors import ListenerError
from listener.pipeline.classify import classify
from listener.pipeline.collect import collect
from listener.pipeline.detect import detect
from listener.pipeline.notify import notify
from listener.sources import SOURCES
from listener.sources.contract import SourceContext
from listener.sources.replay import ReplaySource
from listener.storage import store
from listener.storage.db import create_tables, make_engine

log = logging.getLogger(__name__)


def build_engine(config: Config, config_dir: Path, url: str | None = None) -> Engine:
    engine = make_engine(url or database_url(config, config_dir))
    create_tables(engine)
    return engine


def topic_specs(config: Config) -> list[TopicSpec]:
    return [TopicSpec(t.name, t.description, tuple(t.keywords), tuple(t.examples), t.similarity,
                      tuple(t.sentiments)) for t in config.topics]


def build_classifier(config: Config):
    from classifiers.builtin import BuiltinClassifier

    settings = config.classifier
    topics = topic_specs(config)
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
        multilingual = languages = None
        if settings.multilingual is not None:
            from classifiers.hf import HFSentiment
            from classifiers.language import LanguageDetector
            multilingual = HFSentiment(settings.multilingual.model,
                                       labels=settings.multilingual.labels,
                                       threads=settings.threads)
            languages = LanguageDetector(settings.multilingual.languages)
        return BuiltinClassifier(topics, threads=settings.threads,
                                 multilingual=multilingual, languages=languages,
                                 batch_size=settings.batch_size, fast=settings.fast,
                                 sentiment=sentiment, zero_shot=zero_shot,
                                 zero_shot_threshold=(settings.zero_shot.threshold
                                                      if settings.zero_shot else 0.8))
    except ModelError as exc:
        raise ListenerError(f"classifier: {exc}") from None


def build_notifier(config: Config, *, pacer: Pacer | None = None) -> Notifier:
    """A bot token's SlackNotifier, an incoming webhook's WebhookNotifier, or the console.
    Posts to one channel are paced (about one a second, what Slack allows)."""
    pacer = pacer or Pacer(1.0)
    if config.slack.webhook_url is not None:
        from slack_sdk.webhook import WebhookClient

        from alerts.webhook import WebhookNotifier, quiet_logger
        log.info("Slack through an incoming webhook: every message goes to its one channel; "
                 "no threads, message updates or charts (a bot token has them)")
        return WebhookNotifier(WebhookClient(config.slack.webhook_url.get_secret_value(),
                                             timeout=15, retry_handlers=[],
                                             logger=quiet_logger()), pacer)
    if config.slack.token is None:
        return ConsoleNotifier()
    from slack_sdk import WebClient

    kwargs = {"token": config.slack.token.get_secret_value(), "timeout": 15, "retry_handlers": []}
    if config.slack.base_url:
        kwargs["base_url"] = config.slack.base_url.rstrip("/") + "/"
    return SlackNotifier(WebClient(**kwargs), pacer)


def build_sources(config: Config, config_dir: Path, clock: Callable[[], datetime],
                  clocks: dict[str, Callable[[], datetime]] | None = None) -> dict:
    """One source per enabled config block, on `clock` (or its own entry in `clocks`), each
    built from its own SourceContext: its wait counter is what collect records as its health."""
    queries = [b.query for b in config.brands]   # sources that search compile them
    return {name: SOURCES[name](SourceContext(settings, base_dir=config_dir,
                                              clock=(clocks or {}).get(name, clock),
                                              queries=queries))
            for name, settings in config.enabled_sources().items()}


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
        start = settings.start or ReplaySource(
            SourceContext(settings, base_dir=config_dir, clock=SystemClock())).first_time()
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
    config_path: Path | None = None     # watched and reloaded (SIGHUP too) when given
    config_hash: str = ""
    config_stamp: tuple | None = None
    pending_stamp: tuple | None = None
    reload_requested: threading.Event = field(default_factory=threading.Event)
    on_reload: list[Callable[[Config], None]] = field(default_factory=list)   # e.g. the web app
    _swap: threading.RLock = field(default_factory=threading.RLock)
    _scheduler: object = None

    # -- jobs -----------------------------------------------------------------------------
    def job_collect(self, name: str) -> None:
        config, source = self.config, self.sources.get(name)
        if source is not None:   # None: removed by a reload since this run was scheduled
            collect(self.engine, config=config, name=name, source=source,
                             now=self.clock.now())

    def job_classify(self) -> None:
        with self._swap:   # a reload swapping the topics waits for the batch in flight
            classify(self.engine, classifier=self.classifier,
                              batch_size=self.config.classifier.batch_size, now=self.clock.now(),
                              max_batches=20)

    def job_detect(self) -> None:
        detect(self.engine, config=self.config, now=self.clock.now())

    def job_notify(self) -> None:
        notify(self.engine, notifier=self.notifier, now=self.clock.now())

    def job_reminders(self) -> None:
        from listener.pipeline.reminders import queue_reminders
        queue_reminders(self.engine, config=self.config, now=self.clock.now())

    def job_digest(self) -> None:
        from listener.pipeline.digest import queue_digest
        queue_digest(self.engine, config=self.config, now=self.clock.now())

    def job_watch_config(self) -> None:
        from listener.daemon.reload import file_stamp
        if self.config_path is None:
            return
        stamp = file_stamp(self.config_path)
        if stamp == self.config_stamp:
            return
        if stamp != self.pending_stamp:   # maybe still being written: read it once it settles
            self.pending_stamp = stamp
            return
        self.reload("watch")

    # -- config reload ----------------------------------------------------------------------
    def reload(self, who: str) -> bool:
        """Load the config file again. A config that fails validation is refused (logged,
        recorded, posted to the admin channel) and the running one stays; a good one replaces
        it between jobs: queries, topics (the topic matcher only), rules, thresholds, channels,
        schedules. Returns whether the new config is running."""
        from listener.daemon import reload as rl
        cand = rl.read_candidate(self.config_path)
        if cand.digest and cand.digest == self.config_hash:
            self.config_stamp = cand.stamp     # touched, not changed
            return True
        self.config_stamp = cand.stamp
        if cand.config is None:
            log.error("config reload refused (%s); the running config stays:\n%s", who,
                      cand.error)
            rl.record_load(self.engine, path=cand.path, digest=cand.digest, ok=False, who=who,
                           error=cand.error)
            rl.tell_admin(self.notifier, self.config,
                          rl.refused_message(cand.path, who, cand.error))
            self.config_hash = cand.digest     # told once; the next save is tried again
            return False
        old, new = self.config, cand.config
        restart = rl.needs_restart(old, new)
        with self._swap:
            self._apply(old, new)
        changes = ", ".join(rl.changed_sections(old, new)) or "nothing"
        if restart:
            changes += "; after a restart: " + ", ".join(restart)
            log.warning("config reloaded; these settings take effect after a restart: %s",
                        ", ".join(restart))
        log.info("config reloaded (%s): changed %s", who, changes)
        rl.record_load(self.engine, path=cand.path, digest=cand.digest, ok=True, who=who,
                       changes=changes)
        self.config_hash = cand.digest
        return True

    def _apply(self, old: Config, new: Config) -> None:
        if topic_specs(old) != topic_specs(new) and hasattr(self.classifier, "set_topics"):
            self.classifier.set_topics(topic_specs(new))
        if old.brands != new.brands or old.sources != new.sources:
            self.sources = build_sources(new, self.config_dir, self.clock)
        if old.slack != new.slack:
            self.notifier = build_notifier(new)
        self.config = new
        for hook in self.on_reload:
            hook(new)
        if self._scheduler is not None:
            self._schedule(self._scheduler, new)

    def _schedule(self, scheduler, config: Config) -> None:
        """Add, reschedule or remove jobs to fit the config (a job in flight runs to its end)."""
        sched = config.schedule
        wanted = {f"collect:{n}": (self._guard(self.job_collect, n), self.interval(s.every))
                  for n, s in config.enabled_sources().items()}
        wanted["classify"] = (self._guard(self.job_classify), self.interval(sched.classify_every))
        wanted["detect"] = (self._guard(self.job_detect), self.interval(sched.detect_every))
        wanted["notify"] = (self._guard(self.job_notify), self.interval(sched.notify_every))
        if config.queue.sla_reminders is not None:
            wanted["sla-reminders"] = (self._guard(self.job_reminders),
                                       self.interval(sched.reminders_every))
        if config.digest is not None:
            wanted["digest"] = (self._guard(self.job_digest), self.interval(sched.reminders_every))
        if self.config_path is not None:
            wanted["watch-config"] = (self._guard(self.job_watch_config),
                                      max(0.1, sched.watch_config_every.total_seconds()))
        for job in scheduler.get_jobs():
            if job.id not in wanted:
                job.remove()
        for job_id, (fn, seconds) in wanted.items():
            job = scheduler.get_job(job_id)
            if job is None:
                scheduler.add_job(fn, "interval", seconds=seconds, id=job_id)
            elif abs(job.trigger.interval.total_seconds() - seconds) > 1e-3:
                job.reschedule("interval", seconds=seconds)

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
        self._scheduler = scheduler
        self._schedule(scheduler, self.config)
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, lambda *_: self.stopped.set())
            previous[signal.SIGHUP] = signal.signal(signal.SIGHUP,
                                                    lambda *_: self.reload_requested.set())
        if self.config_path is not None:
            self._record_start()
        scheduler.start()
        log.info("listening: %d source(s), %d rule(s)", len(self.sources),
                 len(self.config.alerts.rules))
        try:
            while not self.stopped.wait(0.5):
                if self.reload_requested.is_set():
                    self.reload_requested.clear()
                    self.reload("sighup")
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

    def _record_start(self) -> None:
        from listener.daemon import reload as rl
        cand = rl.read_candidate(self.config_path)
        self.config_hash, self.config_stamp = cand.digest, cand.stamp
        rl.record_load(self.engine, path=self.config_path, digest=cand.digest, ok=True,
                       who=rl.os_user(), changes="started")


def build_daemon(config: Config, config_dir: Path, *, engine: Engine | None = None,
                 notifier: Notifier | None = None, classifier=None,
                 stop_when_done: bool = False, config_path: Path | None = None) -> Daemon:
    """`config_path`: the file `config` was read from, watched and reloaded while running."""
    engine = engine or build_engine(config, config_dir)
    classifier = classifier or build_classifier(config)   # slow: before the clock starts
    notifier = notifier or build_notifier(config)
    clock = build_clock(config, config_dir, engine)
    return Daemon(config=config, config_dir=config_dir, engine=engine, clock=clock,
                  sources=build_sources(config, config_dir, clock), classifier=classifier,
                  notifier=notifier, stop_when_done=stop_when_done, config_path=config_path)
