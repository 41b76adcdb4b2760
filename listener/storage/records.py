"""Plain records of stored rows, for the CLI's listings and the web API (the CLI's text
tables are `listener.cli.tables`)."""

from __future__ import annotations

from sqlmodel import select

from listener.storage.models import Incident, Label, Mention, Notification


def mention_record(m: Mention, lab: Label | None) -> dict:
    return {
        "id": m.id, "source": m.source, "external_id": m.external_id, "url": m.url,
        "author": m.author, "author_reach": m.author_reach,
        "created_at": m.created_at.isoformat().replace("+00:00", "Z"),
        "text": m.text, "lang": m.lang, "brand": m.brand, "product": m.product,
        "sentiment": lab.sentiment if lab else None,
        "sentiment_score": lab.sentiment_score if lab else None,
        "topics": lab.topics if lab else {},
        "complaint": lab.complaint if lab else None,
        "model_version": lab.model_version if lab else None,
    }


def incident_records(session) -> list[dict]:
    out = []
    for inc in session.exec(select(Incident).order_by(Incident.id.desc())):
        notes = list(session.exec(select(Notification).where(
            Notification.incident_id == inc.id).order_by(Notification.id)))
        out.append({
            "id": inc.id, "key": inc.key, "rule": inc.rule, "status": inc.status,
            "level": inc.level, "peak_level": inc.peak_level, "title": inc.title,
            "opened_at": inc.opened_at.isoformat(), "resolved_at":
                inc.resolved_at.isoformat() if inc.resolved_at else None,
            "observed": inc.observed, "expected": inc.expected,
            "reason": inc.evidence.get("reason"),
            "notifications": ", ".join(f"{n.kind}:{n.status}" for n in notes),
            "deliveries": [{"kind": n.kind, "status": n.status, "channel": n.channel,
                            "delivered_to": n.delivered_to, "slack_ts": n.slack_ts,
                            "error": n.last_error} for n in notes],
        })
    return out

