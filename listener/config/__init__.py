"""The config: the schema (model.py), alert rules and the detector registry (rules.py), the
building blocks every settings model uses (types.py) and reading a file with every mistake
reported (loading.py). The names other code needs are importable from here.

They are looked up on first use (PEP 562) rather than imported here: each source's settings
model builds on config.types, and the config's schema is built from the sources' settings, so
importing the schema when the package is first touched would go round in a circle.
"""

from importlib import import_module

_HOME = {
    "bucket_seconds": "loading", "database_url": "loading", "load_config": "loading",
    "load_config_file": "loading",
    "SEVERITIES": "model", "Brand": "model", "Config": "model", "DigestSettings": "model",
    "Product": "model", "SlaReminderSettings": "model", "Topic": "model",
    "DETECTORS": "rules", "Rule": "rules", "RuleMatch": "rules",
}
__all__ = sorted(_HOME)


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOME[name]}"), name)
