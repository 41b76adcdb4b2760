"""Serving the app with uvicorn in a background thread (inside `listener run`, or in tests)."""

from __future__ import annotations

import threading
import time

import uvicorn
from fastapi import FastAPI

from listener.errors import ListenerError


class BackgroundServer:
    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, name="web", daemon=True)

    def start(self, timeout: float = 20) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                cfg = self.server.config
                raise ListenerError(f"the web queue could not listen on {cfg.host}:{cfg.port}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
