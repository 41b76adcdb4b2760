"""A local fake of the Slack Web API: answers chat.postMessage like Slack does, records every
request, and can be scripted to fail (429 with Retry-After, 5xx, invalid_auth, ...)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Scripted:
    status: int = 200
    body: dict | None = None
    headers: dict = field(default_factory=dict)


class FakeSlack:
    def __init__(self, token: str = "xoxb-test-token") -> None:
        self.token = token
        self.requests: list[dict] = []       # every call, as received
        self.messages: list[dict] = []       # every message Slack accepted
        self.script: list[Scripted] = []     # responses to give before answering normally
        self._lock = threading.Lock()
        self._seq = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                try:
                    payload = json.loads(raw) if raw.startswith("{") else {}
                except ValueError:
                    payload = {}
                method = self.path.rsplit("/", 1)[-1]
                status, body, headers = fake.answer(method, payload, self.headers)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def answer(self, method: str, payload: dict, headers) -> tuple[int, dict, dict]:
        with self._lock:
            self.requests.append({"method": method, "payload": payload,
                                  "auth": headers.get("Authorization")})
            if self.script:
                s = self.script.pop(0)
                return s.status, s.body or {"ok": False, "error": "scripted"}, s.headers
            if headers.get("Authorization") != f"Bearer {self.token}":
                return 200, {"ok": False, "error": "invalid_auth"}, {}
            if method != "chat.postMessage":
                return 200, {"ok": False, "error": "unknown_method"}, {}
            if not payload.get("channel"):
                return 200, {"ok": False, "error": "channel_not_found"}, {}
            self._seq += 1
            ts = f"{int(time.time())}.{self._seq:06d}"
            self.messages.append({**payload, "ts": ts})
            return 200, {"ok": True, "channel": "C0CRISIS", "ts": ts,
                         "message": {"text": payload.get("text"), "ts": ts}}, {}

    def top_level(self) -> list[dict]:
        return [m for m in self.messages if not m.get("thread_ts")]

    def __enter__(self) -> FakeSlack:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
