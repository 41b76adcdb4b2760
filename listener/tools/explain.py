"""Why a text is (or is not) about a brand, in a topic, counted by an alert rule; and the config's
own examples (`should_match` / `should_not_match`) run as tests.

Everything here calls the same code the daemon runs: the query tree's `explain` (the matcher
itself, with reasons), the classifier, the topic matcher. Nothing is decided twice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from classifiers.builtin import clean
from listener.config import Config
from listener.query.parser import Clause, Doc, parse

SEVERITY_ORDER = ("low", "medium", "high", "critical")


@dataclass(frozen=True)
class QueryCheck:
    kind: str               # brand | product
    name: str
    brand: str
    query: str
    matched: bool
    clause: Clause

    def to_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name, "brand": self.brand, "query": self.query,
                "matched": self.matched, "why": self.clause.why,
                "clauses": self.clause.to_dict()}


@dataclass(frozen=True)
class TopicCheck:
    name: str
    matched: bool
    score: float
    evidence: str
    severity: str


@dataclass(frozen=True)
class RuleCheck:
    name: str
    counts: bool
    why: str


@dataclass
class Explanation:
    text: str
    source: str | None
    lang: str | None
    brand: str | None
    product: str | None
    queries: list[QueryCheck]
    sentiment: str | None = None
    sentiment_score: float | None = None
    complaint: float | None = None
    topics: list[TopicCheck] = field(default_factory=list)
    severity: str | None = None
    rules: list[RuleCheck] = field(default_factory=list)
    model_version: str | None = None
    detected_lang: str | None = None      # by the classifier, when it detects languages

    def to_dict(self) -> dict:
        out = asdict(self)
        out["queries"] = [q.to_dict() for q in self.queries]
        return out


# ---------------------------------------------------------------------------------------------
# Queries


def explain_queries(config: Config, text: str, *, source: str | None = None,
                    lang: str | None = None, author: str | None = None
                    ) -> tuple[str | None, str | None, list[QueryCheck]]:
    """(brand, product, every query's check). Brand and product are decided as
    `listener.query.matching.match_mention` does: the first brand that matches, then its first
    product that matches."""
    doc = Doc.of(text, lang=lang, source=source, author=author)
    brand = product = None
    checks = []
    for b in config.brands:
        clause = parse(b.query).explain(doc)
        checks.append(QueryCheck("brand", b.name, b.name, b.query, clause.matched, clause))
        if clause.matched and brand is None:
            brand = b.name
        for p in b.products:
            pc = parse(p.query).explain(doc)
            checks.append(QueryCheck("product", p.name, b.name, p.query, pc.matched, pc))
            if pc.matched and brand == b.name and product is None:
                product = p.name
    return brand, product, checks


# ---------------------------------------------------------------------------------------------
# Classifier


def explain_topics(config: Config, classifier,
                   texts: list[str]) -> list[tuple[object, list[TopicCheck]]]:
    """For each text: its labels and every configured topic's check (matched as the classifier
    decided; the evidence is the keyword, or the nearest description/example and similarity)."""
    labels = classifier.classify(texts)
    details: list[dict] = [{} for _ in texts]
    matcher = getattr(classifier, "topics", None)
    if matcher is not None and hasattr(matcher, "explain") and config.topics:
        emb = classifier.encoder.encode([clean(t) for t in texts])
        for i, t in enumerate(texts):
            details[i] = {name: hit for name, _, hit in matcher.explain(clean(t), emb[i])}
    out = []
    for i, lab in enumerate(labels):
        checks = []
        for topic in config.topics:
            hit = lab.topics.get(topic.name)
            if hit is not None:
                checks.append(TopicCheck(topic.name, True, hit.score, hit.evidence,
                                         topic.severity))
                continue
            detail = details[i].get(topic.name)
            score = detail.score if detail is not None else 0.0
            evidence = detail.evidence if detail is not None else "not found"
            if (detail is not None and not evidence.startswith("no keyword")
                    and topic.sentiments and lab.sentiment not in topic.sentiments):
                evidence += (f"; but the topic only takes {'/'.join(topic.sentiments)} mentions "
                             f"and this one is {lab.sentiment}")
            checks.append(TopicCheck(topic.name, False, score, evidence, topic.severity))
        out.append((lab, checks))
    return out


def severity_of(topics: list[TopicCheck]) -> str | None:
    levels = [t.severity for t in topics if t.matched]
    return max(levels, key=SEVERITY_ORDER.index) if levels else None


def explain_rules(config: Config, *, brand: str | None, sentiment: str | None,
                  topics: list[str]) -> list[RuleCheck]:
    """Which alert rules would count the mention, and why the others would not."""
    out = []
    for rule in config.alerts.rules:
        m = rule.match
        if brand is None:
            out.append(RuleCheck(rule.name, False, "no brand matches, so the mention is not "
                                                   "stored"))
            continue
        reasons = []
        if m.brand and m.brand != brand:
            reasons.append(f"the rule is for {m.brand}, the mention is about {brand}")
        if m.sentiment and m.sentiment != sentiment:
            reasons.append(f"sentiment is {sentiment}; the rule counts {m.sentiment}")
        hits = [t for t in m.topics if t in topics]
        if m.topics and not hits:
            reasons.append(f"not in topic {' or '.join(m.topics)}")
        if reasons:
            out.append(RuleCheck(rule.name, False, "; ".join(reasons)))
            continue
        why = [f"brand {brand}"]
        if m.sentiment:
            why.append(f"sentiment {sentiment}")
        if hits:
            why.append(f"topic {', '.join(hits)}")
        out.append(RuleCheck(rule.name, True, f"counts ({', '.join(why)}), {rule.detector} "
                                              f"detector over {_fmt_window(rule.window)}"))
    return out


def _fmt_window(td) -> str:
    from listener.config.types import format_duration
    return format_duration(td)


def explain_text(config: Config, classifier, text: str, *, source: str | None = None,
                 lang: str | None = None, author: str | None = None) -> Explanation:
    brand, product, queries = explain_queries(config, text, source=source, lang=lang,
                                              author=author)
    out = Explanation(text, source, lang, brand, product, queries)
    if classifier is None:
        return out
    ((labels, topics),) = explain_topics(config, classifier, [text])
    out.sentiment, out.sentiment_score = labels.sentiment, labels.sentiment_score
    out.complaint = labels.complaint
    out.topics = topics
    out.severity = severity_of(topics)
    out.rules = explain_rules(config, brand=brand, sentiment=labels.sentiment,
                              topics=[t.name for t in topics if t.matched])
    out.model_version = getattr(classifier, "version", None)
    out.detected_lang = getattr(labels, "language", None)
    return out


def render(e: Explanation) -> str:
    """The explanation as an administrator reads it in a terminal."""
    lines = [f"text:      {e.text}",
             f"source:    {e.source or '(any)'}",
             f"language:  {e.lang or 'not given (the source reports it; pass --lang)'}"
             + (f"; detected {e.detected_lang}" if e.detected_lang else "")]
    if e.brand:
        b = next(q for q in e.queries if q.kind == "brand" and q.name == e.brand)
        lines.append(f"brand:     {e.brand} — {b.clause.why}")
    else:
        lines.append("brand:     none — the mention would not be stored")
        for q in e.queries:
            if q.kind == "brand":
                lines.append(f"           {q.name}: {q.clause.why}")
    lines.append(f"product:   {e.product or 'none'}")
    lines.append("queries:")
    for q in e.queries:
        mark = "✓" if q.matched else "✗"
        what = q.name if q.kind == "brand" else f"{q.brand} / {q.name}"
        lines.append(f"  {mark} {q.kind} {what}: {q.clause.why}")
        lines.extend("      " + line for line in q.clause.lines())
    if e.sentiment is not None:
        lines.append(f"sentiment: {e.sentiment} ({e.sentiment_score:.2f})")
        if e.complaint is not None:
            lines.append(f"complaint: {e.complaint:.2f} probability")
        lines.append("topics:")
        for t in e.topics:
            mark = "✓" if t.matched else "✗"
            lines.append(f"  {mark} {t.name} {t.score:.2f} [{t.severity}]: {t.evidence}")
        if not e.topics:
            lines.append("  (no topics configured)")
        lines.append(f"severity:  {e.severity or 'none (no topic)'}")
        lines.append("alert rules:")
        for r in e.rules:
            lines.append(f"  {'✓' if r.counts else '✗'} {r.name}: {r.why}")
        if not e.rules:
            lines.append("  (no rules configured)")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The config's own examples


@dataclass(frozen=True)
class ExampleResult:
    kind: str          # brand | product | topic
    name: str
    expect: str        # should_match | should_not_match
    text: str
    passed: bool
    explanation: str


def _product_verdict(config: Config, brand_name: str, product_name: str,
                     text: str) -> tuple[bool, str]:
    brand, product, checks = explain_queries(config, text)
    b = next(q for q in checks if q.kind == "brand" and q.name == brand_name)
    p = next(q for q in checks if q.kind == "product" and q.brand == brand_name
             and q.name == product_name)
    if brand != brand_name:
        why = (f"the brand query of {brand_name} does not match: {b.clause.why}"
               if not b.matched else f"an earlier brand, {brand}, takes the mention")
        return False, why
    if product == product_name:
        return True, p.clause.why
    if p.matched:
        return False, f"an earlier product, {product}, takes the mention"
    return False, p.clause.why


def run_examples(config: Config, classifier=None) -> list[ExampleResult]:
    """Every `should_match` / `should_not_match` example of the config, checked. The classifier
    is needed only when a topic has examples."""
    out: list[ExampleResult] = []
    for b in config.brands:
        for expect, want in (("should_match", True), ("should_not_match", False)):
            for text in getattr(b, expect):
                clause = parse(b.query).explain(Doc.of(text))
                out.append(ExampleResult("brand", b.name, expect, text, clause.matched == want,
                                         _verdict(clause.matched, clause.why)))
        for p in b.products:
            for expect, want in (("should_match", True), ("should_not_match", False)):
                for text in getattr(p, expect):
                    got, why = _product_verdict(config, b.name, p.name, text)
                    out.append(ExampleResult("product", f"{b.name} / {p.name}", expect, text,
                                             got == want, _verdict(got, why)))
    cases = [(t, expect, want, text) for t in config.topics
             for expect, want in (("should_match", True), ("should_not_match", False))
             for text in getattr(t, expect)]
    if cases:
        if classifier is None:
            raise ValueError("topic examples need a classifier")
        texts = sorted({c[3] for c in cases})
        checked = dict(zip(texts, explain_topics(config, classifier, texts), strict=True))
        for topic, expect, want, text in cases:
            labels, checks = checked[text]
            check = next(c for c in checks if c.name == topic.name)
            why = f"{check.evidence} (sentiment {labels.sentiment})"
            out.append(ExampleResult("topic", topic.name, expect, text,
                                     check.matched == want, _verdict(check.matched, why)))
    return out


def _verdict(matched: bool, why: str) -> str:
    return f"{'matches' if matched else 'does not match'}: {why}"


def needs_classifier(config: Config) -> bool:
    return any(t.should_match or t.should_not_match for t in config.topics)
