"""Which brand and product a mention is about, by the config's queries."""

from __future__ import annotations

from dataclasses import dataclass

from listener.config import Config
from listener.query.parser import Doc, parse
from listener.sources.contract import RawMention


@dataclass(frozen=True)
class Match:
    brand: str
    product: str | None


def match_mention(config: Config, m: RawMention) -> Match | None:
    doc = Doc.of(m.text, lang=m.lang, source=m.source, author=m.author)
    for brand in config.brands:
        if parse(brand.query).matches(doc):
            product = next((p.name for p in brand.products if parse(p.query).matches(doc)), None)
            return Match(brand.name, product)
    return None
