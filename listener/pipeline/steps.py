"""The pipeline steps, one function each. Collaborators and `now` come in as arguments, so the
scheduler, the CLI, the demo and the tests all run the same code.

collect   source.fetch(cursor) -> query match -> store (cursor moves in the same transaction)
classify  unclassified mentions -> classifier -> labels with the model version
detect    SQL counts -> detectors -> lifecycle decisions -> incidents, decision log, outbox
notify    outbox -> notifier; retryable failures stay pending with backoff
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from alerts.chart import chart_from_spec
from alerts.errors import PermanentNotifyError, RetryableNotifyError
from alerts.notifiers import Delivery, Notifier, Outgoing
from listener.config.model import Config
from listener.errors import PermanentSourceError, SourceError
from listener.pipeline import health
from listener.query.matching import match_mention
from listener.storage import store
from listener.storage.models import Notification, Post

log = logging.getLogger(__name__)


@dataclass
class CollectResult:
    source: str
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    dropped: int = 0
    malformed: int = 0
    exhausted: bool = False
    error: str | None = None


def collect(engine: Engine, *, config: Config, name: str, source, now: datetime) -> CollectResult:
    """One run of one source; its health (listener.pipeline.health) is recorded with what it stored."""
    with Session(engine) as session:
        cursor = store.source_state(session, name=name).cursor
    counter = getattr(source, "waits", None)   # a health.WaitCounter given by build_sources
    waits_before = counter.count if counter is not None else 0
    try:
        batch = source.fetch(cursor)
    except SourceError as exc:
        waits = counter.count - waits_before if counter is not None else 0
        with Session(engine) as session:
            state = store.source_state(session, name=name)
            health.record_failure(state, exc=exc, waits=waits, now=now)
            failing, in_a_row = health.failing(state), state.consecutive_failures
            session.add(state)
            session.commit()
        if failing:
            log.error("source %s has failed %d runs in a row; last error: %s", name, in_a_row,
                      exc)
        if isinstance(exc, PermanentSourceError):
            raise
        if not failing:
            log.warning("source %s: %s (will retry)", name, exc)
        return CollectResult(name, error=str(exc))
    waits = counter.count - waits_before if counter is not None else 0
    rows, dropped = [], 0
    for m in batch.mentions:
        match = match_mention(config, m)
        if match is None:
            dropped += 1
        else:
            rows.append((m, match.brand, match.product))
    with Session(engine) as session:
        stored, dups = store.add_mentions(
            session, source_name=name, mentions=rows, cursor=batch.cursor,
            fetched=len(batch.mentions), dropped=dropped, malformed=batch.malformed,
            exhausted=batch.exhausted, now=now)
        health.record_success(store.source_state(session, name=name),
                              fetched=len(batch.mentions), waits=waits, now=now,
                              newest=max((m.created_at for m in batch.mentions), default=None))
        session.commit()
    return CollectResult(name, len(batch.mentions), stored, dups, dropped, batch.malformed,
                         batch.exhausted)


def classify(engine: Engine, *, classifier, batch_size: int, now: datetime,
             max_batches: int | None = None) -> int:
    """Label every unclassified mention (batch by batch, each batch one transaction)."""
    done = batches = 0
    while max_batches is None or batches < max_batches:
        with Session(engine) as session:
            todo = store.unclassified(session, limit=batch_size)
            if not todo:
                break
            labels = classifier.classify([m.text for m in todo])
            store.save_labels(session, mentions=todo, labels=labels, version=classifier.version,
                              now=now)
            session.commit()
        done += len(todo)
        batches += 1
    return done


def _update_first(notifier: Notifier, first: Notification, message: dict) -> None:
    """chat.update of the incident's first message with its current state. Best effort: the
    thread reply carrying the news is already out; the next update brings the state again."""
    update = getattr(notifier, "update", None)
    if update is None or not first.slack_ts:
        return
    try:
        update(first.slack_channel or first.channel, first.slack_ts, message)
    except (RetryableNotifyError, PermanentNotifyError) as exc:
        log.warning("first message of incident %s not updated: %s", first.incident_id, exc)


def _upload_chart(notifier: Notifier, delivery, spec: dict) -> None:
    """The chart into the first message's thread. Best effort: the message stands without."""
    upload = getattr(notifier, "upload_chart", None)
    if upload is None or not delivery.ts:
        return
    try:
        upload(delivery.channel, delivery.ts, chart_from_spec(spec), spec.get("title", "chart"))
    except (RetryableNotifyError, PermanentNotifyError) as exc:
        log.warning("chart of %s not uploaded: %s", delivery.where, exc)


@dataclass
class NotifyResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    deliveries: list[str] | None = None


def notify(engine: Engine, *, notifier: Notifier, now: datetime, limit: int = 50) -> NotifyResult:
    """Deliver due notifications in order, then due posts (reminders, digests). A row is marked
    sent only after the notifier returned; retryable failures stay pending with backoff;
    permanent ones are marked failed."""
    result = NotifyResult(deliveries=[])
    with Session(engine) as session:
        due = list(session.exec(select(Notification).where(
            Notification.status == "pending", Notification.next_attempt_at <= now,
        ).order_by(Notification.id).limit(limit)))
        for n in due:
            thread_ts = None
            if n.kind != "first":
                first = session.exec(select(Notification).where(
                    Notification.incident_id == n.incident_id, Notification.kind == "first",
                )).first()
                if first is not None and first.status == "pending":
                    continue  # reply after the first message is out
                thread_ts = first.slack_ts if first is not None else None
            n.thread_ts = thread_ts
            outcome, delivery = _attempt(session, n, notifier,
                                         Outgoing(n.channel, n.message, thread_ts), now, result)
            if outcome == "retry":
                break  # keep order: later messages wait for this one
            if delivery is None:
                continue
            if thread_ts and n.message.get("update"):
                _update_first(notifier, first, n.message["update"])
            if n.kind == "first" and n.message.get("chart"):
                _upload_chart(notifier, delivery, n.message["chart"])
        if result.retrying:
            return result
        posts = list(session.exec(select(Post).where(
            Post.status == "pending", Post.next_attempt_at <= now,
        ).order_by(Post.id).limit(limit)))
        for post in posts:
            outcome, _ = _attempt(session, post, notifier,
                                  Outgoing(post.channel, post.message), now, result)
            if outcome == "retry":
                break
    return result


def _attempt(session: Session, row: Notification | Post, notifier: Notifier, out: Outgoing,
             now: datetime, result: NotifyResult) -> tuple[str, Delivery | None]:
    """One delivery of an outbox row, its outcome recorded and committed: sent, retry (pending,
    with backoff or Slack's Retry-After) or failed."""
    row.attempts += 1
    try:
        delivery = notifier.send(out)
    except RetryableNotifyError as exc:
        delay = exc.retry_after or min(600.0, 5.0 * 2 ** (row.attempts - 1))
        row.next_attempt_at = now + timedelta(seconds=delay)
        row.last_error = str(exc)
        session.add(row)
        session.commit()
        log.warning("%s %s: %s; retrying in %.0fs", type(row).__name__.lower(), row.id, exc,
                    delay)
        result.retrying += 1
        return "retry", None
    except PermanentNotifyError as exc:
        row.status, row.last_error = "failed", str(exc)
        session.add(row)
        session.commit()
        log.error("%s %s not delivered: %s", type(row).__name__.lower(), row.id, exc)
        result.failed += 1
        return "failed", None
    row.status, row.sent_at = "sent", now
    row.slack_ts, row.delivered_to, row.slack_channel = delivery.ts, delivery.where, \
        delivery.channel
    session.add(row)
    session.commit()
    result.sent += 1
    result.deliveries.append(delivery.where)
    return "sent", delivery
