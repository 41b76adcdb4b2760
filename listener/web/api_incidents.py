"""The JSON API for incidents and silences (bearer token, as in api.py): read, acknowledge and
resolve an incident, its linked mentions a page at a time; silences (admins) listed, added from
matchers or from an incident's labels, expired."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlmodel import Session

from alerts.matchers import Matcher
from listener.incidents import actions, reading, silences
from listener.storage import store
from listener.storage.models import Silence
from listener.storage.records import mention_record
from listener.web.api import ApiUser, api_user
from listener.web.auth import CurrentUser
from listener.web.errors import http_errors
from listener.web.incident_pages import acknowledge

router = APIRouter(prefix="/api", tags=["incidents"])


def api_admin(user: Annotated[CurrentUser, Depends(api_user)]) -> CurrentUser:
    if not user.is_admin:
        raise HTTPException(403, "silences are for administrators")
    return user


ApiAdmin = Annotated[CurrentUser, Depends(api_admin)]


class SilenceIn(BaseModel):
    matchers: list[str] = Field(default_factory=list, max_length=20,
                                description="e.g. ['topic=product_safety', 'brand=~Lumi.*']; "
                                            "empty with incident_id: that incident's labels")
    incident_id: int | None = Field(None, description="silence incidents like this one")
    duration: str = Field("2h", max_length=16, description="how long, e.g. 2h, 1d")
    comment: str = Field(max_length=silences.COMMENT_MAX, description="why")


class SilenceOut(BaseModel):
    id: int
    state: str = Field(description="pending, active or expired")
    matchers: list[str]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str


class LinkedOut(BaseModel):
    total: int
    mentions: list[dict]
    next: str | None = Field(description="pass as `before` for the next (older) page")


def _silence_out(silence: Silence, now: datetime) -> SilenceOut:
    return SilenceOut(id=silence.id, state=silences.silence_state(silence, now),
                      matchers=[str(Matcher(**m)) for m in silence.matchers],
                      starts_at=silence.starts_at, ends_at=silence.ends_at,
                      created_by=silence.created_by, comment=silence.comment)


@router.get("/incidents/{incident_id}")
def api_incident(request: Request, incident_id: int, user: ApiUser) -> dict:
    with Session(request.app.state.engine) as session:
        with http_errors():
            return reading.get(session, incident_id).model_dump(mode="json")


@router.get("/incidents/{incident_id}/mentions", response_model=LinkedOut)
def api_linked(request: Request, incident_id: int, user: ApiUser, before: str | None = None,
               limit: Annotated[int, Query(ge=1, le=200)] = 50) -> LinkedOut:
    """The mentions the incident's rule counts in its group and window, newest first."""
    state = request.app.state
    with Session(request.app.state.engine) as session:
        with http_errors():
            page = reading.linked_page(session, config=state.config,
                                         incident=reading.get(session, incident_id),
                                         now=state.clock(), before=before, limit=limit)
        if page is None:
            raise HTTPException(409, f"incident {incident_id}'s rule is no longer in the config")
        return LinkedOut(total=page.total, next=page.next,
                         mentions=[mention_record(m, None) for m in page.mentions])


@router.post("/incidents/{incident_id}/ack")
def api_ack(request: Request, incident_id: int, user: ApiUser) -> dict:
    """Record who acknowledged (once since it last escalated); Slack's alert says so too."""
    with Session(request.app.state.engine) as session:
        incident = acknowledge(request, session, incident_id, user.username)
        session.refresh(incident)
        return incident.model_dump(mode="json")


@router.post("/incidents/{incident_id}/resolve")
def api_resolve(request: Request, incident_id: int, user: ApiUser) -> dict:
    """Resolve an open incident by hand (409 when it is resolved already); Slack gets the same
    thread reply as for a resolution after quiet."""
    with Session(request.app.state.engine) as session:
        with http_errors():
            incident = actions.resolve(session, config=request.app.state.config,
                                         incident_id=incident_id, user=user.username,
                                         now=request.app.state.clock())
            session.commit()
        session.refresh(incident)
        return incident.model_dump(mode="json")


@router.get("/silences", response_model=list[SilenceOut])
def api_silences(request: Request, user: ApiAdmin, expired: bool = False) -> list[SilenceOut]:
    """The active and pending silences (with `expired=true`, all of them), oldest first."""
    now = request.app.state.clock()
    with Session(request.app.state.engine) as session:
        rows = store.silences(session, ending_after=None if expired else now)
        return [_silence_out(s, now) for s in rows]


@router.post("/silences", response_model=SilenceOut, status_code=201)
def api_silence_add(request: Request, body: SilenceIn, user: ApiAdmin) -> SilenceOut:
    """A silence from now; matchers, or an incident whose labels to silence."""
    state, now = request.app.state, request.app.state.clock()
    with Session(request.app.state.engine) as session:
        with http_errors():
            matchers = body.matchers
            if not matchers and body.incident_id is not None:
                matchers = silences.incident_matchers(
                    state.config, reading.get(session, body.incident_id))
            silence = silences.add_silence(session, matchers=matchers, duration=body.duration,
                                            comment=body.comment, user=user.username, now=now)
            session.commit()
        return _silence_out(silence, now)


@router.post("/silences/{silence_id}/expire", response_model=SilenceOut)
def api_silence_expire(request: Request, silence_id: int, user: ApiAdmin) -> SilenceOut:
    now = request.app.state.clock()
    with Session(request.app.state.engine) as session:
        with http_errors():
            silence = silences.expire_silence(session, silence_id=silence_id, now=now)
            session.commit()
        return _silence_out(silence, now)
