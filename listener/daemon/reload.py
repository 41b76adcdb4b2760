"""Config hot reload: read and validate the file, say what a restart would still be needed for,
record every attempt, and tell the admin channel when a new config is refused.

The daemon (`runner.Daemon.reload`) swaps what it runs on; this module holds the plain
functions it uses, so that they can be tested and reused (the web admin page shows the history).
"""

from __future__ import annotations

import getpass
import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from alerts.notifiers import Notifier, Outgoing
from listener.config import Config, load_config
from listener.errors import ConfigError
from listener.storage.models import ConfigLoad

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    """The config file as read: its hash, and the config or the reason it was refused."""

    path: Path
    digest: str
    stamp: tuple[int, int] | None       # (mtime_ns, size) when read
    config: Config | None
    error: str | None


def file_stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def read_candidate(path: Path) -> Candidate:
    stamp = file_stamp(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return Candidate(path, "", stamp, None, f"{path}: cannot read the file: {exc.strerror}")
    digest = hashlib.sha256(raw).hexdigest()
    try:
        config = load_config(raw.decode("utf-8", errors="replace"), source=str(path))
    except ConfigError as exc:
        return Candidate(path, digest, stamp, None, str(exc))
    return Candidate(path, digest, stamp, config, None)


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def needs_restart(old: Config, new: Config) -> list[str]:
    """Settings a running daemon cannot take over; they apply at the next start."""
    out = []
    if old.database != new.database:
        out.append("database")
    if old.classifier != new.classifier:
        out.append("classifier")
    o, n = old.enabled_sources().get("replay"), new.enabled_sources().get("replay")
    if o is not None and n is not None and (o.speed, o.start) != (n.speed, n.start):
        out.append("sources.replay.speed/start (the simulated clock)")
    return out


def changed_sections(old: Config, new: Config) -> list[str]:
    return [name for name in type(new).model_fields if getattr(old, name) != getattr(new, name)]


def record_load(engine: Engine, *, path: Path, digest: str, ok: bool, who: str,
                error: str | None = None, changes: str = "") -> None:
    with Session(engine) as session:
        session.add(ConfigLoad(at=datetime.now(UTC), path=str(path), sha256=digest, ok=ok,
                               who=who, error=error, changes=changes))
        session.commit()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def refused_message(path: Path, who: str, error: str) -> dict:
    head = f":warning: Config reload refused ({who}): {path}"
    body = (f"```{_escape(error)}```\nThe running config stays in effect; fix the file and "
            "save it again.")
    return {"text": f"{head}\n{error}",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": _escape(head)}},
                       {"type": "section", "text": {"type": "mrkdwn", "text": body}}]}


def tell_admin(notifier: Notifier, config: Config, message: dict) -> None:
    """Best effort: a refused reload is also in the log and in config_loads."""
    channel = config.slack.admin_channel or config.slack.channel
    try:
        notifier.send(Outgoing(channel, message))
    except Exception as exc:   # the listening must go on whatever Slack says
        log.error("could not tell %s about the refused config: %s", channel, exc)
