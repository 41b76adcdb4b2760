"""Search terms for platforms whose search takes plain words (Bluesky, Hacker News, Mastodon).

Their search languages are small or unspecified, so a brand query is not translated whole.
It is expanded into the alternatives it accepts (disjunctive normal form over its positive
terms) and each alternative is searched on its own: `("lumi toys" OR lumitoys) -job` becomes
the searches `"lumi toys"` and `lumitoys`. Exclusions, NEAR distances and field filters are
left to the local match that every fetched mention goes through anyway (listener.query.matching);
searching wider than the query is safe, narrower would lose mentions.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from listener.query.parser import And, Near, Node, Or, Phrase, Word, parse

log = logging.getLogger(__name__)

MAX_SEARCHES = 25  # a query with many ANDed ORs multiplies out; past this, searching stops


def _alternatives(node: Node) -> list[tuple[str, ...]]:
    if isinstance(node, Word):
        word = node.word.lstrip("#@")  # the platforms' search finds hashtags and handles by word
        return [(word,)] if word else [()]
    if isinstance(node, Phrase):
        return [('"' + " ".join(w.lstrip("#@") for w in node.words) + '"',)]
    if isinstance(node, Or):
        return [alt for child in node.children for alt in _alternatives(child)]
    if isinstance(node, And | Near):
        children = node.children if isinstance(node, And) else (node.left, node.right)
        combos: list[tuple[str, ...]] = [()]
        for child in children:
            combos = [a + b for a in combos for b in _alternatives(child)]
        return combos
    return [()]  # Not, field filters: no search term of their own


def search_terms(queries: Iterable[str] | None) -> list[str]:
    """The distinct searches that together cover every query, in the queries' order."""
    out: list[str] = []
    for query in queries or []:
        alts = _alternatives(parse(query))
        if any(not alt for alt in alts):
            log.warning("query %r can match without any word; only its worded alternatives are "
                        "searched", query)
        for alt in alts:
            terms = " ".join(dict.fromkeys(alt))
            if terms and terms not in out:
                out.append(terms)
    if len(out) > MAX_SEARCHES:
        log.warning("the brand queries expand to %d searches; only the first %d are run",
                    len(out), MAX_SEARCHES)
        out = out[:MAX_SEARCHES]
    return out

