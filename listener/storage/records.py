"""Plain records of stored rows, for the CLI's listings and the web API (the CLI's text
tables are `listener.cli.tables`; an incident's record is `incidents.reading.incident_records`)."""

from __future__ import annotations

from listener.storage.models import Label, Mention


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
