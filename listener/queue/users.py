"""Web queue accounts: argon2id password hashes, roles agent and admin."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.errors import ListenerError
from listener.storage.models import ApiToken, User

ROLES = ("agent", "admin")
_HASHER = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist: a wrong name costs as long as a wrong
    password, so timing does not tell which names exist."""
    return _HASHER.hash("not a password")


def add_user(session: Session, *, username: str, password: str, role: str,
             now: datetime) -> User:
    if role not in ROLES:
        raise ListenerError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if not username or len(username) > 64:
        raise ListenerError("a username is 1 to 64 characters")
    if len(password) < 8:
        raise ListenerError("a password is at least 8 characters")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise ListenerError(f"user {username!r} already exists")
    user = User(username=username, password_hash=_HASHER.hash(password), role=role,
                created_at=now)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, *, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username))
    try:
        _HASHER.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(session: Session, *, username: str, now: datetime) -> str:
    """A fresh API token for a user (random, 256 bits: a plain SHA-256 is enough to store it)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise ListenerError(f"no user {username!r}")
    token = "lst_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_digest(token), created_at=now))
    session.flush()
    return token


def token_user(session: Session, *, token: str) -> User | None:
    return session.scalar(select(User).join(ApiToken, ApiToken.user_id == User.id)
                          .where(ApiToken.token_hash == _digest(token)))
