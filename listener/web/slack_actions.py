"""Slack's interactive requests: the alert's "Acknowledge" button (action_id "ack", value the
incident id). Every request must carry Slack's signature of its body made with the app's signing
secret (slack.signing_secret), with a timestamp under 5 minutes old, so a replayed or forged
request acknowledges nothing."""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from slack_sdk.signature import Clock, SignatureVerifier
from sqlmodel import Session

from listener.incidents import actions

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)


@router.post("/slack/actions")
async def slack_actions(request: Request) -> Response:
    secret = request.app.state.config.slack.signing_secret
    if secret is None:
        return JSONResponse({"error": "slack.signing_secret is not set"}, status_code=404)
    body = await request.body()
    clock = getattr(request.app.state, "slack_clock", None) or Clock()
    verifier = SignatureVerifier(secret.get_secret_value(), clock=clock)
    if not verifier.is_valid(body, request.headers.get("X-Slack-Request-Timestamp"),
                             request.headers.get("X-Slack-Signature")):
        log.warning("refused a Slack action: bad signature or a timestamp over 5 minutes old")
        return JSONResponse({"error": "invalid signature or stale timestamp"}, status_code=401)
    try:
        payload = json.loads(parse_qs(body.decode())["payload"][0])
    except (KeyError, ValueError, UnicodeDecodeError):
        return JSONResponse({"error": "no payload"}, status_code=400)
    user = payload.get("user") or {}
    who = str(user.get("username") or user.get("name") or user.get("id") or "someone")[:128]
    done = []
    for action in payload.get("actions") or []:
        if action.get("action_id") == "ack" and str(action.get("value", "")).isdigit():
            done.append(acknowledge(request, int(action["value"]), who))
    return JSONResponse({"acknowledged": [i for i in done if i is not None]})


def acknowledge(request: Request, incident_id: int, who: str) -> int | None:
    """Records who acknowledged, once, and tells Slack (incidents/actions.py)."""
    state = request.app.state
    with Session(state.engine) as session:
        incident = actions.acknowledge(session, config=state.config, incident_id=incident_id,
                                    user=who, now=state.clock())
        session.commit()
        return incident.id if incident is not None else None
