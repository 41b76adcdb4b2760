"""Every exception class of the project, drawn as one tree; the listener's own are defined in
this module. Library code raises them; only `listener.cli.main` turns them into exit codes.
alerts/ and classifiers/ never import listener/, so theirs are defined (and drawn again) in
`alerts.errors` and `classifiers.errors`. tests/test_errors.py holds the drawings to the code.

listener.errors

    ListenerError                an error the listener raises on purpose
     ├── ConfigError             the config file is invalid (exit 2); .problems lists every mistake
     ├── QueryError              a query string does not parse; says where and what was expected
     │                           (a ValueError too, so pydantic validators can raise it)
     ├── SourceError             a source cannot fetch this run; the next run retries
     │    ├── PermanentSourceError   and retrying will not help (bad credential, missing file)
     │    ├── RateLimited        HTTP 429, for longer than the source may wait; .retry_after
     │    └── StaleToken         the API no longer takes a page token; the listing restarts
     └── QueueError              a triage move that cannot be made (bad input: HTTP 400)
          ├── NotFound           no such mention or incident (HTTP 404)
          ├── Conflict           the mention's state forbids the move (HTTP 409)
          └── SilenceError       a silence that cannot be added; .field names what is wrong
    LoginRequired                a web page needs a session; the app redirects to /login

alerts.errors

    NotifyError                  a notification could not be delivered
     ├── RetryableNotifyError    try again later (.retry_after)
     └── PermanentNotifyError    retrying will not help (.setting)
    MatcherError                 a silence matcher does not parse (a ValueError)
    NabDataError                 a folder is not in NAB's format (a ValueError)

classifiers.errors

    ModelError                   a model or weight file cannot be loaded or is inconsistent
"""

from __future__ import annotations


class ListenerError(Exception):
    """Base of every error the listener raises on purpose."""


class ConfigError(ListenerError):
    def __init__(self, problems: list[str], source: str = "config") -> None:
        self.problems = problems
        self.source = source
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


class QueryError(ListenerError, ValueError):
    """A query does not parse. Subclasses ValueError so pydantic validators can raise it."""


class SourceError(ListenerError):
    pass


class PermanentSourceError(SourceError):
    pass


class RateLimited(SourceError):
    """The platform said 429 and the wait it asked for was longer than the source may block."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StaleToken(SourceError):
    """The API no longer accepts a page token of a drain in progress; restart it at the top."""


class QueueError(ListenerError):
    """A triage move that cannot be made (unknown mention, claimed by another, bad input)."""


class NotFound(QueueError):
    """No such mention or incident."""


class Conflict(QueueError):
    """The mention's state forbids the move (claimed by another, already closed)."""


class SilenceError(QueueError):
    """A silence that cannot be added; `field` names what is wrong (matchers, duration,
    comment) so that the CLI can point at its option and the web at its form field."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class LoginRequired(Exception):
    """Raised by a page that needs a session; the app answers with a redirect to /login.
    Control flow of the web app, not an error the listener reports: hence not a ListenerError."""
