"""Fine-tune the built-in encoder for sentiment with LoRA adapters (`listener train sentiment`).

Loss = class-balanced cross-entropy of a linear head on the [CLS] state
     + distill * KL(teacher's probabilities || the head's)       (when a teacher is given)
     + keep * (1 - cosine(mean-pooled embedding, the base encoder's embedding)).
The last term keeps the mean-pooled sentence embedding where the full base encoder put it, so
the one forward pass that scores sentiment also serves topic similarity (and its thresholds)
unchanged. A student's pooled embedding goes through a linear map (`align.w`, `align.b`,
learnt with the adapters) first: without it a 4-layer student stays at cosine 0.64.

`layers` keeps only the first N of the encoder's six layers: a 4-layer student runs about 1.5x
faster. It learns from the labels and from a 6-layer teacher (a model trained the same way with
layers=6, shipped as `sentiment_teacher.safetensors` so the student can be reproduced), and
learns to put its mean-pooled embedding where the 6-layer base encoder puts it. What ships is
the adapters and the head (a few MB); the base encoder comes from its package.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classifiers.encoder import Encoder
from classifiers.head_training import macro_recall, read_split
from classifiers.lora import add_lora, lora_state
from classifiers.sentiment import LABELS, WEIGHTS

TEACHER = WEIGHTS.with_name("sentiment_teacher.safetensors")


@dataclass
class FinetuneReport:
    steps: int
    val_macro_recall: float
    per_class_recall: dict[str, float]
    path: Path


def _batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffle, then sort within chunks of 50 batches by length so padding stays small."""
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    chunk = batch_size * 50
    out = []
    for start in range(0, len(idx), chunk):
        part = sorted(idx[start:start + chunk], key=lambda i: lengths[i])
        out += [part[k:k + batch_size] for k in range(0, len(part), batch_size)]
    rng.shuffle(out)
    return out


def finetune_sentiment(data: Path, out: Path, *, epochs: float = 1.0, batch_size: int = 32,
                       lr: float = 5e-4, rank: int = 16, keep: float = 1.0, max_length: int = 64,
                       eval_every: int = 200, seed: int = 0, threads: int | None = None,
                       anchor: np.ndarray | None = None, progress=None, layers: int = 6,
                       teacher: Path | None = None, distill: float = 1.0,
                       log=print) -> FinetuneReport:
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(seed)
    rng = random.Random(seed)
    if threads:
        torch.set_num_threads(threads)
    texts, labels = read_split(data, "train")
    val_texts, val_labels = read_split(data, "val")
    full = Encoder(max_length=max_length)
    full.use_onnx(tag="base")
    if anchor is None:
        log("embedding the training texts with the base encoder (the anchor for topics)")
        step = progress("anchor", len(texts)) if progress else None
        anchor = full.encode(texts, progress=step)
    val_anchor = torch.from_numpy(full.encode(val_texts))
    del full
    anchor = torch.from_numpy(np.asarray(anchor, dtype=np.float32))
    soft = None
    if teacher is not None:
        soft = torch.from_numpy(_teacher_proba(teacher, texts, progress, log))
    base = Encoder(max_length=max_length, layers=layers)
    model = base.model
    tok = base.tokenizer
    params = add_lora(model, rank=rank)
    head = torch.nn.Sequential(torch.nn.Dropout(0.1), torch.nn.Linear(base.dim, len(LABELS)))
    # a student (fewer layers) also learns a linear map of its pooled embedding into the base
    # encoder's space, trained with its adapters; the full-depth model needs none
    align = torch.nn.Linear(base.dim, base.dim) if base.layers < 6 else None
    if align is not None:
        with torch.no_grad():
            align.weight.copy_(torch.eye(base.dim))
            align.bias.zero_()
        params = params + list(align.parameters())
    counts = np.bincount(labels, minlength=len(LABELS))
    weight = torch.tensor(len(labels) / (len(LABELS) * np.maximum(counts, 1)), dtype=torch.float32)
    ce = torch.nn.CrossEntropyLoss(weight=weight)
    opt = torch.optim.AdamW([{"params": params, "lr": lr},
                             {"params": head.parameters(), "lr": lr * 2}], weight_decay=0.01)
    lengths = [len(t) for t in texts]
    plan = []
    while len(plan) < epochs * (len(texts) / batch_size):
        plan += _batches(lengths, batch_size, rng)
    plan = plan[: int(epochs * len(texts) / batch_size)]
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[lr, lr * 2], total_steps=len(plan),
                                                pct_start=0.06, anneal_strategy="linear")
    bar = progress("fine-tuning", len(plan)) if progress else None
    best = (-1.0, None)
    y = torch.from_numpy(labels)
    data_hash = hashlib.sha256((data / "train_text.txt").read_bytes()).hexdigest()[:12]

    def evaluate():
        """Val macro recall and per-class recalls (and the val cosine to the base's pooled
        embedding, logged: what topic similarity relies on)."""
        model.eval()
        head.eval()
        with torch.inference_mode():
            order = sorted(range(len(val_texts)), key=lambda i: len(val_texts[i]))
            preds = np.zeros(len(val_texts), dtype=np.int64)
            cosines = []
            for s in range(0, len(order), 128):
                ids = order[s:s + 128]
                enc = tok([val_texts[i] for i in ids], padding=True, truncation=True,
                          max_length=max_length, return_tensors="pt")
                hidden = model(**enc).last_hidden_state
                preds[ids] = head(hidden[:, 0]).argmax(1).numpy()
                cosines.append((_pooled(hidden, enc) * val_anchor[ids]).sum(1))
        model.train()
        head.train()
        log(f"val cosine to the base encoder's embedding {torch.cat(cosines).mean():.3f}")
        return macro_recall(val_labels, preds)

    def _pooled(hidden, enc):
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=1)
        return pooled if align is None else torch.nn.functional.normalize(align(pooled), dim=1)

    model.train()
    for step, ids in enumerate(plan, start=1):
        enc = tok([texts[i] for i in ids], padding=True, truncation=True, max_length=max_length,
                  return_tensors="pt")
        hidden = model(**enc).last_hidden_state
        pooled = _pooled(hidden, enc)
        logits = head(hidden[:, 0])
        loss = ce(logits, y[ids])
        if soft is not None:
            logp = torch.nn.functional.log_softmax(logits, dim=1)
            loss = loss + distill * torch.nn.functional.kl_div(logp, soft[ids],
                                                               reduction="batchmean")
        loss = loss + keep * (1 - (pooled * anchor[ids]).sum(1)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if bar:
            bar(1)
        if step % eval_every == 0 or step == len(plan):
            score, recalls = evaluate()
            log(f"step {step}/{len(plan)}: val macro recall {score:.4f} "
                f"({', '.join(f'{r:.3f}' for r in recalls)})")
            if score > best[0]:  # keep the best checkpoint on disk as training goes
                best = (score, recalls)
                tensors = {f"encoder.{k}": v.contiguous() for k, v in lora_state(model).items()}
                tensors["head.w0"] = head[1].weight.detach().clone().contiguous()
                tensors["head.b0"] = head[1].bias.detach().clone().contiguous()
                if align is not None:
                    tensors["align.w"] = align.weight.detach().clone().contiguous()
                    tensors["align.b"] = align.bias.detach().clone().contiguous()
                meta = {"labels": ",".join(LABELS), "kind": "lora-cls", "pooling": "cls",
                        "rank": str(rank), "max_length": str(max_length),
                        "epochs": str(epochs), "step": str(step), "train_data_sha256": data_hash,
                        "val_macro_recall": f"{score:.4f}",
                        "val_recall_per_class": json.dumps(recalls), "keep": str(keep),
                        "lr": str(lr), "layers": str(base.layers)}
                if teacher is not None:
                    meta.update(teacher=teacher.name, distill=str(distill),
                                teacher_sha256=hashlib.sha256(teacher.read_bytes()).hexdigest()[:12])
                out.parent.mkdir(parents=True, exist_ok=True)
                save_file(tensors, str(out), metadata=meta)
    score, recalls = best
    return FinetuneReport(len(plan), score, dict(zip(LABELS, recalls, strict=True)), out)


def _teacher_proba(path: Path, texts: list[str], progress, log) -> np.ndarray:
    """The teacher model's sentiment probabilities for every training text (its fast path)."""
    from classifiers.builtin import builtin_encoder
    from classifiers.sentiment import SentimentHead

    head = SentimentHead.load(path)
    log(f"scoring the training texts with the teacher {path.name} "
        f"({head.meta.get('layers', '6')} layers)")
    encoder = builtin_encoder(head)
    step = progress("teacher", len(texts)) if progress else None
    pooled, first = encoder.forward(texts, progress=step)
    proba = head.predict_proba(first if head.pooling == "cls" else pooled)
    return proba.astype(np.float32)

