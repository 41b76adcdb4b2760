"""The boolean query language shared by every source, parsed with pyparsing.

    "pumpkin glow"          a phrase (consecutive words)
    lumitoys  @lumitoys     a word; a plain word also matches its #hashtag and @handle forms
    flash*                  a trailing wildcard
    a b   a AND b           both (adjacent terms are ANDed)
    a OR b                  either
    NOT a   -a              exclusion
    a NEAR/3 b              within 3 words of each other, either order
    lang:en source:reddit author:name    field filters
    ( ... )                 grouping

Precedence, tightest first: NOT, NEAR, AND, OR. Matching is case- and accent-insensitive (`cafe`
matches "Café", `café` matches "CAFE") and works on words, so `glow` does not match `glowing` unless
written `glow*`. `listener.query.native` turns the same tree into Twitter's and Reddit's own syntax.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pyparsing as pp

from classifiers.text import fold, tokenize
from listener.errors import QueryError

pp.ParserElement.enable_packrat()

FIELDS = ("lang", "source", "author")


@dataclass(frozen=True)
class Doc:
    """What a query is matched against: the words of the text plus the field values."""

    tokens: tuple[str, ...]
    fields: dict[str, str]

    @classmethod
    def of(cls, text: str, **fields: str | None) -> Doc:
        return cls(tuple(tokenize(text)), {k: fold(v or "") for k, v in fields.items()})

    def positions(self, word: str, wildcard: bool) -> list[int]:
        out = []
        for i, tok in enumerate(self.tokens):
            bare = tok[1:] if tok[:1] in "#@" and word[:1] not in "#@" else tok
            if bare == word or (wildcard and bare.startswith(word)):
                out.append(i)
        return out


@dataclass(frozen=True)
class Clause:
    """Why one clause of a query did or did not match a text (`Node.explain`)."""

    clause: str
    matched: bool
    why: str
    children: tuple[Clause, ...] = ()

    def to_dict(self) -> dict:
        out = {"clause": self.clause, "matched": self.matched, "why": self.why}
        if self.children:
            out["children"] = [c.to_dict() for c in self.children]
        return out

    def lines(self, indent: int = 0) -> list[str]:
        mark = "✓" if self.matched else "✗"
        out = [f"{'  ' * indent}{mark} {self.clause}: {self.why}"]
        for child in self.children:
            out.extend(child.lines(indent + 1))
        return out


class Node:
    def spans(self, doc: Doc) -> list[tuple[int, int]]:
        """Token spans (start, end) where this node matches; used by NEAR."""
        raise NotImplementedError

    def matches(self, doc: Doc) -> bool:
        return bool(self.spans(doc))

    def explain(self, doc: Doc) -> Clause:
        """The same decision as `matches`, with the reason of each clause."""
        raise NotImplementedError


def _at(spans: list[tuple[int, int]]) -> str:
    a, b = spans[0]
    return f"word {a + 1}" if a == b else f"words {a + 1}-{b + 1}"


def _found(node: Node, doc: Doc) -> Clause:
    spans = node.spans(doc)
    if spans:
        return Clause(str(node), True, f"{_quoted(node)} found at {_at(spans)}")
    return Clause(str(node), False, f"{_quoted(node)} is not in the text")


def _quoted(node: Node) -> str:
    s = str(node)
    return s if s.startswith('"') else f'"{s}"'


WHOLE = [(0, 0)]  # a match that has no position (a field filter, a NOT)


@dataclass(frozen=True)
class Word(Node):
    word: str
    wildcard: bool = False

    def spans(self, doc):
        return [(i, i) for i in doc.positions(self.word, self.wildcard)]

    def explain(self, doc):
        return _found(self, doc)

    def __str__(self):
        return self.word + ("*" if self.wildcard else "")


@dataclass(frozen=True)
class Phrase(Node):
    words: tuple[str, ...]

    def spans(self, doc):
        n = len(self.words)
        starts = doc.positions(self.words[0], False)
        return [(s, s + n - 1) for s in starts
                if all(doc.positions(w, False).count(s + k) for k, w in enumerate(self.words))]

    def explain(self, doc):
        return _found(self, doc)

    def __str__(self):
        return '"' + " ".join(self.words) + '"'


@dataclass(frozen=True)
class Field(Node):
    name: str
    value: str

    def spans(self, doc):
        return WHOLE if doc.fields.get(self.name, "") == self.value else []

    def explain(self, doc):
        have = doc.fields.get(self.name) or ""
        if have == self.value:
            return Clause(str(self), True, f"{self.name} is {self.value!r}")
        shown = repr(have) if have else "not given"
        return Clause(str(self), False, f"{self.name} is {shown}, not {self.value!r}")

    def __str__(self):
        return f"{self.name}:{self.value}"


@dataclass(frozen=True)
class Not(Node):
    child: Node

    def spans(self, doc):
        return [] if self.child.matches(doc) else WHOLE

    def explain(self, doc):
        inner = self.child.explain(doc)
        if inner.matched:
            return Clause(str(self), False, f"excluded by {self}: {inner.why}", (inner,))
        return Clause(str(self), True, f"no {_quoted(self.child)} in the text", (inner,))

    def __str__(self):
        return f"-{self.child}"


@dataclass(frozen=True)
class And(Node):
    children: tuple[Node, ...]

    def spans(self, doc):
        out = []
        for child in self.children:
            s = child.spans(doc)
            if not s:
                return []
            out.extend(x for x in s if x is not WHOLE[0])
        return out or WHOLE

    def explain(self, doc):
        parts = tuple(c.explain(doc) for c in self.children)
        matched = self.matches(doc)
        wanted = [p for c, p in zip(self.children, parts, strict=True) if not isinstance(c, Not)]
        failing = [p for p in parts if not p.matched]
        if matched:
            why = "; ".join(p.why for p in wanted) or "every exclusion holds"
        elif failing and all(p.clause.startswith("-") for p in failing) and wanted:
            # what an administrator most needs to see: the match, and the exclusion that won
            why = ("; ".join(p.why for p in wanted) + ", but "
                   + "; ".join(p.why for p in failing))
        else:
            why = "; ".join(p.why for p in failing)
        return Clause(str(self), matched, why, parts)

    def __str__(self):
        return "(" + " AND ".join(map(str, self.children)) + ")"


@dataclass(frozen=True)
class Or(Node):
    children: tuple[Node, ...]

    def spans(self, doc):
        return [s for child in self.children for s in child.spans(doc)]

    def explain(self, doc):
        parts = tuple(c.explain(doc) for c in self.children)
        hits = [p for p in parts if p.matched]
        if hits:
            return Clause(str(self), True, "; ".join(p.why for p in hits), parts)
        near_misses = [p for p in parts if "near miss" in p.why]
        why = ("; ".join(p.why for p in near_misses) if near_misses
               else "none of " + ", ".join(p.clause for p in parts) + " matches")
        return Clause(str(self), False, why, parts)

    def __str__(self):
        return "(" + " OR ".join(map(str, self.children)) + ")"


@dataclass(frozen=True)
class Near(Node):
    left: Node
    right: Node
    distance: int

    def spans(self, doc):
        out = []
        for a in self.left.spans(doc):
            for b in self.right.spans(doc):
                gap = max(b[0] - a[1], a[0] - b[1])
                if 0 < gap <= self.distance:
                    out.append((min(a[0], b[0]), max(a[1], b[1])))
        return out

    def gaps(self, doc: Doc) -> list[int]:
        """Words between each occurrence of the two sides (1: adjacent), smallest first."""
        return sorted(max(b[0] - a[1], a[0] - b[1])
                      for a in self.left.spans(doc) for b in self.right.spans(doc)
                      if max(b[0] - a[1], a[0] - b[1]) > 0)

    def explain(self, doc):
        left, right = self.left.explain(doc), self.right.explain(doc)
        parts = (left, right)
        allowed = f"NEAR/{self.distance} allows at most {self.distance}"
        if not (left.matched and right.matched):
            return Clause(str(self), False, "; ".join(p.why for p in parts if not p.matched),
                          parts)
        gaps = self.gaps(doc)
        if gaps and gaps[0] <= self.distance:
            return Clause(str(self), True, f"{_quoted(self.left)} and {_quoted(self.right)} are "
                          f"{gaps[0]} word(s) apart ({allowed})", parts)
        if not gaps:
            return Clause(str(self), False, f"{_quoted(self.left)} and {_quoted(self.right)} "
                          "overlap; NEAR needs two separate places", parts)
        return Clause(str(self), False, f"near miss: {_quoted(self.left)} and "
                      f"{_quoted(self.right)} are {gaps[0]} words apart; {allowed}", parts)

    def __str__(self):
        return f"({self.left} NEAR/{self.distance} {self.right})"


def _word(tokens) -> Node:
    raw = tokens[0]
    wildcard = raw.endswith("*")
    parts = tokenize(raw.rstrip("*"))
    if not parts:
        raise pp.ParseException(raw, 0, f"{raw!r} has no letters or digits to match")
    if len(parts) == 1:
        return Word(parts[0], wildcard)
    if wildcard:
        raise pp.ParseException(raw, 0, f"wildcard on a multi-word term {raw!r}; quote it")
    return Phrase(tuple(parts))


def _phrase(tokens) -> Node:
    parts = tokenize(tokens[0])
    if not parts:
        raise pp.ParseException(tokens[0], 0, "empty phrase")
    return Phrase(tuple(parts)) if len(parts) > 1 else Word(parts[0])


def _nary(cls):
    def action(tokens):
        return tokens[0] if len(tokens) == 1 else cls(tuple(tokens))
    return action


def _near(tokens):
    seq = list(tokens)
    node = seq[0]
    for i in range(1, len(seq), 2):
        node = Near(node, seq[i + 1], int(seq[i]))
    return node


@lru_cache(maxsize=1)
def _grammar() -> pp.ParserElement:
    and_kw, or_kw, not_kw = pp.Keyword("AND"), pp.Keyword("OR"), pp.Keyword("NOT")
    near = pp.Regex(r"NEAR/(?P<n>\d+)").set_parse_action(lambda t: int(t["n"]))
    keyword = and_kw | or_kw | not_kw | near
    field = pp.Regex(rf"(?P<f>{'|'.join(FIELDS)}):(?P<v>[^\s()\"]+)").set_parse_action(
        lambda t: Field(t["f"], fold(t["v"])))
    phrase = pp.QuotedString('"', esc_char="\\").set_parse_action(_phrase)
    word = (~keyword + pp.Regex(r"[^\s()\"\-][^\s()\"]*")).set_parse_action(_word)
    operand = field | phrase | word
    operand.set_name("a word, a \"phrase\" or a field:value")
    negation = (not_kw | pp.Literal("-")).set_name("NOT")
    or_expr = pp.Forward()
    group = pp.Suppress("(") + or_expr + pp.Suppress(")")
    unary = pp.Forward()
    unary <<= (negation + unary).set_parse_action(lambda t: Not(t[-1])) | operand | group
    near_expr = (unary + pp.ZeroOrMore(near + unary)).set_parse_action(_near)
    and_expr = (near_expr + pp.ZeroOrMore(pp.Suppress(pp.Opt(and_kw)) + near_expr)
                ).set_parse_action(_nary(And))
    or_expr <<= (and_expr + pp.ZeroOrMore(pp.Suppress(or_kw) + and_expr)
                 ).set_parse_action(_nary(Or))
    return or_expr


@lru_cache(maxsize=4096)
def parse(query: str) -> Node:
    """Parse a query; raises QueryError naming the column and what was expected."""
    if not query or not query.strip():
        raise QueryError("the query is empty")
    try:
        node = _grammar().parse_string(query, parse_all=True)[0]
    except pp.ParseBaseException as exc:
        col = exc.col
        near_text = query[col - 1:col + 9] if col - 1 < len(query) else "the end"
        reason = exc.msg if "Expected" not in exc.msg else "unexpected input"
        if query.count('"') % 2:
            col = query.rindex('"') + 1
            raise QueryError(f"the quote at column {col} is not closed") from None
        unbalanced = _unbalanced_paren(query)
        if unbalanced:
            raise QueryError(unbalanced) from None
        raise QueryError(f"{reason} at column {col} (near {near_text!r})") from None
    if isinstance(node, Not):
        raise QueryError("a query cannot be only an exclusion; say what to match too")
    return node


def _unbalanced_paren(query: str) -> str | None:
    """Where parentheses (outside quotes) do not pair up, if they don't."""
    stack, quoted = [], False
    for i, ch in enumerate(query, start=1):
        if ch == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif ch == "(":
            stack.append(i)
        elif ch == ")":
            if not stack:
                return f"the ) at column {i} closes nothing"
            stack.pop()
    return f"the ( at column {stack[-1]} is not closed" if stack else None


def matches(query: str, text: str, **fields: str | None) -> bool:
    return parse(query).matches(Doc.of(text, **fields))


def explain(query: str, text: str, **fields: str | None) -> Clause:
    return parse(query).explain(Doc.of(text, **fields))
