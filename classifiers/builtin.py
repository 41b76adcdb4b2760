"""The built-in classifier: one encoder pass per batch feeds sentiment, topics and complaints."""

from __future__ import annotations

from collections.abc import Sequence

from classifiers.base import Labels, TopicHit, TopicSpec
from classifiers.complaints import ComplaintModel
from classifiers.encoder import Encoder
from classifiers.sentiment import SentimentHead
from classifiers.topics import TopicMatcher


class BuiltinClassifier:
    def __init__(self, topics: Sequence[TopicSpec] = (), *, encoder: Encoder | None = None,
                 head: SentimentHead | None = None, threads: int | None = None,
                 batch_size: int = 64, fast: bool = True, sentiment=None,
                 zero_shot=None, zero_shot_threshold: float = 0.8,
                 complaints: ComplaintModel | None = None, multilingual=None,
                 languages=None) -> None:
        """`sentiment`: a configured model (classifiers.hf.HFSentiment) used instead of the
        built-in head; `zero_shot`: an NLI model (classifiers.hf.ZeroShotTopics) adding topics
        whose entailment probability reaches `zero_shot_threshold`; `multilingual`: a sentiment
        model for the mentions that `languages` (classifiers.language.LanguageDetector) finds
        not to be English."""
        self.head = head or SentimentHead.load()
        self.sentiment = sentiment
        self.zero_shot, self.zero_shot_threshold = zero_shot, zero_shot_threshold
        self.complaints = complaints if complaints is not None else ComplaintModel.load()
        self.topic_specs = list(topics)
        self.multilingual, self.languages = multilingual, languages
        self.encoder = encoder or builtin_encoder(self.head, threads=threads, fast=fast)
        self.batch_size = batch_size
        self.topics = TopicMatcher(topics, lambda t: self.encoder.encode(t))
        parts = [f"{self.encoder.name}+{self.head.version}/{self.encoder.backend}"]
        parts += [m.version for m in (sentiment, zero_shot, multilingual) if m is not None]
        self.version = " ".join(parts)

    def set_topics(self, topics: Sequence[TopicSpec]) -> None:
        """Swap the topics (a config reload): only the topic matcher is rebuilt, not the model."""
        matcher = TopicMatcher(topics, lambda t: self.encoder.encode(t))
        self.topic_specs, self.topics = list(topics), matcher

    def classify(self, texts: Sequence[str]) -> list[Labels]:
        if not texts:
            return []
        from threadpoolctl import threadpool_limits

        # the ONNX sessions already keep every core busy; BLAS threads woken by the small
        # matrix products here (heads, topic similarity) would only fight them for the cores
        with threadpool_limits(1, user_api="blas"):
            return self._classify(texts)

    def _classify(self, texts: Sequence[str]) -> list[Labels]:
        texts = [clean(t) for t in texts]
        pooled, first = self.encoder.forward(texts, batch_size=self.batch_size)
        if self.sentiment is not None:
            sentiments = self.sentiment.predict(texts)
        else:
            proba = self.head.predict_proba(first if self.head.pooling == "cls" else pooled)
            sentiments = [(self.head.labels[int(p.argmax())], round(float(p.max()), 4))
                          for p in proba]
        langs = self.languages.detect(texts) if self.languages else [None] * len(texts)
        foreign = [i for i, lang in enumerate(langs) if lang not in (None, "en")]
        if self.multilingual is not None and foreign:
            for i, result in zip(foreign, self.multilingual.predict([texts[i] for i in foreign]),
                                 strict=True):
                sentiments[i] = result
        topics = self.topics.match(texts, pooled)
        if self.zero_shot is not None and self.topic_specs:
            scores = self.zero_shot.scores(texts, [t.description for t in self.topic_specs])
            for i, row in enumerate(scores):
                for spec, score in zip(self.topic_specs, row, strict=True):
                    if score >= self.zero_shot_threshold and spec.name not in topics[i]:
                        topics[i][spec.name] = TopicHit(round(float(score), 4),
                                                        f"zero-shot entailment {score:.2f}")
        for spec in self.topic_specs:
            if spec.sentiments:  # e.g. "the reason of a complaint" topics
                for i, (sentiment, _) in enumerate(sentiments):
                    if sentiment not in spec.sentiments:
                        topics[i].pop(spec.name, None)
        complaint = self.complaints.predict_proba(texts, pooled)
        return [Labels(s, p, topics[i], round(float(complaint[i]), 4), langs[i])
                for i, (s, p) in enumerate(sentiments)]


def builtin_encoder(head: SentimentHead, *, threads: int | None = None,
                    fast: bool = True) -> Encoder:
    """The encoder as the built-in model runs it: adapters merged, ONNX int8 when fast."""
    encoder = Encoder(threads=threads, max_length=int(head.meta.get("max_length", 128)),
                      layers=int(head.meta.get("layers", 0)) or None)
    if head.adapters:
        from classifiers.lora import merge_lora
        merge_lora(encoder.model, head.adapters)
    if head.align is not None:
        encoder.set_alignment(*head.align)
    if fast:
        encoder.use_onnx(tag=head.version)
    return encoder


def clean(text: str) -> str:
    """What the models read: valid UTF-8 (lone surrogates replaced), at most 2,000 characters
    (the encoder reads 128 word pieces at most anyway)."""
    text = text.encode("utf-8", errors="replace").decode("utf-8")
    return text[:2000]
