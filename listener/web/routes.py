"""The queue, login, dashboard and users pages and their form posts, and the helpers the other
page modules share. Handlers are thin: parse, call a data function, render or redirect."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from listener.errors import QueueError
from listener.incidents.reading import open_incidents
from listener.queue import dashboard as dashboard_data
from listener.queue import triage, users
from listener.sources import SOURCES
from listener.storage.counts import count_buckets
from listener.web.auth import (
    CurrentUser,
    admin_user,
    checked_form,
    current_user,
    safe_next,
    start_session,
)
from listener.web.charts import split_bar, stacked_bars, volume_bars

router = APIRouter(include_in_schema=False)      # pages; incidents.py, silences.py and admin.py
#                                                  have theirs, the JSON API is in api*.py
Agent = Annotated[CurrentUser, Depends(current_user)]
Admin = Annotated[CurrentUser, Depends(admin_user)]
PAGE_SIZE = 50
FILTER_KEYS = ("status", "brand", "product", "source", "sentiment", "topic", "assignee", "since",
               "until", "q")
TIME_KEYS = ("since", "until")
DASHBOARD_HOURS = 48


@contextmanager
def _session(request: Request):
    with Session(request.app.state.engine) as session:
        yield session


def _render(request: Request, name: str, context: dict, status: int = 200):
    context.setdefault("flash", request.session.pop("flash", None))
    return request.app.state.templates.TemplateResponse(request, name, context,
                                                        status_code=status)


def _back(request: Request, form: dict, default: str) -> RedirectResponse:
    return RedirectResponse(safe_next(form.get("back"), default), status_code=303)


def _severities(request: Request) -> dict[str, str]:
    return {t.name: t.severity for t in request.app.state.config.topics}


def _target(request: Request) -> timedelta:
    return request.app.state.config.queue.first_response


@router.get("/login")
def login_page(request: Request, next: str | None = None):
    return _render(request, "login.html", {"user": None, "next": safe_next(next), "error": None})


@router.post("/login")
async def login(request: Request):
    form = await checked_form(request)
    name, password = form.get("username", ""), form.get("password", "")
    nxt = safe_next(form.get("next"))
    limiter, now = request.app.state.limiter, request.app.state.clock()
    key = (name, request.client.host if request.client else "")
    if limiter.blocked(key, now):
        return _render(request, "login.html", {"user": None, "next": nxt, "error":
                       "Too many failed attempts; wait a few minutes."}, status=429)
    with _session(request) as session:
        user = users.authenticate(session, username=name, password=password)
    if user is None:
        limiter.failed(key, now)
        return _render(request, "login.html", {"user": None, "next": nxt,
                       "error": "Wrong username or password."}, status=401)
    limiter.succeeded(key)
    start_session(request, user)
    return RedirectResponse(nxt, status_code=303)


@router.post("/logout")
async def logout(request: Request):
    await checked_form(request)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/")
def home(user: Agent):
    return RedirectResponse("/queue", status_code=303)


def _time(key: str, value: str | None) -> datetime | None:
    """A filter time: ISO 8601 (a browser's datetime-local has no zone: UTC is meant)."""
    if not value:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise QueueError(f"{key} {value!r} is not a time like 2026-10-30T16:00") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


@router.get("/queue")
def queue(request: Request, user: Agent, after: str | None = None):
    params = {k: request.query_params.get(k) or None for k in FILTER_KEYS}
    params["status"] = params["status"] or "open"
    try:
        filters = triage.QueueFilter(**{k: _time(k, v) if k in TIME_KEYS else v
                                        for k, v in params.items()})
        if after:
            triage.parse_cursor(after)
    except QueueError as exc:
        raise HTTPException(400, str(exc)) from None
    app = request.app.state
    now, target = app.clock(), _target(request)
    with _session(request) as session:
        triage.sync_triage(session, severities=_severities(request))
        session.commit()
        rows = triage.queue_page(session, filters=filters, after=after, limit=PAGE_SIZE + 1)
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        items = [{"t": r.triage, "m": r.mention, "l": r.label,
                  "sla": triage.sla(r.triage, r.mention.created_at, target, now)} for r in rows]
        people = [u.username for u in users.users(session)]
        history = triage.corrections(session, mention_ids=[r.mention.id for r in rows])
    active = {k: v for k, v in params.items() if v and not (k == "status" and v == "open")}
    here = "/queue" + (f"?{urlencode({**active, 'after': after} if after else active)}"
                       if active or after else "")
    next_url = ("/queue?" + urlencode({**active, "after": rows[-1].cursor})) if more else None
    return _render(request, "queue.html", {
        "user": user, "items": items, "filters": params, "here": here, "next_url": next_url,
        "now": now, "target": target, "statuses": triage.STATUS_FILTERS,
        "sentiments": triage.SENTIMENTS, "brands": [b.name for b in app.config.brands],
        "products": sorted({p.name for b in app.config.brands for p in b.products}),
        "users": people, "status_name": triage.status_name, "history": history,
        "sources": sorted(set(SOURCES) - {"replay"}),   # a replay's mentions keep their platform
        "topics": [t.name for t in app.config.topics]})


MOVES = {"claim": triage.claim, "respond": triage.respond, "close": triage.close,
         "escalate": triage.escalate, "no_response": triage.no_response}
BULK_MAX = 200


@router.post("/mentions/bulk")
async def mention_bulk(request: Request, user: Agent):
    """One move on every ticked mention; each succeeds or says why not."""
    form = await checked_form(request)
    move = form.get("move")
    if move not in MOVES:
        raise HTTPException(400, f"bulk action {move!r} is not one of {', '.join(MOVES)}")
    try:
        ids = sorted({int(v) for v in form.getlist("ids")})
    except ValueError:
        raise HTTPException(400, "mention ids are numbers") from None
    if not ids or len(ids) > BULK_MAX:
        raise HTTPException(400, f"tick 1 to {BULK_MAX} mentions")
    now, done, refused = request.app.state.clock(), 0, []
    with _session(request) as session:
        for mention_id in ids:
            try:
                MOVES[move](session, mention_id=mention_id, user=user.username, now=now)
                session.commit()
                done += 1
            except QueueError as exc:
                session.rollback()
                refused.append(str(exc))
    request.session["flash"] = "; ".join([f"{move}: {done} of {len(ids)} done", *refused])
    return _back(request, form, "/queue")


@router.post("/mentions/{mention_id}/{move}")
async def mention_move(request: Request, mention_id: int, move: str, user: Agent):
    form = await checked_form(request)
    if move not in (*MOVES, "note", "assign", "relabel"):
        raise HTTPException(404, f"no such action {move!r}")
    now = request.app.state.clock()
    with _session(request) as session:
        try:
            if move == "note":
                triage.add_note(session, mention_id=mention_id, user=user.username,
                                text=form.get("note", ""), now=now)
            elif move == "assign":
                triage.assign(session, mention_id=mention_id, user=user.username,
                              assignee=str(form.get("assignee", "")), now=now)
            elif move == "relabel":
                _relabel(request, session, mention_id, user, form, now)
            else:
                MOVES[move](session, mention_id=mention_id, user=user.username, now=now)
            session.commit()
        except QueueError as exc:
            session.rollback()
            request.session["flash"] = str(exc)
    return _back(request, form, "/queue")


def _relabel(request: Request, session, mention_id: int, user: CurrentUser, form,
             now: datetime) -> None:
    """sentiment=LABEL, or topic=NAME with change=add|remove; stored as a correction."""
    common = dict(session=session, mention_id=mention_id, user=user.username, now=now,
                  severities=_severities(request))
    if form.get("sentiment"):
        fix = triage.relabel_sentiment(sentiment=str(form["sentiment"]), **common)
    elif form.get("topic") and form.get("change") in ("add", "remove"):
        fix = triage.relabel_topic(topic=str(form["topic"]), add=form["change"] == "add",
                                   **common)
    else:
        raise QueueError("relabel needs a sentiment, or a topic and add or remove")
    request.session["flash"] = (f"mention {mention_id}: {fix.field} "
                                f"{fix.old or '(none)'} → {fix.new or '(none)'} recorded"
                                if fix else f"mention {mention_id}: already labelled so")


@router.get("/dashboard")
def dashboard(request: Request, user: Agent):
    now, target = request.app.state.clock(), _target(request)
    until = (int(now.timestamp()) // 3600 + 1) * 3600
    since, first = until - DASHBOARD_HOURS * 3600, (until - DASHBOARD_HOURS * 3600) // 3600
    span = dict(first=first, n=DASHBOARD_HOURS, step=3600)
    with _session(request) as session:
        triage.sync_triage(session, severities=_severities(request))
        session.commit()
        counts = triage.status_counts(session)
        overdue = triage.overdue_count(session, target=target, now=now)
        attained = triage.sla_attainment(session, target=target, since=now - timedelta(days=7))
        incidents = open_incidents(session)
        buckets = count_buckets(session, step=3600, since=since, until=until)
        by_source = dashboard_data.volume_by_source(session, step=3600, since=since, until=until)
        by_topic = dashboard_data.volume_by_topic(session, step=3600, since=since, until=until)
        sentiment = dashboard_data.sentiment_split(session, since=since, until=until)
        total = sum(counts.values())
    return _render(request, "dashboard.html", {
        "user": user, "counts": counts, "overdue": overdue, "incidents": incidents,
        "chart": volume_bars(buckets, first=first, hours=DASHBOARD_HOURS), "total": total,
        "target": target, "sla": attained, "hours": DASHBOARD_HOURS,
        "by_source": stacked_bars(by_source, **span), "by_topic": stacked_bars(by_topic, **span),
        "sentiment": split_bar(sentiment)})


@router.get("/admin/users")
def admin_users(request: Request, user: Admin):
    with _session(request) as session:
        rows = [{"username": u.username, "role": u.role, "created_at": u.created_at}
                for u in users.users(session)]
    return _render(request, "users.html", {"user": user, "users": rows})
