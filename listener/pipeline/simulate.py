"""Run the pipeline on a simulated clock, step by step, as fast as the machine allows.

The same steps the daemon schedules (collect, classify, detect, notify) are called in order at
each simulated `now`; tests and the backtest use it to replay a period deterministically.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from listener.config import Config
from listener.pipeline.classify import classify
from listener.pipeline.collect import collect
from listener.pipeline.detect import Taken, detect
from listener.pipeline.notify import notify


def step_through(engine: Engine, *, config: Config, sources: dict, classifier, notifier,
                 start: datetime, end: datetime, step: timedelta, clock: list[datetime],
                 on_step: Callable[[datetime, list[Taken]], None] | None = None) -> list[Taken]:
    """`clock` is a one-item list the sources read their `now` from; it is advanced here."""
    taken: list[Taken] = []
    now = start
    while now <= end:
        clock[0] = now
        for name, source in sources.items():
            collect(engine, config=config, name=name, source=source, now=now)
        classify(engine, classifier=classifier,
                          batch_size=config.classifier.batch_size, now=now)
        decided = detect(engine, config=config, now=now)
        notify(engine, notifier=notifier, now=now)
        taken += decided
        if on_step:
            on_step(now, decided)
        now += step
    return taken
