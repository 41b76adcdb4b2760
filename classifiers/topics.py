"""Topics from the config: keywords for precision, embedding similarity for recall.

A text belongs to a topic when it contains one of the topic's keywords (score 1.0), or when its
embedding is at least `similarity` close (cosine) to the topic's description or one of its
examples (score = that similarity). Multi-label: a text may belong to several topics.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from classifiers.base import TopicHit, TopicSpec
from classifiers.text import Keyword, Words, tokenize


class TopicMatcher:
    def __init__(self, topics: Sequence[TopicSpec], embed) -> None:
        """`embed(texts) -> np.ndarray` of L2-normalised rows."""
        self.topics = list(topics)
        self._refs: list[tuple[np.ndarray, list[str]]] = []
        self._keywords = [[Keyword(k) for k in t.keywords] for t in self.topics]
        for t in self.topics:
            refs = [t.description, *t.examples]
            self._refs.append((embed(refs), refs))

    def match(self, texts: Sequence[str], embeddings: np.ndarray) -> list[dict[str, TopicHit]]:
        out: list[dict[str, TopicHit]] = [{} for _ in texts]
        word_lists = [Words(tokenize(t)) for t in texts]
        for topic, keywords, (ref_emb, refs) in zip(self.topics, self._keywords, self._refs,
                                                    strict=True):
            sims = embeddings @ ref_emb.T  # (n_texts, n_refs)
            best = sims.argmax(axis=1)
            for i, words in enumerate(word_lists):
                kw = next((k.text for k in keywords if k.found_in(words)), None)
                sim = float(sims[i, best[i]])
                if kw is not None:
                    out[i][topic.name] = TopicHit(1.0, f'keyword "{kw}"')
                elif sim >= topic.similarity:
                    ref = refs[best[i]]
                    what = "description" if best[i] == 0 else "example"
                    out[i][topic.name] = TopicHit(round(sim, 4),
                                                  f'similar to {what} "{ref[:80]}" ({sim:.2f})')
        return out

    def explain(self, text: str, embedding: np.ndarray) -> list[tuple[str, bool, TopicHit]]:
        """Every topic with its best evidence, matched or not: the keyword found, or else the
        nearest of its description and examples with the similarity (as `match` decides)."""
        words = Words(tokenize(text))
        out = []
        for topic, keywords, (ref_emb, refs) in zip(self.topics, self._keywords, self._refs,
                                                    strict=True):
            sims = ref_emb @ embedding
            b = int(sims.argmax())
            sim = float(sims[b])
            what = "description" if b == 0 else "example"
            kw = next((k.text for k in keywords if k.found_in(words)), None)
            if kw is not None:
                out.append((topic.name, True, TopicHit(1.0, f'keyword "{kw}"')))
            elif sim >= topic.similarity:
                out.append((topic.name, True, TopicHit(
                    round(sim, 4), f'similar to {what} "{refs[b][:80]}" ({sim:.2f})')))
            else:
                out.append((topic.name, False, TopicHit(round(sim, 4), (
                    f'no keyword; nearest is the {what} "{refs[b][:80]}" at {sim:.2f}, '
                    f"below {topic.similarity:.2f}"))))
        return out
