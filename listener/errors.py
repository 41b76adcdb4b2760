"""The listener's exceptions. Library code raises these; only `listener.cli.main` turns them into
exit codes.

    ListenerError
     ├── ConfigError          the config file is invalid (exit 2); .problems lists every mistake
     ├── QueryError           a query string does not parse; says where and what was expected
     └── SourceError          a source cannot fetch
          └── PermanentSourceError   ... and retrying will not help (bad credential, missing file)
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
