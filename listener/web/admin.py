"""The administrators' page: the running config (secrets masked), its load history, the
config's own examples (`listener config test`) and an explain form."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlmodel import Session

from listener.storage import store
from listener.tools.config_diff import masked_keys
from listener.tools.explain import explain_text, needs_classifier, run_examples
from listener.web.auth import CurrentUser, admin_user, checked_form

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
Admin = Annotated[CurrentUser, Depends(admin_user)]
MASK = "••••"
TEXT_MAX = 5000


def classifier(request: Request):
    """The app's classifier, built on first use (loading a model is slow); None without one or
    when it cannot load (the page says why; the rest of it still works)."""
    state = request.app.state
    if getattr(state, "classifier", None) is None and getattr(state, "make_classifier", None):
        make, state.make_classifier = state.make_classifier, None
        try:
            state.classifier = make()
        except Exception as exc:      # a missing model must not take the admin page down
            log.error("the admin page's classifier could not load: %s", exc)
            state.classifier_error = f"the classifier could not load: {exc}"
    return getattr(state, "classifier", None)


def _examples(request: Request) -> tuple[list, str | None]:
    config = request.app.state.config
    model = classifier(request) if needs_classifier(config) else None
    if needs_classifier(config) and model is None:
        config = config.model_copy(update={"topics": [
            t.model_copy(update={"should_match": [], "should_not_match": []})
            for t in config.topics]})
        why = getattr(request.app.state, "classifier_error", None) or "this app has none"
        return run_examples(config), f"topic examples need the classifier: {why}"
    return run_examples(config, model), None


def _page(request: Request, user: CurrentUser, explained=None, form=None, status: int = 200):
    results, note = _examples(request)
    context = {"user": user, "keys": masked_keys(request.app.state.config, MASK),
               "loads": _loads(request.app.state.engine),
               "results": results, "failed": sum(not r.passed for r in results),
               "examples_note": note, "e": explained, "form": form or {},
               "has_classifier": classifier(request) is not None}
    context.setdefault("flash", request.session.pop("flash", None))
    return request.app.state.templates.TemplateResponse(request, "admin_config.html", context,
                                                        status_code=status)


@router.get("/admin/config")
def admin_config(request: Request, user: Admin):
    return _page(request, user)


@router.post("/admin/explain")
async def admin_explain(request: Request, user: Admin):
    form = await checked_form(request)
    text = str(form.get("text", "")).strip()
    if not text:
        raise HTTPException(400, "explain needs a text")
    if len(text) > TEXT_MAX:
        raise HTTPException(400, f"explain takes at most {TEXT_MAX} characters")
    fields = {k: (str(form.get(k, "")).strip() or None) for k in ("source", "lang", "author")}
    e = explain_text(request.app.state.config, classifier(request), text, **fields)
    return _page(request, user, explained=e, form={"text": text, **fields})


def _loads(engine) -> list:
    with Session(engine) as session:
        return store.config_loads(session, limit=20)
