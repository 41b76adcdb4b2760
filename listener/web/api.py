"""The JSON API: the queue's operations for scripts and integrations, with a bearer token
(`listener users token NAME`) instead of the session cookie, hence no CSRF token. Its schema is
served at /api/openapi.json."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlmodel import Session

from listener.errors import QueueError
from listener.queue import triage, users
from listener.storage.records import mention_record
from listener.web.auth import CurrentUser
from listener.web.errors import http_errors

router = APIRouter(prefix="/api", tags=["queue"])
bearer = HTTPBearer(auto_error=False, description="a token from `listener users token NAME`")


def api_user(request: Request, creds: Annotated[HTTPAuthorizationCredentials | None,
                                                Depends(bearer)]) -> CurrentUser:
    if creds is not None:
        with Session(request.app.state.engine) as session:
            user = users.token_user(session, token=creds.credentials)
        if user is not None:
            return CurrentUser(user.username, user.role)
    raise HTTPException(401, "a valid bearer token is required",
                        headers={"WWW-Authenticate": "Bearer"})


ApiUser = Annotated[CurrentUser, Depends(api_user)]


class TriageOut(BaseModel):
    mention_id: int
    status: str
    assignee: str | None
    priority: int
    notes: str
    first_response_at: str | None
    sla: dict


class QueueItem(BaseModel):
    mention: dict
    triage: TriageOut


class QueuePage(BaseModel):
    items: list[QueueItem]
    next: str | None = Field(description="pass as `after` for the next page")


class Note(BaseModel):
    note: str = Field(max_length=triage.NOTE_MAX)


class Assign(BaseModel):
    assignee: str = Field(max_length=64, description="the web user to give the mention to")


class Relabel(BaseModel):
    sentiment: Literal["negative", "neutral", "positive"] | None = None
    topic: str | None = Field(None, max_length=64)
    change: Literal["add", "remove"] = "add"


class CorrectionOut(BaseModel):
    mention_id: int
    field: str
    old: str | None
    new: str | None
    user: str
    at: datetime


def _triage_out(request: Request, row, created_at) -> TriageOut:
    state = request.app.state
    sla = triage.sla(row, created_at, state.config.queue.first_response, state.clock())
    sla.pop("deadline", None)
    return TriageOut(mention_id=row.mention_id, status=row.status, assignee=row.assignee,
                     priority=row.priority, notes=row.notes, sla=sla,
                     first_response_at=(row.first_response_at.isoformat()
                                        if row.first_response_at else None))


def _correction_out(fix) -> CorrectionOut:
    return CorrectionOut(**{k: getattr(fix, k) for k in CorrectionOut.model_fields})


@router.get("/queue", response_model=QueuePage)
def api_queue(request: Request, user: ApiUser, status: str = "open", brand: str | None = None,
              source: str | None = None, sentiment: str | None = None,
              topic: str | None = None, q: str | None = None, after: str | None = None,
              product: str | None = None, assignee: str | None = None,
              since: datetime | None = None, until: datetime | None = None,
              limit: Annotated[int, Query(ge=1, le=200)] = 50) -> QueuePage:
    """The queue, most urgent first, one keyset page at a time (`assignee=none`: unassigned;
    `since`/`until`: ISO 8601 creation times, UTC when no zone is given)."""
    from listener.web.routes import _time
    severities = {t.name: t.severity for t in request.app.state.config.topics}
    try:
        filters = triage.QueueFilter(status=status, brand=brand, source=source,
                                     sentiment=sentiment, topic=topic, q=q, product=product,
                                     assignee=assignee,
                                     since=_time("since", since and since.isoformat()),
                                     until=_time("until", until and until.isoformat()))
        with Session(request.app.state.engine) as session:
            triage.sync_triage(session, severities=severities)
            session.commit()
            rows = triage.queue_page(session, filters=filters, after=after, limit=limit + 1)
    except QueueError as exc:
        raise HTTPException(400, str(exc)) from None
    more, rows = len(rows) > limit, rows[:limit]
    return QueuePage(items=[QueueItem(mention=mention_record(r.mention, r.label),
                                      triage=_triage_out(request, r.triage, r.mention.created_at))
                            for r in rows],
                     next=rows[-1].cursor if more else None)


@router.post("/mentions/{mention_id}/assign", response_model=TriageOut)
def api_assign(request: Request, mention_id: int, body: Assign, user: ApiUser) -> TriageOut:
    """Give an open mention to another user (400 for an unknown user, 409 when not open)."""
    from listener.storage.models import Mention

    with Session(request.app.state.engine) as session:
        with http_errors():
            row = triage.assign(session, mention_id=mention_id, user=user.username,
                                assignee=body.assignee, now=request.app.state.clock())
            session.commit()
        session.refresh(row)
        return _triage_out(request, row, session.get(Mention, mention_id).created_at)


@router.post("/mentions/{mention_id}/relabel", response_model=CorrectionOut | None)
def api_relabel(request: Request, mention_id: int, body: Relabel,
                user: ApiUser) -> CorrectionOut | None:
    """Correct the sentiment, or add/remove a topic; the correction stored (null: no change)."""
    common = dict(mention_id=mention_id, user=user.username, now=request.app.state.clock(),
                  severities={t.name: t.severity for t in request.app.state.config.topics})
    with Session(request.app.state.engine) as session:
        with http_errors():
            if (body.sentiment is None) == (body.topic is None):
                raise QueueError("relabel takes a sentiment or a topic (one of them)")
            if body.sentiment:
                fix = triage.relabel_sentiment(session, sentiment=body.sentiment, **common)
            else:
                fix = triage.relabel_topic(session, topic=body.topic,
                                           add=body.change == "add", **common)
            out = _correction_out(fix) if fix else None
            session.commit()
        return out


@router.get("/mentions/{mention_id}/corrections", response_model=list[CorrectionOut])
def api_corrections(request: Request, mention_id: int, user: ApiUser) -> list[CorrectionOut]:
    """The mention's relabelling history, oldest first."""
    with Session(request.app.state.engine) as session:
        fixes = triage.corrections(session, mention_ids=[mention_id]).get(mention_id, [])
        return [_correction_out(f) for f in fixes]


@router.post("/mentions/{mention_id}/{move}", response_model=TriageOut)
def api_move(request: Request, mention_id: int,
             move: Literal["claim", "respond", "close", "escalate", "no_response", "note"],
             user: ApiUser, body: Note | None = None) -> TriageOut:
    """Claim (409 when another agent has it), respond, close, escalate, mark no response
    needed, or add a note."""
    from listener.storage.models import Mention
    from listener.web.routes import MOVES

    now = request.app.state.clock()
    with Session(request.app.state.engine) as session:
        with http_errors():
            if move == "note":
                if body is None:
                    raise QueueError("a note needs a JSON body {\"note\": \"...\"}")
                row = triage.add_note(session, mention_id=mention_id, user=user.username,
                                      text=body.note, now=now)
            else:
                row = MOVES[move](session, mention_id=mention_id, user=user.username, now=now)
            session.commit()
        session.refresh(row)
        return _triage_out(request, row, session.get(Mention, mention_id).created_at)
