"""The notify step: the outbox to the notifier (Slack, a webhook or the console), oldest first.
A row is marked sent only after the notifier returned; retryable failures stay pending with
backoff (Slack's Retry-After honoured) and hold back the rows behind them; permanent ones are
marked failed."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from alerts.chart import chart_from_spec
from alerts.errors import PermanentNotifyError, RetryableNotifyError
from alerts.notifiers import Delivery, Notifier, Outgoing
from listener.storage.models import Notification, Post

log = logging.getLogger(__name__)


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
