"""Building blocks of the config schema shared by `listener.config.model` and every source's own
settings: the strict base model, durations and queries that validate with a fix in the message."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from listener.query.parser import parse

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class Strict(BaseModel):
    """Unknown keys are errors; values are validated on assignment too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, validate_default=True)


def parse_duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    m = _DURATION.match(value) if isinstance(value, str) else None
    if not m:
        raise ValueError(f'{json.dumps(value)} is not a duration; '
                         'write e.g. "90s", "15m", "2h" or "1d"')
    seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if seconds <= 0:
        raise ValueError(f"{json.dumps(value)} must be longer than zero")
    return timedelta(seconds=seconds)


def format_duration(td: timedelta) -> str:
    s = int(td.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s and s % size == 0:
            return f"{s // size}{unit}"
    return f"{s}s"


def _check_query(value: str) -> str:
    try:
        parse(value)
    except ValueError as exc:
        raise ValueError(f"{json.dumps(value)} is not a valid query: {exc}") from None
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Query = Annotated[str, AfterValidator(_check_query)]
