"""How a refused move (listener.errors.QueueError) becomes an HTTP error, for pages and the
JSON API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import HTTPException

from listener.errors import Conflict, NotFound, QueueError


def status_of(exc: QueueError) -> int:
    """404 for what does not exist, 409 for a state that forbids the move, 400 for bad input."""
    return 404 if isinstance(exc, NotFound) else 409 if isinstance(
        exc, Conflict) else 400


@contextmanager
def http_errors() -> Iterator[None]:
    try:
        yield
    except QueueError as exc:
        raise HTTPException(status_of(exc), str(exc)) from None
