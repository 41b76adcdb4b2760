"""Times given as option values (ISO 8601), for `silence add --start` and `backtest --since`,
`--until`."""

from __future__ import annotations

from datetime import datetime

import click


def option_time(value: str | None, what: str) -> datetime | None:
    """The time VALUE names, None for none; a bad value is a usage error naming option WHAT."""
    if not value:
        return None
    from listener.sources.replay import parse_time
    try:
        return parse_time(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: {exc}", param_hint=what) from None
