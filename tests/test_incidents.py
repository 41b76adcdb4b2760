"""listener.incidents without the web app: when a manual resolution posts to Slack and what the
decision log says when it does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from listener import incidents
from listener.config import load_config_file
from listener.db import create_tables, make_engine
from listener.models import Decision, Incident, Notification
from listener.triage import Conflict, NotFound
from tests.conftest import CONFIG

NOW = datetime(2026, 10, 30, 16, 30, tzinfo=UTC)


@pytest.fixture()
def session():
    engine = make_engine("sqlite://")
    create_tables(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


def incident(session, *, rule="safety-reports", notified=True) -> Incident:
    row = Incident(key=f"{rule}|brand=Lumi Toys|topic=product_safety", rule=rule,
                   brand="Lumi Toys", topic="product_safety", title="Lumi Toys · product safety",
                   level=7, peak_level=7, opened_at=NOW - timedelta(hours=1),
                   last_signal_at=NOW, last_notified_at=NOW - timedelta(hours=1) if notified
                   else None, observed=5, expected=0.1,
                   evidence={"observed": 5, "expected": 0.1, "window": "3h", "examples": []})
    session.add(row)
    session.commit()
    return row


@pytest.mark.parametrize("rule, notified, send_resolved, sent, says", [
    ("safety-reports", True, True, ["resolved"], "resolved by ana in the queue"),
    ("safety-reports", False, True, [], "never notified, nothing to send"),
    ("safety-reports", True, False, [], "send_resolved is off"),
    ("gone-rule", True, True, [], "rule gone-rule is gone from the config"),
])
def test_a_manual_resolution_posts_as_the_detect_step_would(session, rule, notified,
                                                            send_resolved, sent, says):
    config = load_config_file(CONFIG, env={})
    config = config.model_copy(update={"alerts": config.alerts.model_copy(
        update={"send_resolved": send_resolved})})
    row = incident(session, rule=rule, notified=notified)
    incidents.resolve(session, config=config, incident_id=row.id, user="ana", now=NOW)
    session.commit()
    assert (row.status, row.resolved_by, row.resolved_at) == ("resolved", "ana", NOW)
    assert session.exec(select(Notification.kind)).all() == sent
    logged = session.exec(select(Decision)).one()
    assert (logged.action, logged.code, logged.incident_id) == ("resolved", "resolved-by-hand",
                                                                 row.id)
    assert says in logged.reason
    with pytest.raises(Conflict, match="is already resolved"):
        incidents.resolve(session, config=config, incident_id=row.id, user="bo", now=NOW)
    with pytest.raises(NotFound):
        incidents.resolve(session, config=config, incident_id=999, user="bo", now=NOW)


def test_the_matchers_of_an_incident_whose_rule_is_gone_are_its_labels(session):
    config = load_config_file(CONFIG, env={})
    row = incident(session, rule="gone-rule")
    assert incidents.incident_matchers(config, row) == [
        "rule=gone-rule", "brand=Lumi Toys", "topic=product_safety"]
