"""The classifier that `eval` and `bench` measure, and the progress bars of the commands that
run a model over many texts (on stderr, so stdout keeps only the result)."""

from __future__ import annotations

import sys

from listener.cli.context import Ctx
from listener.errors import ListenerError


def progress_bar(desc: str, total: int):
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, unit="text", file=sys.stderr, leave=False)


def configured_classifier(obj: Ctx | None, *, with_topics: bool = True):
    """The config's classifier (without its topics if not with_topics); without a config file,
    the built-in one."""
    from classifiers.errors import ModelError
    from listener.daemon.runner import build_classifier
    try:
        if obj is not None and obj.config_path.exists():
            cfg = obj.config
            if not with_topics:
                cfg = cfg.model_copy(update={"topics": []})
            return build_classifier(cfg)
        from classifiers.builtin import BuiltinClassifier
        return BuiltinClassifier()
    except ModelError as exc:
        raise ListenerError(str(exc)) from None


def classify_with_progress(classifier, texts: list[str], desc: str, batch: int = 256):
    bar = progress_bar(desc, len(texts))
    out = []
    for s in range(0, len(texts), batch):
        out += classifier.classify(texts[s:s + batch])
        bar.update(min(batch, len(texts) - s))
    bar.close()
    return out
