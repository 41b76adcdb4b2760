"""The alert's Acknowledge button: the web app's /slack/actions endpoint accepts a request Slack
signed with the signing secret, refuses a bad signature and a replayed old timestamp, records who
acknowledged; an acknowledged incident does not repeat until it escalates."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from alerts.detectors import Signal
from alerts.lifecycle import IncidentState, Policy, decide
from listener.config import load_config
from listener.storage.models import Incident
from listener.web.app import create_app
from tests.support.incidents_fixture import LUMI_TOYS

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
T = datetime(2026, 10, 30, 12, tzinfo=UTC)
CONFIG = LUMI_TOYS + """\
slack:
  signing_secret: ${SLACK_SIGNING_SECRET:-}
"""


def signed(body: str, *, secret: str = SECRET, at: int | None = None) -> dict:
    ts = str(at if at is not None else int(time.time()))
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(),
                           hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig,
            "Content-Type": "application/x-www-form-urlencoded"}


def click(incident_id: int) -> str:
    return urlencode({"payload": json.dumps({
        "type": "block_actions", "user": {"id": "U42", "username": "ana"},
        "actions": [{"action_id": "ack", "value": str(incident_id), "type": "button"}]})})


@pytest.fixture()
def app_and_incident(sqlite_engine):
    config = load_config(CONFIG, {"SLACK_SIGNING_SECRET": SECRET})
    with Session(sqlite_engine) as s:
        inc = Incident(key="k", rule="r", title="t", level=7, peak_level=7, opened_at=T,
                       last_signal_at=T, observed=3, expected=0, evidence={})
        s.add(inc)
        s.commit()
        incident_id = inc.id
    app = create_app(config, sqlite_engine, lambda: T + timedelta(minutes=5), secret_key="k")
    return TestClient(app), sqlite_engine, incident_id


def ack_of(engine, incident_id):
    with Session(engine) as s:
        inc = s.get(Incident, incident_id)
        return inc.acknowledged_by, inc.acknowledged_at


def test_a_signed_click_records_who_acknowledged(app_and_incident):
    client, engine, iid = app_and_incident
    body = click(iid)
    r = client.post("/slack/actions", content=body, headers=signed(body))
    assert r.status_code == 200 and r.json() == {"acknowledged": [iid]}
    by, at = ack_of(engine, iid)
    assert by == "ana" and at.replace(tzinfo=UTC) == T + timedelta(minutes=5)


@pytest.mark.parametrize("headers", [
    pytest.param(lambda body: signed(body, secret="not-the-secret"), id="bad-signature"),
    pytest.param(lambda body: signed(body, at=int(time.time()) - 6 * 60), id="replayed-old"),
    pytest.param(lambda body: {**signed(body), "X-Slack-Signature": ""}, id="unsigned"),
])
def test_a_forged_or_replayed_click_acknowledges_nothing(app_and_incident, headers):
    client, engine, iid = app_and_incident
    body = click(iid)
    r = client.post("/slack/actions", content=body, headers=headers(body))
    assert r.status_code == 401
    assert r.json() == {"error": "invalid signature or stale timestamp"}
    assert ack_of(engine, iid) == (None, None)


def test_a_signature_over_another_body_does_not_pass(app_and_incident):
    client, engine, iid = app_and_incident
    r = client.post("/slack/actions", content=click(iid), headers=signed(click(iid + 1)))
    assert r.status_code == 401 and ack_of(engine, iid) == (None, None)


def test_without_a_signing_secret_the_endpoint_is_off(sqlite_engine):
    app = create_app(load_config(CONFIG, {}), sqlite_engine, lambda: T, secret_key="k")
    body = click(1)
    assert TestClient(app).post("/slack/actions", content=body,
                                headers=signed(body)).status_code == 404


def sig(level: int) -> Signal:
    return Signal("rare", 5, 0.0, level, timedelta(hours=2), T, reason="5 authors")


def test_acknowledged_incidents_do_not_repeat_until_they_escalate():
    policy = Policy(repeat_interval=timedelta(hours=4))
    later = T + timedelta(hours=5)
    acked = IncidentState(7, 7, later, T, acknowledged_by="ana")
    d = decide(policy, acked, sig(7), later)
    assert (d.action, d.notify, d.code) == ("skip", False, "acknowledged")
    assert d.reason == "acknowledged by ana: no repeats until it escalates"
    assert decide(policy, acked, sig(9), later).action == "escalated"
    assert decide(policy, IncidentState(7, 7, later, T), sig(7), later).action == "repeat"


def test_an_acknowledgement_before_the_last_escalation_no_longer_counts():
    from listener.incidents.render import acknowledged
    inc = Incident(key="k", rule="r", title="t", level=9, peak_level=9, observed=5, expected=0,
                   acknowledged_by="ana", acknowledged_at=T)
    assert acknowledged(inc) == "ana"
    inc.escalated_at = T + timedelta(minutes=1)
    assert acknowledged(inc) is None
