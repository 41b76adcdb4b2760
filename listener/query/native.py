"""Compile a parsed query (`listener.query.parser`) to Twitter's and Reddit's own search syntax.

A native query is a pre-filter: the platform returns candidates, and every fetched mention is
matched against the full query again locally (`listener.query.matching`). So where a platform cannot
express a part of the query, the native query gets wider rather than narrower:

    query            Twitter (API v2 search)          Reddit (search)
    word             word                             word
    #tag  @handle    #tag  @handle                    tag  handle                   (wider)
    "a phrase"       "a phrase"                       "a phrase"
    flash*           flash                            flash           (narrower: see below)
    a NEAR/3 b       a b                              a AND b                       (wider)
    -x  NOT x        -x; -(a OR b) as -a -b           NOT x
    lang:en          lang:en                          left out                      (wider)
    author:name      from:name                        author:name
    source:name      everything on its own platform, nothing elsewhere

Neither platform has wildcards, so `flash*` is searched as its stem `flash` and misses posts
that only say "flashlight": `approximations` lists such terms so the source can warn. Accents
and case are folded by the parser (`café` is searched as `cafe`, which both platforms also match
in accented text). An exclusion of a widened part is left out. A query with nothing the platform
can search by is a `QueryError`; one that can never match there (`source:reddit` on Twitter)
compiles to None.

`native_queries` ORs the brand queries together and splits the result into queries no longer
than the platform's limit (512 characters on both), whose union is the original.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from listener.errors import QueryError
from listener.query.parser import And, Field, Near, Node, Not, Or, Phrase, Word, parse


@dataclass(frozen=True)
class Native:
    """A compiled (sub)query. `kind` "all" matches everything, "none" nothing."""

    text: str = ""
    kind: str = "text"               # text | all | none
    wider: bool = False              # may match more than the query it came from (harmless)
    narrower: tuple[str, ...] = ()   # terms searched approximately: may miss some matches
    standalone: bool = True          # has a term the platform can search by on its own
    op: str | None = None            # "and" / "or": needs parentheses inside another operator

    def inside(self, op: str) -> str:
        return f"({self.text})" if self.op and self.op != op else self.text


ALL = Native(kind="all")
WIDER = Native(kind="all", wider=True)
NONE = Native(kind="none")


@dataclass(frozen=True)
class Dialect:
    name: str
    title: str
    and_sep: str
    limit: int = 512

    def term(self, node: Word | Phrase | Field) -> Native:
        if isinstance(node, Phrase):
            return Native('"' + " ".join(node.words) + '"')
        if isinstance(node, Word):
            if node.wildcard:  # no wildcards: the stem, which misses longer words
                return replace(self.word(node.word), narrower=(f"{node}",))
            return self.word(node.word)
        return self.field(node)

    def word(self, word: str) -> Native:
        return Native(word)

    def field(self, node: Field) -> Native:
        if node.name == "source":
            return ALL if node.value == self.name else NONE
        raise ValueError(f"no {self.name} form for {node}")

    def negate(self, node: Node, child: Native) -> Native:
        raise NotImplementedError


class TwitterDialect(Dialect):
    def field(self, node: Field) -> Native:
        if node.name == "lang":
            return Native(f"lang:{node.value}", standalone=False)   # conjunction-required
        if node.name == "author":
            return Native(f"from:{node.value.lstrip('@')}")
        return super().field(node)

    def negate(self, node: Node, child: Native) -> Native:
        # X's advice: never negate a parenthesised group; negate each operator instead
        if isinstance(node, Or):
            return compile_node(And(tuple(Not(c) for c in node.children)), self)
        if child.op:
            return WIDER
        return Native("-" + child.text, standalone=False, wider=bool(child.narrower))


class RedditDialect(Dialect):
    def word(self, word: str) -> Native:
        if word[:1] in "#@":   # no hashtag or mention syntax on reddit: the bare word, wider
            return Native(word[1:], wider=True)
        return Native(word)

    def field(self, node: Field) -> Native:
        if node.name == "lang":
            return WIDER
        if node.name == "author":
            return Native(f"author:{node.value.lstrip('@')}")
        return super().field(node)

    def negate(self, node: Node, child: Native) -> Native:
        return Native("NOT " + child.inside(""), standalone=False, wider=bool(child.narrower))


TWITTER = TwitterDialect("twitter", "Twitter", " ")
REDDIT = RedditDialect("reddit", "Reddit", " AND ")


def compile_node(node: Node, dialect: Dialect) -> Native:
    if isinstance(node, Word | Phrase | Field):
        return dialect.term(node)
    if isinstance(node, Near):
        both = compile_node(And((node.left, node.right)), dialect)
        return both if both.kind == "none" else replace(both, wider=True)
    if isinstance(node, Not):
        if isinstance(node.child, Not):
            return compile_node(node.child.child, dialect)
        child = compile_node(node.child, dialect)
        if child.kind == "none":
            return ALL
        if child.kind == "all":
            return WIDER if child.wider else NONE
        if child.wider:
            return WIDER    # excluding a widened part would exclude too much: leave it out
        return dialect.negate(node.child, child)
    if isinstance(node, And):
        return _and([compile_node(c, dialect) for c in node.children], dialect)
    if isinstance(node, Or):
        return _or([compile_node(c, dialect) for c in node.children])
    raise TypeError(f"unknown query node {node!r}")


def _merged(parts: list[Native]) -> dict:
    return {"wider": any(p.wider for p in parts),
            "narrower": tuple(dict.fromkeys(n for p in parts for n in p.narrower))}


def _and(parts: list[Native], dialect: Dialect) -> Native:
    if any(p.kind == "none" for p in parts):
        return NONE
    texts = list({p.text: p for p in parts if p.kind == "text"}.values())
    if not texts:
        return WIDER if any(p.wider for p in parts) else ALL
    if len(texts) == 1:
        return replace(texts[0], **_merged(parts))
    return Native(dialect.and_sep.join(p.inside("and") for p in texts), op="and",
                  standalone=any(p.standalone for p in texts), **_merged(parts))


def _or(parts: list[Native]) -> Native:
    if any(p.kind == "all" and not p.wider for p in parts):
        return ALL
    if any(p.kind == "all" for p in parts):
        return WIDER
    texts = list({p.text: p for p in parts if p.kind == "text"}.values())
    if not texts:
        return NONE
    if len(texts) == 1:
        return texts[0]
    return Native(" OR ".join(p.inside("or") for p in texts), op="or",
                  standalone=all(p.standalone for p in texts), **_merged(texts))


def _render(node: Node, dialect: Dialect, label: str | None = None) -> str | None:
    native = compile_node(node, dialect)
    if native.kind == "none":
        return None
    if native.kind == "all" or not native.standalone:
        raise QueryError(
            f"{label or str(node)!r} cannot be searched on {dialect.title}: it needs a word, a "
            f"\"phrase\" or author: that {dialect.title} can search for on its own (lang: and "
            f"exclusions only narrow a search)")
    return native.text


def to_twitter(node: Node) -> str | None:
    """The query in Twitter API v2 search syntax; None when it can never match a tweet."""
    return _render(node, TWITTER)


def to_reddit(node: Node) -> str | None:
    """The query in Reddit search syntax; None when it can never match a Reddit post."""
    return _render(node, REDDIT)


def approximations(queries: Sequence[str], dialect: Dialect) -> list[str]:
    """Terms the platform can only search approximately (wildcards: their stem), so that some
    mentions the query would match are not returned. Worth a warning to the administrator."""
    return list(dict.fromkeys(
        term for q in queries for term in compile_node(parse(q), dialect).narrower))


def native_queries(queries: Sequence[str], dialect: Dialect, *, limit: int | None = None,
                   also: Node | None = None) -> list[str]:
    """The brand `queries`, ORed, ANDed with `also` (e.g. a lang:), compiled for `dialect` and
    split into queries of at most `limit` characters whose union is the whole. Brands that can
    never match on the platform are left out; the result is empty when none can."""
    limit = limit or dialect.limit
    searchable = [parse(q) for q in queries if _render(parse(q), dialect, q) is not None]
    if not searchable:
        return []
    node = _flat_or(searchable)
    if also is not None:
        node = _flat_and([node, also])
    return list(dict.fromkeys(_split(node, dialect, limit)))


def _split(node: Node, dialect: Dialect, limit: int) -> list[str]:
    text = _render(node, dialect)
    if text is None:
        return []
    if len(text) <= limit:
        return [text]
    if isinstance(node, Or):
        return _pack(list(node.children), _flat_or, dialect, limit)
    if isinstance(node, And):
        ors = [c for c in node.children if isinstance(c, Or)]
        if ors:
            widest = max(ors, key=lambda c: len(compile_node(c, dialect).text))
            i = node.children.index(widest)
            rest = list(node.children)

            def wrap(group: list[Node]) -> Node:
                return _flat_and([*rest[:i], _flat_or(group), *rest[i + 1:]])
            return _pack(list(widest.children), wrap, dialect, limit)
    raise QueryError(f"{str(node)!r} is {len(text)} characters in {dialect.title} search syntax, "
                     f"over its limit of {limit}, and has no OR to split it at; shorten it")


def _pack(children: list[Node], wrap: Callable[[list[Node]], Node], dialect: Dialect,
          limit: int) -> list[str]:
    """Greedily group `children` so that each wrap(group) compiles within the limit."""
    out: list[str] = []
    group: list[Node] = []
    for child in children:
        candidate = _render(wrap([*group, child]), dialect)
        if candidate is None or len(candidate) <= limit:
            group.append(child)
            continue
        if group:
            out.extend(_split(wrap(group), dialect, limit))
        group = [child]
        single = _render(wrap(group), dialect)
        if single is not None and len(single) > limit:
            out.extend(_split(wrap(group), dialect, limit))
            group = []
    if group:
        out.extend(_split(wrap(group), dialect, limit))
    return out


def _flat_or(nodes: Sequence[Node]) -> Node:
    flat = [c for n in nodes for c in (n.children if isinstance(n, Or) else (n,))]
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


def _flat_and(nodes: Sequence[Node]) -> Node:
    flat = [c for n in nodes for c in (n.children if isinstance(n, And) else (n,))]
    return flat[0] if len(flat) == 1 else And(tuple(flat))
