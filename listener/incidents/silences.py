"""Silences: the labels an incident is matched on, the silences in force, and adding and expiring
one with the rules every way in shares (the pages, the JSON API, `listener silence add`).
Matching itself is alerts/matchers.py."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from alerts.matchers import Matcher, MatcherError, Silence, parse_matcher
from listener.config import Config
from listener.config.rules import RuleBase
from listener.config.types import parse_duration
from listener.errors import NotFound, SilenceError
from listener.storage import store
from listener.storage.models import Incident
from listener.storage.models import Silence as SilenceRow

COMMENT_MAX = 1000
SILENCE_MAX = timedelta(days=90)
SILENCE_DURATIONS = ("1h", "2h", "4h", "8h", "1d", "3d", "7d")     # the forms' choices


def labels(rule: RuleBase, group: dict) -> dict[str, str]:
    """The labels silences match on: rule, brand, product, topic ("" when the group has none)."""
    topic = group.get("topic") or (rule.match.topics[0] if len(rule.match.topics) == 1 else "")
    return {"rule": rule.name, "brand": group.get("brand") or "",
            "product": group.get("product") or "", "topic": topic or ""}


def group_of(incident: Incident) -> dict:
    return {k: v for k in ("brand", "product", "topic") if (v := getattr(incident, k))}


def in_force(session: Session, now: datetime) -> list[Silence]:
    """The silences that end after now (active and pending), as alerts/matchers.py takes them."""
    return [Silence(s.id, tuple(Matcher(**m) for m in s.matchers), s.starts_at, s.ends_at,
                    s.created_by, s.comment)
            for s in store.silences(session, ending_after=now)]


def incident_matchers(config: Config, incident: Incident) -> list[str]:
    """The matchers a silence of this incident's kind starts from: its rule and labels."""
    rule = next((r for r in config.alerts.rules if r.name == incident.rule), None)
    found = (labels(rule, group_of(incident)) if rule is not None
             else {"rule": incident.rule, **group_of(incident)})
    return [f"{k}={v}" for k, v in found.items() if v]


def add_silence(session: Session, *, matchers: list[str], duration: str, comment: str,
                user: str, now: datetime, starts: datetime | None = None) -> SilenceRow:
    """A silence from `starts` (default now) for `duration` (e.g. 2h, 3d); SilenceError says what
    is wrong."""
    lines = [m.strip() for m in matchers if m.strip()]
    if not lines:
        raise SilenceError("a silence needs at least one matcher, e.g. topic=product_safety",
                           field="matchers")
    try:
        parsed = [parse_matcher(m) for m in lines]
    except MatcherError as exc:
        raise SilenceError(str(exc), field="matchers") from None
    try:
        length = parse_duration(duration.strip())
    except ValueError as exc:
        raise SilenceError(f"duration: {exc}", field="duration") from None
    if not timedelta(0) < length <= SILENCE_MAX:
        raise SilenceError(f"a silence lasts more than 0 and at most {SILENCE_MAX.days} days",
                           field="duration")
    comment = comment.strip()
    if not comment:
        raise SilenceError("a silence needs a comment: say why (it shows in every decision)",
                           field="comment")
    if len(comment) > COMMENT_MAX:
        raise SilenceError(f"a silence's comment is at most {COMMENT_MAX} characters",
                           field="comment")
    starts = starts or now
    return store.add_silence(session, matchers=[m.as_dict() for m in parsed], starts_at=starts,
                             ends_at=starts + length, created_by=user, comment=comment, now=now)


def expire_silence(session: Session, *, silence_id: int, now: datetime) -> SilenceRow:
    silence = store.expire_silence(session, silence_id=silence_id, now=now)
    if silence is None:
        raise NotFound(f"no silence {silence_id}")
    return silence


def silence_state(silence: SilenceRow, now: datetime) -> str:
    if now < silence.starts_at:
        return "pending"
    return "active" if now < silence.ends_at else "expired"
