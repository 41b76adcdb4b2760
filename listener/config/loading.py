"""Reading a config: YAML, `${VAR}` substitution from the environment, validation against the
models (listener/config/model.py), and every mistake turned into one line naming the key path, the
bad value and the fix, all at once.

`load_config(text, env)` is pure; `load_config_file(path)` wraps it. `${VAR}` takes a value from
the environment (an error when unset); `${VAR:-default}` falls back. A value that came from the
environment is never quoted in an error.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import ValidationError

from listener.config.model import TOPIC_NAME, Config, did_you_mean
from listener.config.rules import DETECTORS, NAME, owner_of
from listener.config.types import Strict
from listener.errors import ConfigError
from listener.sources import SOURCES

ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}")


def _substitute(node: Any, env: Mapping[str, str], path: str, problems: list[str],
                secret_paths: set[str]) -> Any:
    if isinstance(node, dict):
        return {k: _substitute(v, env, _join(path, k), problems, secret_paths)
                for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, env, f"{path}[{i}]", problems, secret_paths)
                for i, v in enumerate(node)]
    if isinstance(node, str) and "${" in node:
        def repl(m: re.Match) -> str:
            name, default = m.group(1), m.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            problems.append(f"{path}: environment variable {name} is not set; export it, "
                            f"or write ${{{name}:-}} to leave the setting empty")
            return ""
        secret_paths.add(path)
        value = ENV_REF.sub(repl, node)
        return value
    return node


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _untag(loc: tuple) -> tuple[tuple, str | None]:
    """The error's location without the detector tag pydantic puts after a rule's index
    (alerts.rules[0].spike.min_authors), and that tag."""
    for i, part in enumerate(loc):
        if part in DETECTORS and i >= 2 and loc[i - 2] == "rules" and isinstance(loc[i - 1], int):
            return loc[:i] + loc[i + 1:], part
    return loc, None


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after[_references()]",):
            continue
        else:
            out = _join(out, part)
    return out


def _models_in(annotation: Any) -> list[type[Strict]]:
    """The config models an annotation holds (through lists, dicts, unions, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, Strict):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def _valid_keys(model: type[Strict], loc: tuple, detector: str | None) -> list[str]:
    """The keys the model accepts at the parent of loc (for unknown-key hints)."""
    cur: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or cur is None:
            continue
        field = getattr(cur, "model_fields", {}).get(part)
        if field is None:
            return []
        found = _models_in(field.annotation)
        if detector is not None and DETECTORS[detector] in found:
            found = [DETECTORS[detector]]
        cur = found[0] if found else None
        if cur is None:
            return []
    return list(getattr(cur, "model_fields", {}))


def _unknown_key(path: str, loc: tuple, detector: str | None) -> str:
    key = str(loc[-1])
    if len(loc) == 2 and loc[0] == "sources":
        return (f"{path}: unknown source {json.dumps(key)};"
                f"{did_you_mean(key, list(SOURCES))} valid sources: {', '.join(SOURCES)}")
    owner = owner_of(key) if detector is not None and len(loc) == 4 else None
    if owner is not None and owner != detector:
        return (f"{path}: belongs to the {owner} detector, not to {detector}; "
                f"remove it, or write detector: {owner}")
    valid = _valid_keys(Config, loc, detector)
    return f"{path}: unknown key;{did_you_mean(key, valid)} valid keys here: {', '.join(valid)}"


def _describe(err: dict, secret_paths: set[str]) -> str:
    loc, detector = _untag(err["loc"])
    path = _loc(loc)
    value = err.get("input")
    shown = ("the value from the environment" if path in secret_paths
             else json.dumps(value, default=str))
    kind = err["type"]
    if kind == "extra_forbidden":
        return _unknown_key(path, loc, detector)
    if kind == "missing":
        return f"{path}: required key is missing"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        names = " or ".join(f"'{n}'" for n in DETECTORS)
        if kind == "union_tag_not_found":
            return f"{path}.detector: required key is missing; use one of {names}"
        tag = err["ctx"]["tag"]
        return f"{path}.detector: {json.dumps(tag)} is not allowed; use one of {names}"
    if kind == "value_error":
        msg = str(err["ctx"]["error"])
        if path in secret_paths:
            msg = msg.replace(json.dumps(value), "the value from the environment")
        return f"{path}: {msg}"
    if kind == "literal_error":
        return f"{path}: {shown} is not allowed; use one of {err['ctx']['expected']}"
    if kind == "string_pattern_mismatch":
        pattern = err["ctx"]["pattern"]
        fix = ("use lowercase letters, digits, - and _" if pattern == NAME
               else "use letters, digits, spaces, - and _" if pattern == TOPIC_NAME
               else "start it with http:// or https://")
        return f"{path}: {shown} is not allowed; {fix}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"{path}: expected a mapping of keys to values, got {shown}"
    if kind == "list_type":
        return f"{path}: expected a list, got {shown}"
    return f"{path}: {shown}: {err['msg']}"


def load_config(text: str, env: Mapping[str, str] | None = None, *,
                source: str = "config") -> Config:
    """Parse and validate config text. Raises ConfigError listing every problem found."""
    env = os.environ if env is None else env
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError([f"{where}not valid YAML: {getattr(exc, 'problem', exc)}"],
                          source) from None
    if not isinstance(data, dict):
        raise ConfigError(["the file must be a mapping with at least a brands: key"], source)
    problems: list[str] = []
    secret_paths: set[str] = set()
    data = _substitute(data, env, "", problems, secret_paths)
    if problems:
        raise ConfigError(problems, source)
    try:
        return Config.model_validate(data)
    except ConfigError as exc:
        raise ConfigError(exc.problems, source) from None
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            inner = err.get("ctx", {}).get("error")
            if err["type"] == "value_error" and isinstance(inner, ConfigError):
                problems.extend(err["ctx"]["error"].problems)
            else:
                problems.append(_describe(err, secret_paths))
        raise ConfigError(problems, source) from None


def load_config_file(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(["file not found; pass --config PATH or create config.yaml"],
                          str(path)) from None
    except OSError as exc:
        raise ConfigError([f"cannot read the file: {exc.strerror}"], str(path)) from None
    return load_config(text, env, source=str(path))


def database_url(config: Config, config_dir: Path, env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    if env.get("LISTENER_DATABASE_URL"):
        return env["LISTENER_DATABASE_URL"]
    if config.database.url:
        return config.database.url
    return f"sqlite:///{(config_dir / 'listener.db').resolve()}"


def bucket_seconds(config: Config) -> int:
    return max(60, int(config.alerts.bucket / timedelta(seconds=1)))
