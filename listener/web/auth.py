"""Sessions, CSRF tokens, roles and login rate limiting for the web app.

The session is Starlette's signed cookie (HttpOnly, SameSite=Lax) holding the username and a
CSRF token; every form post carries the token and is refused without it.
"""

from __future__ import annotations

import hmac
import secrets
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import HTTPException, Request
from sqlalchemy import select
from sqlmodel import Session
from starlette.datastructures import FormData

from listener.errors import LoginRequired
from listener.storage.models import User


@dataclass(frozen=True)
class CurrentUser:
    username: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the session's (403 otherwise)."""
    form = await request.form()
    sent, expected = form.get("csrf_token"), request.session.get("csrf")
    if not (isinstance(sent, str) and expected and hmac.compare_digest(sent, expected)):
        raise HTTPException(403, "CSRF token missing or wrong: reload the page and try again")
    return form


def current_user(request: Request) -> CurrentUser:
    """The signed-in user, looked up afresh (a deleted user's session ends at once)."""
    name = request.session.get("user")
    if name:
        with Session(request.app.state.engine) as session:
            user = session.scalar(select(User).where(User.username == name))
        if user is not None:
            return CurrentUser(user.username, user.role)
        request.session.clear()
    raise LoginRequired()


def admin_user(request: Request) -> CurrentUser:
    user = current_user(request)
    if not user.is_admin:
        raise HTTPException(403, "this page is for administrators")
    return user


def start_session(request: Request, user: User) -> None:
    request.session.clear()            # a fresh CSRF token after login (no session fixation)
    request.session["user"] = user.username
    request.session["csrf"] = secrets.token_urlsafe(32)


def safe_next(value: str | None, default: str = "/queue") -> str:
    """Only a path on this site: an open redirect would make the login page a phishing aid."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


class LoginLimiter:
    """At most `attempts` failed logins per (username, client) in `period`."""

    def __init__(self, attempts: int = 5, period: timedelta = timedelta(minutes=5)) -> None:
        self.attempts, self.period = attempts, period
        self._failures: dict[tuple[str, str], deque[datetime]] = defaultdict(deque)

    def blocked(self, key: tuple[str, str], now: datetime) -> bool:
        times = self._failures[key]
        while times and now - times[0] > self.period:
            times.popleft()
        return len(times) >= self.attempts

    def failed(self, key: tuple[str, str], now: datetime) -> None:
        self._failures[key].append(now)

    def succeeded(self, key: tuple[str, str]) -> None:
        self._failures.pop(key, None)
