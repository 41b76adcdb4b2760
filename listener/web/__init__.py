"""The mention queue web app: FastAPI, server-rendered Jinja2 templates, a little plain JS.
`create_app(config, engine, clock)` builds it; nothing is built at import time."""

from listener.web.app import create_app

__all__ = ["create_app"]
