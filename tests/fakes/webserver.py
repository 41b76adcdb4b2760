"""A small local HTTP server for faking a platform's API: a handler answers requests the way
the platform does, every request is recorded, and scripted replies (a 429, a 500, a slow
answer, bytes that are not JSON) can be queued in front of the normal answers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]          # first value of each parameter
    multi: dict[str, list[str]]    # every value
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Reply:
    status: int = 200
    body: Any = None               # dict/list: sent as JSON; str/bytes: sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0             # seconds to sit before answering (a timeout)
    content_type: str = "application/json; charset=utf-8"


class LocalServer:
    """A local HTTP server on a free port, serving in a thread while it is entered: every GET
    and POST is read into a Request and answered with the Reply `respond` gives."""

    def __init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _serve(self):
                url = urlsplit(self.path)
                multi = parse_qs(url.query, keep_blank_values=True)
                length = int(self.headers.get("Content-Length") or 0)
                req = Request(self.command, url.path, {k: v[0] for k, v in multi.items()}, multi,
                              {k.lower(): v for k, v in self.headers.items()},
                              self.rfile.read(length) if length else b"")
                reply = fake.respond(req)
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body
                if isinstance(body, dict | list):
                    data = json.dumps(body, ensure_ascii=False).encode()
                elif isinstance(body, str):
                    data = body.encode()
                else:
                    data = body or b""
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            do_GET = do_POST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def url(self) -> str:
        """The address a client under test is given (a fake may add a path)."""
        return self.base_url

    def respond(self, req: Request) -> Reply:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeWeb(LocalServer):
    """A LocalServer that records every request and answers with `handler`, or with the
    replies queued in `script` first."""

    def __init__(self, handler: Callable[[Request], Reply]) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self.script: list[Reply] = []
        self._lock = threading.Lock()
        super().__init__()

    def respond(self, req: Request) -> Reply:
        with self._lock:
            self.requests.append(req)
            if self.script:
                return self.script.pop(0)
        return self.handler(req)

    def fail_next(self, *replies: Reply) -> None:
        self.script.extend(replies)


def first_values(req: Request) -> dict[str, str]:
    """The first value of each query parameter, blank ones left out (as parse_qs reads them)."""
    return {k: given[0] for k, v in req.multi.items() if (given := [x for x in v if x])}


NOT_JSON = Reply(200, "<html><body>502 Bad Gateway</body></html>", content_type="text/html")


def iso_z(t) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")
