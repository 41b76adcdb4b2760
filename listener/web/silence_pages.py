"""Silences for administrators: the list (active and pending first) with expire, and the add form
that the list and the incident page (matchers prefilled from the incident) both post to."""

from __future__ import annotations

from fastapi import APIRouter, Request

from alerts.matchers import Matcher
from listener.incidents import silences
from listener.storage import store
from listener.web.auth import checked_form
from listener.web.errors import http_errors
from listener.web.routes import Admin, _back, _render, _session

router = APIRouter(include_in_schema=False)


@router.get("/admin/silences")
def silence_list(request: Request, user: Admin):
    now = request.app.state.clock()
    with _session(request) as session:
        rows = [{"s": s, "state": silences.silence_state(s, now),
                 "matchers": [str(Matcher(**m)) for m in s.matchers]}
                for s in store.silences(session)]
    rows.sort(key=lambda r: (r["state"] == "expired", -r["s"].id))
    return _render(request, "silences.html", {"user": user, "rows": rows,
                                              "durations": silences.SILENCE_DURATIONS})


@router.post("/admin/silences")
async def silence_add(request: Request, user: Admin):
    """matchers (one a line), duration (e.g. 2h), comment; back to where the form was."""
    form = await checked_form(request)
    with _session(request) as session, http_errors():
        silence = silences.add_silence(
            session, matchers=str(form.get("matchers", "")).splitlines(),
            duration=str(form.get("duration", "")), comment=str(form.get("comment", "")),
            user=user.username, now=request.app.state.clock())
        session.commit()
        request.session["flash"] = (f"silence #{silence.id} until "
                                    f"{silence.ends_at:%Y-%m-%d %H:%M} UTC")
    return _back(request, form, "/admin/silences")


@router.post("/admin/silences/{silence_id}/expire")
async def silence_expire(request: Request, silence_id: int, user: Admin):
    form = await checked_form(request)
    with _session(request) as session, http_errors():
        silences.expire_silence(session, silence_id=silence_id, now=request.app.state.clock())
        session.commit()
    request.session["flash"] = f"silence #{silence_id} expired"
    return _back(request, form, "/admin/silences")
