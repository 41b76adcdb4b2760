"""The app factory: routes, templates, sessions and error pages wired to a config, an engine and
a clock. Several apps (tests) can live in one process: all state hangs off `app.state`."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware

from listener.config import Config
from listener.errors import LoginRequired
from listener.web import filters as jinja_filters
from listener.web.admin import router as admin_router
from listener.web.api import router as api_router
from listener.web.api_incidents import router as api_incidents_router
from listener.web.auth import LoginLimiter, csrf_token
from listener.web.incident_pages import router as incidents_router
from listener.web.routes import router
from listener.web.silence_pages import router as silences_router
from listener.web.slack_actions import router as slack_router

HERE = Path(__file__).resolve().parent
SESSION_HOURS = 12


def create_app(config: Config, engine: Engine, clock: Callable[[], datetime], *,
               secret_key: str | None = None, https_only: bool = False,
               classifier: Callable[[], object] | None = None) -> FastAPI:
    """The web queue on `engine`, with `clock` as its notion of now (a replay's clock in a demo).
    The session key comes from `secret_key`, else LISTENER_WEB_SECRET, else a random one (then
    sessions end when the process does). `classifier` builds the classifier the admin page's
    explain form and config tests use, on first use; without it they show queries only."""
    app = FastAPI(title="Listener mention queue", docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json")
    app.state.config, app.state.engine, app.state.clock = config, engine, clock
    app.state.limiter = LoginLimiter()
    app.state.make_classifier, app.state.classifier = classifier, None
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.autoescape = True          # every variable is escaped, whatever the file name
    templates.env.filters.update(jinja_filters.FILTERS)
    templates.env.globals["csrf_token"] = csrf_token
    app.state.templates = templates

    key = secret_key or os.environ.get("LISTENER_WEB_SECRET") or secrets.token_urlsafe(32)
    app.add_middleware(SessionMiddleware, secret_key=key, session_cookie="listener_session",
                       max_age=SESSION_HOURS * 3600, same_site="lax", https_only=https_only)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        return response

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(HTTPException)
    async def error_page(request: Request, exc: HTTPException):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                                headers=getattr(exc, "headers", None))
        return templates.TemplateResponse(request, "error.html",
                                          {"status": exc.status_code, "message": exc.detail,
                                           "user": None}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        where = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}"
                          for e in exc.errors())
        return await error_page(request, HTTPException(400, where))

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(router)
    app.include_router(incidents_router)
    app.include_router(silences_router)
    app.include_router(api_router)
    app.include_router(api_incidents_router)
    app.include_router(admin_router)
    app.include_router(slack_router)
    return app
