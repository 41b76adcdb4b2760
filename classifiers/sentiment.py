"""Sentiment: a small softmax head over the built-in encoder's embeddings.

The head's weights ship in `classifiers/weights/sentiment_head.safetensors` (a few KB); the
project command `listener train sentiment` reproduces them from `../shared/data/sentiment/`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classifiers.errors import ModelError

LABELS = ("negative", "neutral", "positive")
WEIGHTS = Path(__file__).resolve().parent / "weights" / "sentiment_head.safetensors"


@dataclass(frozen=True)
class SentimentHead:
    """Logits = x @ weight.T + bias, optionally through one hidden ReLU layer."""

    layers: tuple[tuple[np.ndarray, np.ndarray], ...]
    labels: tuple[str, ...]
    version: str

    @classmethod
    def load(cls, path: str | Path = WEIGHTS) -> SentimentHead:
        from safetensors import safe_open
        from safetensors.numpy import load_file

        path = Path(path)
        if not path.is_file():
            raise ModelError(
                f"sentiment head {path} is missing; rebuild it with `listener train sentiment`"
            )
        tensors = load_file(str(path))
        with safe_open(str(path), "np") as f:
            meta = f.metadata() or {}
        layers = []
        i = 0
        while f"w{i}" in tensors:
            layers.append((tensors[f"w{i}"].astype(np.float32), tensors[f"b{i}"].astype(np.float32)))
            i += 1
        if not layers:
            raise ModelError(f"sentiment head {path} holds no layers (expected w0, b0, ...)")
        labels = tuple(meta.get("labels", ",".join(LABELS)).split(","))
        if layers[-1][0].shape[0] != len(labels):
            raise ModelError(f"sentiment head {path}: {layers[-1][0].shape[0]} outputs "
                             f"but {len(labels)} labels")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        return cls(tuple(layers), labels, f"sentiment-head@{digest}")

    def predict_proba(self, embeddings: np.ndarray) -> np.ndarray:
        x = embeddings
        for n, (w, b) in enumerate(self.layers):
            x = x @ w.T + b
            if n < len(self.layers) - 1:
                x = np.maximum(x, 0.0)
        x = x - x.max(axis=1, keepdims=True)
        e = np.exp(x)
        return e / e.sum(axis=1, keepdims=True)
