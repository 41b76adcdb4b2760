"""The incident pages: the list, one incident (evidence, timeline, linked mentions a page at a
time, playbook) and its moves: acknowledge (as Slack's button does), resolve by hand; admins
silence its kind from here."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request

from listener.errors import QueueError
from listener.incidents import actions, reading, silences
from listener.incidents.evidence import read_evidence
from listener.incidents.render import acknowledged
from listener.storage.models import Incident
from listener.web.auth import checked_form
from listener.web.charts import timeline
from listener.web.errors import http_errors
from listener.web.routes import Agent, _back, _render, _session

router = APIRouter(include_in_schema=False)


@router.get("/incidents")
def incident_list(request: Request, user: Agent):
    with _session(request) as session:
        rows = reading.latest(session)
    return _render(request, "incidents.html", {"user": user, "incidents": rows})


@router.get("/incidents/{incident_id}")
def incident_page(request: Request, incident_id: int, user: Agent, before: str | None = None):
    config, now = request.app.state.config, request.app.state.clock()
    with _session(request) as session:
        with http_errors():                      # no such incident, a bad cursor
            incident = reading.get(session, incident_id)
            linked = reading.linked_page(session, config=config, incident=incident, now=now,
                                           before=before)
        chart = timeline(reading.timeline(session, config=config, incident=incident, now=now))
        session.expunge_all()
    playbook = None
    if incident.topic:
        topic = next((t for t in config.topics if t.name == incident.topic), None)
        if topic is not None and topic.playbook:
            playbook = config.playbooks.get(topic.playbook)
    return _render(request, "incident.html", {
        "user": user, "incident": incident, "ev": read_evidence(incident), "playbook": playbook,
        "linked": linked, "before": before, "chart": chart, "acked": acknowledged(incident),
        "matchers": "\n".join(silences.incident_matchers(config, incident)),
        "durations": silences.SILENCE_DURATIONS})


def acknowledge(request: Request, session, incident_id: int, user: str) -> Incident:
    """The incident acknowledged by `user` as Slack's button does (404 for no such incident)."""
    incident = actions.acknowledge(session, config=request.app.state.config,
                                incident_id=incident_id, user=user,
                                now=request.app.state.clock())
    if incident is None:
        raise HTTPException(404, f"no incident {incident_id}")
    session.commit()
    return incident


@router.post("/incidents/{incident_id}/ack")
async def incident_ack(request: Request, incident_id: int, user: Agent):
    form = await checked_form(request)
    with _session(request) as session:
        acknowledge(request, session, incident_id, user.username)
    return _back(request, form, f"/incidents/{incident_id}")


@router.post("/incidents/{incident_id}/resolve")
async def incident_resolve(request: Request, incident_id: int, user: Agent):
    """Resolved, or the flash says why not (already resolved); no such incident is a 404."""
    form = await checked_form(request)
    with _session(request) as session:
        with http_errors():
            incident = reading.get(session, incident_id)
        try:
            actions.resolve(session, config=request.app.state.config, incident_id=incident.id,
                              user=user.username, now=request.app.state.clock())
            session.commit()
            request.session["flash"] = f"incident {incident_id} resolved"
        except QueueError as exc:
            request.session["flash"] = str(exc)
    return _back(request, form, f"/incidents/{incident_id}")
