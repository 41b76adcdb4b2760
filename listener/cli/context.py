"""What every CLI command gets: the config path, the database URL, and lazy builders."""

from __future__ import annotations

from pathlib import Path

from listener.config import Config, load_config_file

# the public data beside the checkout: the default --data of train, eval and bench
SHARED = Path("../shared/data")


class Ctx:
    def __init__(self, config_path: Path, database_url: str | None, verbose: int) -> None:
        self.config_path = config_path
        self.database_url = database_url
        self.verbose = verbose
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config_file(self.config_path)
        return self._config

    @property
    def config_dir(self) -> Path:
        return self.config_path.resolve().parent

    def engine(self):
        from listener.daemon.runner import build_engine
        return build_engine(self.config, self.config_dir, self.database_url)

    def now(self, engine):
        """The time a command acts at: for a replay config, just after the newest stored
        mention (replayed data lives in the past); else the wall clock."""
        from datetime import UTC, datetime

        from sqlalchemy import func, select
        from sqlmodel import Session

        from listener.storage.models import Mention
        if "replay" in self.config.enabled_sources():
            with Session(engine) as s:
                newest = s.execute(select(func.max(Mention.created_epoch))).scalar()
            if newest:
                return datetime.fromtimestamp(newest + 1, tz=UTC)
        return datetime.now(UTC)
