"""Quality figures for the classifiers: sentiment (macro recall, accuracy, macro F1, confusion
matrix) and topics (per-topic precision, recall, F1 and macro F1). Pure functions of labels."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def sentiment_report(gold: Sequence[str], pred: Sequence[str],
                     labels: Sequence[str] = ("negative", "neutral", "positive")) -> dict:
    index = {lab: i for i, lab in enumerate(labels)}
    cm = np.zeros((len(labels), len(labels)), dtype=int)
    for g, p in zip(gold, pred, strict=True):
        cm[index[g], index[p]] += 1
    recall = [cm[i, i] / cm[i].sum() if cm[i].sum() else 0.0 for i in range(len(labels))]
    precision = [cm[i, i] / cm[:, i].sum() if cm[:, i].sum() else 0.0 for i in range(len(labels))]
    f1 = [2 * p * r / (p + r) if p + r else 0.0 for p, r in zip(precision, recall, strict=True)]
    return {
        "n": int(cm.sum()),
        "macro_recall": float(np.mean(recall)),
        "accuracy": float(np.trace(cm) / cm.sum()) if cm.sum() else 0.0,
        "macro_f1": float(np.mean(f1)),
        "per_class": {lab: {"precision": float(precision[i]), "recall": float(recall[i]),
                            "f1": float(f1[i])} for i, lab in enumerate(labels)},
        "labels": list(labels),
        "confusion": cm.tolist(),   # rows: gold, columns: predicted
    }


def topics_report(gold: Sequence[str | None], predicted: Sequence[set[str]],
                  topics: Sequence[str]) -> dict:
    """Each row has at most one gold topic (or none); predictions are multi-label."""
    per = {}
    for t in topics:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == t and t in p)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if g != t and t in p)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g == t and t not in p)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        per[t] = {"precision": prec, "recall": rec,
                  "f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0,
                  "support": tp + fn, "predicted": tp + fp}
    return {"n": len(gold), "macro_f1": float(np.mean([v["f1"] for v in per.values()]))
            if per else 0.0, "per_topic": per}


def tune_thresholds(gold: Sequence[str | None], scores: Sequence[dict[str, float]],
                    topics: Sequence[str], grid: Sequence[float] | None = None) -> dict:
    """The similarity threshold with the best F1 for each topic. `scores` holds, per row, each
    topic's score when every threshold is off (1.0 for a keyword hit, else the best
    similarity). Ties go to the higher threshold (fewer false alarms)."""
    grid = list(grid) if grid is not None else [round(x, 2) for x in np.arange(0.2, 1.0, 0.01)]
    out = {}
    for t in topics:
        s = np.array([row.get(t, -1.0) for row in scores])
        g = np.array([x == t for x in gold])
        best = None
        for thr in grid:
            p = s >= thr
            tp, fp, fn = int((p & g).sum()), int((p & ~g).sum()), int((~p & g).sum())
            prec = tp / (tp + fp) if tp + fp else 0.0
            rec = tp / (tp + fn) if tp + fn else 0.0
            f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
            if best is None or f1 >= best["f1"]:
                best = {"threshold": thr, "precision": prec, "recall": rec, "f1": f1,
                        "support": int(g.sum())}
        out[t] = best
    return {"macro_f1": float(np.mean([v["f1"] for v in out.values()])) if out else 0.0,
            "per_topic": out}
