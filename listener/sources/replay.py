"""Replay a JSONL file of mentions on a compressed clock.

Each line is one mention: {"source", "external_id", "created_at" (ISO 8601), "text", "author",
"author_followers", "url", "lang"}. A fetch returns every line whose `created_at` is at or before
the clock's now, after the cursor; the cursor is the byte offset and line number reached. A line
that cannot be read is skipped, counted and logged with its line number; the rest goes on.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from listener.config.types import Duration, Strict
from listener.errors import PermanentSourceError
from listener.sources.contract import Batch, Cursor, RawMention, SourceContext

log = logging.getLogger(__name__)
BUILTIN_PREFIX = "builtin:"


class ReplaySettings(Strict):
    path: str = Field("builtin:demo_stream.jsonl", description=(
        "JSONL file to replay, relative to the config file; builtin:NAME is a file shipped in "
        "listener/data"))
    speed: float = Field(720.0, gt=0, description=(
        "simulated seconds per real second (720: a day in two minutes)"))
    every: Duration = Field("1s", description="how often (real time) to poll the file")
    start: datetime | None = Field(None, description=(
        "simulated time to start from; default: the first line's time"))
    format: Literal["auto", "jsonl", "csv"] = Field("auto", description=(
        "jsonl (one mention per line) or csv (a header row; rows replayed in time order); "
        "auto: by the file's suffix"))
    columns: dict[str, str] = Field(default_factory=dict, description=(
        "csv: mention field -> column, for external_id, created_at, text, author, "
        "author_followers, url, lang (default: the same names)"))
    time_format: str | None = Field(None, description=(
        "csv: strptime format of created_at when it is not ISO 8601, read as UTC "
        "(e.g. '%m/%d/%Y %H:%M')"))
    platform: str = Field("replay", max_length=32, description=(
        "csv: the source name stored with each row (e.g. twitter)"))


def parse_time(value: str) -> datetime:
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        raise ValueError(f"{value!r} has no timezone; write e.g. 2026-10-30T09:40:00Z")
    return dt.astimezone(UTC)


def resolve_path(path: str, base_dir: Path) -> Path:
    if path.startswith(BUILTIN_PREFIX):
        return Path(str(resources.files("listener") / "data" / path[len(BUILTIN_PREFIX):]))
    p = Path(path)
    return p if p.is_absolute() else base_dir / p


def read_mention(line: str) -> RawMention:
    obj = json.loads(line)
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    missing = [k for k in ("external_id", "created_at", "text") if not obj.get(k)]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    return RawMention(
        source=str(obj.get("source") or "replay"),
        external_id=str(obj["external_id"]),
        created_at=parse_time(str(obj["created_at"])),
        text=str(obj["text"]),
        author=str(obj.get("author") or ""),
        author_reach=int(obj.get("author_followers") or 0),
        url=str(obj.get("url") or ""),
        lang=obj.get("lang"),
        raw=obj,
    )


class ReplaySource:
    name: ClassVar[str] = "replay"
    Settings: ClassVar[type[Strict]] = ReplaySettings

    def __init__(self, context: SourceContext) -> None:
        # the context's `queries` (for sources that search) are not needed: a replay is
        # matched locally like every source
        self.context = context
        self.settings = context.settings
        self.path = resolve_path(self.settings.path, context.base_dir)

    def first_time(self) -> datetime | None:
        """Time of the first readable line (the start of the simulated clock)."""
        batch = self._read({"offset": 0, "line": 0}, until=None, limit=1)
        return batch.mentions[0].created_at if batch.mentions else None

    def time_range(self) -> tuple[datetime, datetime]:
        """Times of the first and last readable lines."""
        batch = self._read({"offset": 0, "line": 0}, until=None)
        if not batch.mentions:
            raise PermanentSourceError(f"replay file {self.path} holds no readable mention")
        times = [m.created_at for m in batch.mentions]
        return min(times), max(times)

    def fetch(self, cursor: Cursor | None) -> Batch:
        return self._read(cursor or {"offset": 0, "line": 0}, until=self.context.clock())

    def is_csv(self) -> bool:
        fmt = self.settings.format
        return fmt == "csv" or (fmt == "auto" and self.path.suffix.lower() == ".csv")

    def _csv_rows(self) -> tuple[list[RawMention], int]:
        """Every readable row in time order (a CSV field may hold newlines, so the file is read
        whole; the cursor is then a row index)."""
        import csv

        st = self.settings
        col = {k: st.columns.get(k, k) for k in ("external_id", "created_at", "text", "author",
                                                   "author_followers", "url", "lang")}
        rows, malformed = [], 0
        with self.path.open(newline="", encoding="utf-8", errors="replace") as f:
            for n, row in enumerate(csv.DictReader(f), start=2):
                try:
                    when = row.get(col["created_at"]) or ""
                    created = (datetime.strptime(when, st.time_format).replace(tzinfo=UTC)
                               if st.time_format else parse_time(when))
                    if not row.get(col["external_id"]) or not row.get(col["text"]):
                        raise ValueError(f"missing {col['external_id']} or {col['text']}")
                    rows.append(RawMention(
                        source=st.platform, external_id=str(row[col["external_id"]]),
                        created_at=created, text=row[col["text"]],
                        author=row.get(col["author"]) or "",
                        author_reach=int(row.get(col["author_followers"]) or 0),
                        url=row.get(col["url"]) or "", lang=row.get(col["lang"]) or None,
                        raw=dict(row)))
                except (ValueError, TypeError) as exc:
                    malformed += 1
                    log.warning("%s:%d: skipped malformed row: %s", self.path.name, n, exc)
        rows.sort(key=lambda m: m.created_at)
        return rows, malformed

    def _read_csv(self, cursor: Cursor, until: datetime | None, limit: int | None) -> Batch:
        rows, malformed = self._csv_rows()
        start = int(cursor.get("row", 0))
        out = []
        for m in rows[start:]:
            if until is not None and m.created_at > until:
                break
            out.append(m)
            if limit and len(out) >= limit:
                break
        at = out[-1].created_at.isoformat() if out else cursor.get("at")
        end = start + len(out)
        return Batch(out, {"row": end, "at": at}, malformed if start == 0 else 0,
                     exhausted=end >= len(rows))

    def _read(self, cursor: Cursor, until: datetime | None, limit: int | None = None) -> Batch:
        if not self.path.is_file():
            raise PermanentSourceError(
                f"replay file {self.path} does not exist (sources.replay.path)")
        if self.is_csv():
            return self._read_csv(cursor, until, limit)
        offset, lineno = int(cursor.get("offset", 0)), int(cursor.get("line", 0))
        out: list[RawMention] = []
        malformed = 0
        exhausted = False
        with self.path.open("rb") as f:
            f.seek(offset)
            while True:
                raw = f.readline()
                if not raw:
                    exhausted = True
                    break
                if not raw.endswith(b"\n") and until is not None:
                    break  # a line still being written: read it next time
                lineno += 1
                text = raw.decode("utf-8", errors="replace").strip()
                if text:
                    try:
                        mention = read_mention(text)
                    except (ValueError, TypeError) as exc:
                        malformed += 1
                        log.warning("%s:%d: skipped malformed line: %s", self.path.name,
                                    lineno, exc)
                        offset += len(raw)
                        continue
                    if until is not None and mention.created_at > until:
                        lineno -= 1
                        break
                    out.append(mention)
                offset += len(raw)
                if limit and len(out) >= limit:
                    break
        at = out[-1].created_at.isoformat() if out else cursor.get("at")
        return Batch(out, {"offset": offset, "line": lineno, "at": at}, malformed, exhausted)
