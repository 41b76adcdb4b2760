"""An incident with messages in the outbox, written straight into a test database (for the
notify step's tests), and the outbox as it stands."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlmodel import Session, select

from listener.storage.models import Incident, OutboxMessage


def queue_messages(engine, *, kinds: Sequence[str], message: Callable[[int, str], dict],
                   now: datetime) -> None:
    """One incident and a message of each kind, in order; `message(incident_id, kind)` builds
    each; every message after the first is a reply in the first one's thread."""
    with Session(engine) as s:
        inc = Incident(key="k", rule="r", title="t", level=7, peak_level=7, opened_at=now,
                       last_signal_at=now, observed=3, expected=0, evidence={})
        s.add(inc)
        s.flush()
        first = None
        for i, kind in enumerate(kinds):
            row = OutboxMessage(incident_id=inc.id, dedup_key=f"k{i}", kind=kind,
                                channel="#crisis", message=message(inc.id, kind),
                                next_attempt_at=now, created_at=now,
                                first_id=first.id if first else None)
            s.add(row)
            s.flush()
            first = first or (row if kind == "first" else None)
        s.commit()


def outbox_rows(engine) -> list[OutboxMessage]:
    with Session(engine) as s:
        return list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)))
