"""Silences and group_wait in the detect step: a silenced incident opens without a message and
the decision names the silence; when the silence ends, the first message goes out, held for
group_wait."""

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from listener.config import load_config
from listener.pipeline.detect import detect
from listener.storage import store
from listener.storage.models import Decision, Incident, Mention, MentionTopic, OutboxMessage
from tests.support.incidents_fixture import LUMI_TOYS, safety_reports

CONFIG = LUMI_TOYS + safety_reports(group_wait="30s")
T = datetime(2026, 10, 30, 12, tzinfo=UTC)


def add_reports(engine, n: int = 3) -> None:
    with Session(engine) as s:
        for i in range(n):
            at = T - timedelta(minutes=50 - 10 * i)
            m = Mention(source="replay", external_id=str(i), author=f"parent{i}",
                        text="lumitoys flashlight burned my kid", created_at=at,
                        created_epoch=int(at.timestamp()), collected_at=at, brand="Lumi Toys")
            s.add(m)
            s.flush()
            s.add(MentionTopic(mention_id=m.id, topic="product_safety", score=1.0,
                               created_epoch=m.created_epoch))
        s.commit()


def test_a_silenced_incident_opens_without_a_message_then_notifies_when_it_ends(sqlite_engine):
    config = load_config(CONFIG, {})
    add_reports(sqlite_engine)
    with Session(sqlite_engine) as s:
        silence = store.add_silence(
            s, matchers=[{"name": "topic", "op": "=", "value": "product_safety"}],
            starts_at=T - timedelta(hours=1), ends_at=T + timedelta(minutes=20),
            created_by="ana", comment="recall announced", now=T)
        s.commit()
        sid = silence.id

    (taken,) = detect(sqlite_engine, config=config, now=T)
    assert taken.action == "silenced"
    assert taken.reason == (f"first not sent: silence #{sid} (topic=product_safety) by ana until "
                            f"2026-10-30 12:20 UTC: recall announced")
    assert detect(sqlite_engine, config=config, now=T + timedelta(minutes=10)) == []  # said once
    with Session(sqlite_engine) as s:
        (incident,) = s.exec(select(Incident)).all()
        assert incident.status == "open" and incident.last_notified_at is None
        assert s.exec(select(OutboxMessage)).all() == []

    after = T + timedelta(minutes=25)
    (taken,) = detect(sqlite_engine, config=config, now=after)
    assert (taken.action, taken.incident_id) == ("first", incident.id)
    with Session(sqlite_engine) as s:
        (note,) = s.exec(select(OutboxMessage)).all()
        assert note.kind == "first" and note.next_attempt_at == after + timedelta(seconds=30)
        actions = [d.action for d in s.exec(select(Decision).order_by(Decision.id))]
        assert actions == ["silenced", "first"]


def test_an_expired_silence_mutes_nothing(sqlite_engine):
    config = load_config(CONFIG, {})
    add_reports(sqlite_engine)
    with Session(sqlite_engine) as s:
        silence = store.add_silence(
            s, matchers=[{"name": "brand", "op": "=~", "value": "Lumi.*"}],
            starts_at=T - timedelta(hours=1), ends_at=T + timedelta(hours=1),
            created_by="ana", comment="", now=T)
        store.expire_silence(s, silence_id=silence.id, now=T - timedelta(minutes=1))
        s.commit()
    (taken,) = detect(sqlite_engine, config=config, now=T)
    assert taken.action == "first"
