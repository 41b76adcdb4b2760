"""Helpers for the source tests: a minimal config around one source block, and what the store
holds after `listener.pipeline.collect.collect`."""

from __future__ import annotations

from sqlmodel import Session, select

from listener.config import Config, load_config
from listener.storage.models import Mention, SourceState

BRAND_QUERY = '("lumi toys" OR lumitoys OR "pumpkin glow" OR pumpkinglow) -hiring'


def config_with(source_block: str, env: dict | None = None) -> Config:
    """A config with the Lumi Toys brand and one `sources:` block (YAML, indented 2)."""
    text = ("brands:\n  - name: Lumi Toys\n"
            f"    query: '{BRAND_QUERY}'\n"
            "    products:\n      - {name: Pumpkin Glow flashlight, query: '\"pumpkin glow\"'}\n"
            "sources:\n" + source_block)
    return load_config(text, env=env or {})


def queries(config: Config) -> list[str]:
    return [b.query for b in config.brands]


def mentions(engine) -> list[Mention]:
    with Session(engine) as session:
        return list(session.exec(select(Mention).order_by(Mention.created_at, Mention.id)))


def state(engine, name: str) -> SourceState | None:
    with Session(engine) as session:
        return session.get(SourceState, name)
