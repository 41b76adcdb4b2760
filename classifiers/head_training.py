"""Train the sentiment head on frozen encoder embeddings (`listener train sentiment`).

Reads `train_text.txt`/`train_labels.txt` and `val_*` from the shared sentiment folder
(labels: 0 negative, 1 neutral, 2 positive), embeds every text once with the built-in encoder,
fits a class-balanced softmax head with torch, reports macro-averaged recall on val and writes
the head as safetensors with its provenance in the metadata.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classifiers.encoder import Encoder
from classifiers.errors import ModelError
from classifiers.sentiment import LABELS, WEIGHTS


@dataclass
class TrainReport:
    train_size: int
    val_size: int
    val_macro_recall: float
    per_class_recall: dict[str, float]
    path: Path


def read_split(folder: Path, split: str) -> tuple[list[str], np.ndarray]:
    text_file, label_file = folder / f"{split}_text.txt", folder / f"{split}_labels.txt"
    for f in (text_file, label_file):
        if not f.is_file():
            raise ModelError(f"training data file {f} is missing")
    texts = text_file.read_text(encoding="utf-8").splitlines()
    labels = np.array([int(x) for x in label_file.read_text().split()], dtype=np.int64)
    if len(texts) != len(labels):
        raise ModelError(f"{text_file} has {len(texts)} lines but {label_file} {len(labels)}")
    return texts, labels


def macro_recall(y_true: np.ndarray, y_pred: np.ndarray, n: int = 3) -> tuple[float, list[float]]:
    recalls = [float((y_pred[y_true == c] == c).mean()) if (y_true == c).any() else 0.0
               for c in range(n)]
    return float(np.mean(recalls)), recalls


def fit_head(x: np.ndarray, y: np.ndarray, *, hidden: int = 0, epochs: int = 60,
             weight_decay: float = 1e-4, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    import torch

    torch.manual_seed(seed)
    counts = np.bincount(y, minlength=len(LABELS))
    class_weight = torch.tensor(len(y) / (len(LABELS) * np.maximum(counts, 1)), dtype=torch.float32)
    dim = x.shape[1]
    if hidden:
        model = torch.nn.Sequential(torch.nn.Linear(dim, hidden), torch.nn.ReLU(),
                                    torch.nn.Dropout(0.2), torch.nn.Linear(hidden, len(LABELS)))
    else:
        model = torch.nn.Sequential(torch.nn.Linear(dim, len(LABELS)))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=weight_decay)
    loss_fn = torch.nn.CrossEntropyLoss(weight=class_weight)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(yt), generator=g)
        for start in range(0, len(perm), 256):
            idx = perm[start:start + 256]
            opt.zero_grad()
            loss_fn(model(xt[idx]), yt[idx]).backward()
            opt.step()
    model.eval()
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    return [(m.weight.detach().numpy().copy(), m.bias.detach().numpy().copy()) for m in linears]


def apply_head(layers, x: np.ndarray) -> np.ndarray:
    for n, (w, b) in enumerate(layers):
        x = x @ w.T + b
        if n < len(layers) - 1:
            x = np.maximum(x, 0.0)
    return x


def train_sentiment(data: Path, out: Path = WEIGHTS, *, hidden: int = 256, epochs: int = 40,
                    encoder: Encoder | None = None, progress=None, limit: int | None = None,
                    ) -> TrainReport:
    """Embed, fit and save. `progress(total)` returns a callable advanced per embedded text."""
    from safetensors.numpy import save_file

    train_x_text, train_y = read_split(data, "train")
    val_x_text, val_y = read_split(data, "val")
    if limit:
        train_x_text, train_y = train_x_text[:limit], train_y[:limit]
    encoder = encoder or Encoder()
    step = progress(len(train_x_text) + len(val_x_text)) if progress else None
    train_x = encoder.encode(train_x_text, progress=step)
    val_x = encoder.encode(val_x_text, progress=step)
    layers = fit_head(train_x, train_y, hidden=hidden, epochs=epochs)
    pred = apply_head(layers, val_x).argmax(1)
    score, recalls = macro_recall(val_y, pred)
    tensors = {}
    for i, (w, b) in enumerate(layers):
        tensors[f"w{i}"], tensors[f"b{i}"] = w.astype(np.float32), b.astype(np.float32)
    data_hash = hashlib.sha256(
        (data / "train_text.txt").read_bytes() + (data / "train_labels.txt").read_bytes()
    ).hexdigest()[:12]
    meta = {"labels": ",".join(LABELS), "encoder": encoder.name, "train_data_sha256": data_hash,
            "train_size": str(len(train_y)), "hidden": str(hidden), "epochs": str(epochs),
            "val_macro_recall": f"{score:.4f}",
            "val_recall_per_class": json.dumps(recalls)}
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out), metadata=meta)
    per_class = dict(zip(LABELS, recalls, strict=True))
    return TrainReport(len(train_y), len(val_y), score, per_class, out)
