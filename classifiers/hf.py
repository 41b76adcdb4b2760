"""Configured Hugging Face models: any sequence-classification model for sentiment, and an NLI
model for zero-shot topics. Loaded from a local path or the local cache only (`local_files_only`):
a machine without network must fail at start with the model's name and the reason, not later.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence

import numpy as np

from classifiers.errors import ModelError

SENTIMENTS = ("negative", "neutral", "positive")
_SYNONYMS = {
    "negative": "negative", "neg": "negative", "bad": "negative",
    "neutral": "neutral", "neu": "neutral", "mixed": "neutral",
    "positive": "positive", "pos": "positive", "good": "positive",
}


def map_label(name: str, n_labels: int) -> str | None:
    """A model's label name in any common spelling -> negative|neutral|positive (None if unknown).
    Star ratings: 1-2 negative, 3 neutral, 4-5 positive."""
    key = name.strip().lower()
    if key in _SYNONYMS:
        return _SYNONYMS[key]
    stars = re.fullmatch(r"([1-5])\s*stars?", key)
    if stars:
        n = int(stars.group(1))
        return "negative" if n <= 2 else "neutral" if n == 3 else "positive"
    return None


def label_map(id2label: Mapping[int, str], override: Mapping[str, str] | None = None) -> list[str]:
    """One sentiment per class index, or ModelError naming the labels it cannot read."""
    override = {k.lower(): v for k, v in (override or {}).items()}
    out, unknown = [], []
    for i in range(len(id2label)):
        name = id2label[i]
        mapped = override.get(name.lower()) or map_label(name, len(id2label))
        if mapped is None:
            unknown.append(name)
        out.append(mapped)
    if unknown:
        raise ModelError(f"cannot tell what the labels {', '.join(unknown)} mean; map them in "
                         f"classifier.sentiment.labels (e.g. {unknown[0]}: negative)")
    return out


def _load(model: str, kind):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        tok = AutoTokenizer.from_pretrained(model, local_files_only=True)
        net = kind.from_pretrained(model, local_files_only=True)
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"cannot load the model {model!r}: {first}. Give a local folder "
                         "saved with save_pretrained(), or a model already in the local "
                         "Hugging Face cache") from None
    net.eval()
    return tok, net


class HFSentiment:
    """Any sequence-classification model; labels read from its own id2label."""

    def __init__(self, model: str, *, labels: Mapping[str, str] | None = None,
                 max_length: int = 128, threads: int | None = None) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification

        if threads:
            torch.set_num_threads(threads)
        self._torch = torch
        self.tokenizer, self.model = _load(model, AutoModelForSequenceClassification)
        id2label = {int(k): v for k, v in self.model.config.id2label.items()}
        self.labels = label_map(id2label, labels)
        self.max_length = max_length
        self.version = f"hf:{model}"

    def predict(self, texts: Sequence[str], batch_size: int = 32) -> list[tuple[str, float]]:
        """(sentiment, probability) per text; the probability of classes that map to the same
        sentiment (e.g. 4 and 5 stars) is summed."""
        out: list[tuple[str, float]] = [("neutral", 0.0)] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with self._torch.inference_mode():
            for s in range(0, len(order), batch_size):
                idx = order[s:s + batch_size]
                enc = self.tokenizer([texts[i] or " " for i in idx], padding=True,
                                     truncation=True, max_length=self.max_length,
                                     return_tensors="pt")
                probs = self.model(**enc).logits.softmax(-1).numpy()
                for row, i in zip(probs, idx, strict=True):
                    agg = {s: 0.0 for s in SENTIMENTS}
                    for p, lab in zip(row, self.labels, strict=True):
                        agg[lab] += float(p)
                    best = max(agg, key=agg.get)
                    out[i] = (best, round(agg[best], 4))
        return out


class ZeroShotTopics:
    """Zero-shot topics with an NLI model: entailment of 'This text is about {description}.'"""

    def __init__(self, model: str, *, hypothesis: str = "This text is about {}.",
                 threads: int | None = None) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification

        if threads:
            torch.set_num_threads(threads)
        self._torch = torch
        self.tokenizer, self.model = _load(model, AutoModelForSequenceClassification)
        names = {int(k): v.lower() for k, v in self.model.config.id2label.items()}
        entail = [i for i, n in names.items() if n.startswith("entail")]
        contra = [i for i, n in names.items() if n.startswith("contra")]
        if not entail or not contra:
            raise ModelError(f"the model {model!r} is not an NLI model: its labels are "
                             f"{', '.join(names.values())}; expected entailment and contradiction")
        self.entail, self.contra = entail[0], contra[0]
        self.hypothesis = hypothesis
        self.version = f"nli:{model}"

    def scores(self, texts: Sequence[str], topics: Sequence[str]) -> np.ndarray:
        """(len(texts), len(topics)) probabilities that the text is about each topic."""
        out = np.zeros((len(texts), len(topics)), dtype=np.float32)
        with self._torch.inference_mode():
            for j, topic in enumerate(topics):
                hyp = self.hypothesis.format(topic)
                enc = self.tokenizer(list(texts), [hyp] * len(texts), padding=True,
                                     truncation=True, max_length=256, return_tensors="pt")
                logits = self.model(**enc).logits[:, [self.contra, self.entail]]
                out[:, j] = logits.softmax(-1)[:, 1].numpy()
        return out
