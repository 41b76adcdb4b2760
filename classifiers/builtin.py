"""The built-in classifier: one encoder pass per batch feeds both sentiment and topics."""

from __future__ import annotations

from collections.abc import Sequence

from classifiers.base import Labels, TopicSpec
from classifiers.encoder import Encoder
from classifiers.sentiment import SentimentHead
from classifiers.topics import TopicMatcher


class BuiltinClassifier:
    def __init__(self, topics: Sequence[TopicSpec] = (), *, encoder: Encoder | None = None,
                 head: SentimentHead | None = None, threads: int | None = None,
                 batch_size: int = 64) -> None:
        self.encoder = encoder or Encoder(threads=threads)
        self.head = head or SentimentHead.load()
        self.batch_size = batch_size
        self.topics = TopicMatcher(topics, lambda t: self.encoder.encode(t))
        self.version = f"{self.encoder.name}+{self.head.version}"

    def classify(self, texts: Sequence[str]) -> list[Labels]:
        if not texts:
            return []
        emb = self.encoder.encode(texts, batch_size=self.batch_size)
        proba = self.head.predict_proba(emb)
        topics = self.topics.match(texts, emb)
        out = []
        for i in range(len(texts)):
            k = int(proba[i].argmax())
            out.append(Labels(self.head.labels[k], round(float(proba[i, k]), 4), topics[i]))
        return out
