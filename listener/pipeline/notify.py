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
from listener.storage.models import OutboxMessage

log = logging.getLogger(__name__)


def _update_first(notifier: Notifier, first: OutboxMessage, message: dict) -> None:
    """chat.update of the incident's first message with its current state. Best effort: the
    thread reply carrying the news is already out; the next update brings the state again."""
    update = getattr(notifier, "update", None)
    if update is None or not first.slack_ts:
        return
    try:
        update(first.slack_channel or first.channel, first.slack_ts, message)
    except (RetryableNotifyError, PermanentNotifyError) as exc:
        log.warning("first message of incident %s not updated: %s", first.incident_id, exc)


def _upload_chart(notifier: Notifier, delivery: Delivery, spec: dict) -> None:
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


def notify(engine: Engine, *, notifier: Notifier, now: datetime, limit: int = 100) -> NotifyResult:
    """Deliver the due outbox rows in the order they were queued. A reply waits for its first
    message; a retryable failure holds back every row behind it (order is kept)."""
    result = NotifyResult(deliveries=[])
    with Session(engine) as session:
        due = list(session.exec(select(OutboxMessage).where(
            OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now,
        ).order_by(OutboxMessage.id).limit(limit)))
        for row in due:
            first = session.get(OutboxMessage, row.first_id) if row.first_id else None
            if first is not None and first.status == "pending":
                continue  # a reply goes out after the first message
            row.thread_ts = first.slack_ts if first is not None else None
            outcome, delivery = _attempt(session, row, notifier,
                                         Outgoing(row.channel, row.message, row.thread_ts), now,
                                         result)
            if outcome == "retry":
                break
            if delivery is None:
                continue
            if row.thread_ts and row.first_update:
                _update_first(notifier, first, row.first_update)
            if row.chart:
                _upload_chart(notifier, delivery, row.chart)
    return result


def _attempt(session: Session, row: OutboxMessage, notifier: Notifier, out: Outgoing,
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
        log.warning("%s message %s: %s; retrying in %.0fs", row.kind, row.id, exc, delay)
        result.retrying += 1
        return "retry", None
    except PermanentNotifyError as exc:
        row.status, row.last_error = "failed", str(exc)
        session.add(row)
        session.commit()
        log.error("%s message %s not delivered: %s", row.kind, row.id, exc)
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
