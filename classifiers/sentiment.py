"""Sentiment: a small head over the built-in encoder, optionally with LoRA adapters.

Two kinds of weight file, told apart by their metadata:
- `pooling=mean`: an MLP over the frozen encoder's mean-pooled embedding (`w0, b0, w1, b1`);
- `pooling=cls`, `kind=lora-cls`: adapters merged into the encoder (`encoder.*.lora_a/b`) and a
  linear head on the first token's state (`head.w0, head.b0`); with `layers` < 6 (a distilled
  student) also `align.w, align.b`, the map of its mean-pooled embedding into the full base
  encoder's space, learnt with the adapters (see `classifiers.finetune`).
`listener train sentiment` reproduces the shipped file from `../shared/data/sentiment/`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from classifiers.errors import ModelError

LABELS = ("negative", "neutral", "positive")
WEIGHTS = Path(__file__).resolve().parent / "weights" / "sentiment_head.safetensors"


@dataclass(frozen=True)
class SentimentHead:
    layers: tuple[tuple[np.ndarray, np.ndarray], ...]
    labels: tuple[str, ...]
    version: str
    pooling: str = "mean"                          # mean | cls
    adapters: dict = field(default_factory=dict)   # module name -> lora_a / lora_b tensors
    meta: dict = field(default_factory=dict)
    align: tuple[np.ndarray, np.ndarray] | None = None  # pooled-embedding map (a student's)

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
        prefix = "head." if "head.w0" in tensors else ""
        layers = []
        i = 0
        while f"{prefix}w{i}" in tensors:
            layers.append((tensors[f"{prefix}w{i}"].astype(np.float32),
                           tensors[f"{prefix}b{i}"].astype(np.float32)))
            i += 1
        if not layers:
            raise ModelError(f"sentiment head {path} holds no layers (expected w0, b0, ...)")
        labels = tuple(meta.get("labels", ",".join(LABELS)).split(","))
        if layers[-1][0].shape[0] != len(labels):
            raise ModelError(f"sentiment head {path}: {layers[-1][0].shape[0]} outputs "
                             f"but {len(labels)} labels")
        adapters = {k[len("encoder."):]: v for k, v in tensors.items() if k.startswith("encoder.")}
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        align = (tensors["align.w"], tensors["align.b"]) if "align.w" in tensors else None
        return cls(tuple(layers), labels, f"sentiment-head@{digest}",
                   meta.get("pooling", "mean"), adapters, meta, align)

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        x = features
        for n, (w, b) in enumerate(self.layers):
            x = x @ w.T + b
            if n < len(self.layers) - 1:
                x = np.maximum(x, 0.0)
        x = x - x.max(axis=1, keepdims=True)
        e = np.exp(x)
        return e / e.sum(axis=1, keepdims=True)
