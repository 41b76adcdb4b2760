"""Every setting is documented: each field of every model the config is made of (the sources'
settings and each detector's rule options included) has a description, which `config.yaml`'s
comments and the README draw on."""

from __future__ import annotations

import typing

from pydantic import BaseModel

from listener.config import DETECTORS, Config


def models_in(annotation) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in models_in(arg)]


def every_field(model: type[BaseModel], path: str, seen: set) -> list[tuple[str, object]]:
    if model in seen:
        return []
    seen.add(model)
    out = []
    for name, field in model.model_fields.items():
        out.append((f"{path}.{name}", field))
        for sub in models_in(field.annotation):
            out += every_field(sub, f"{path}.{name}", seen)
    return out


def test_every_config_field_has_a_description():
    seen: set = set()
    fields = every_field(Config, "config", seen)
    assert set(DETECTORS.values()) <= seen          # the walk reaches every detector's options
    assert len(fields) > 150
    assert [path for path, field in fields if not field.description] == []
