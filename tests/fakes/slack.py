"""A local fake of the Slack Web API: answers chat.postMessage and chat.update like Slack does,
records every request (stamped with `clock()` when a test injects one), and can be scripted to
fail (429 with Retry-After, 5xx, invalid_auth, ...)."""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import parse_qs

from tests.fakes.webserver import FakeWeb, LocalServer, Reply, Request

Scripted = Reply      # status, body (a dict), headers


def over_limits(payload: dict) -> str | None:
    """What Slack would refuse in a message: over 50 blocks, a section over 3,000 characters,
    a header over 150, a context of over 10 elements."""
    blocks = payload.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if len(blocks) > 50:
        return f"no more than 50 items allowed [json-pointer:/blocks] ({len(blocks)})"
    for i, b in enumerate(blocks):
        limit = {"section": 3000, "header": 150}.get(b.get("type"))
        text = (b.get("text") or {}).get("text", "")
        if limit and len(text) > limit:
            return f"must be less than {limit + 1} characters [json-pointer:/blocks/{i}/text/text]"
        if b.get("type") == "context" and len(b.get("elements", [])) > 10:
            return f"no more than 10 items allowed [json-pointer:/blocks/{i}/elements]"
    return None


class FakeSlack(LocalServer):
    def __init__(self, token: str = "xoxb-test-token") -> None:
        self.token = token
        self.requests: list[dict] = []       # every call, as received
        self.messages: list[dict] = []       # every message Slack accepted
        self.script: list[Scripted] = []     # responses to give before answering normally
        self.updates: list[dict] = []        # every chat.update Slack accepted
        self.clock = None                    # a test's clock; requests record its time
        self.channel_ids: dict[str, str] = {}   # channel name -> the id Slack answers with
        self.refuse: dict[str, str] = {}     # method -> the error it answers (e.g. missing_scope)
        self.files: dict[str, dict] = {}     # file id -> {filename, data, channel_id, ...}
        self._lock = threading.Lock()
        self._seq = 0
        super().__init__()

    @property
    def base_url(self) -> str:
        return super().base_url + "/api/"

    def respond(self, req: Request) -> Reply:
        if req.path.startswith("/upload/"):     # files_upload_v2 step 2
            return Reply(*self.receive_file(req.path.rsplit("/", 1)[-1], req.body))
        raw = req.body.decode()
        try:
            payload = json.loads(raw) if raw.startswith("{") else {
                k: v[-1] for k, v in parse_qs(raw).items()}
        except ValueError:
            payload = {}
        return Reply(*self.answer(req.path.rsplit("/", 1)[-1], payload, req.headers))

    def answer(self, method: str, payload: dict,
               headers: dict[str, str]) -> tuple[int, dict, dict]:
        with self._lock:
            self.requests.append({"method": method, "payload": payload,
                                  "auth": headers.get("authorization"),
                                  "at": self.clock() if self.clock else None})
            if self.script:
                s = self.script.pop(0)
                return s.status, s.body or {"ok": False, "error": "scripted"}, s.headers
            if headers.get("authorization") != f"Bearer {self.token}":
                return 200, {"ok": False, "error": "invalid_auth"}, {}
            if method in self.refuse:
                return 200, {"ok": False, "error": self.refuse[method]}, {}
            if method in ("chat.postMessage", "chat.update") and over_limits(payload):
                return 200, {"ok": False, "error": "invalid_blocks",
                             "errors": [over_limits(payload)]}, {}
            if method == "chat.update":
                return self._update(payload)
            if method == "files.getUploadURLExternal":
                file_id = f"F{len(self.files) + 1:07d}"
                self.files[file_id] = {"filename": payload.get("filename"),
                                       "length": int(payload.get("length") or 0), "data": None}
                return 200, {"ok": True, "file_id": file_id,
                             "upload_url": f"{self.base_url[:-len('api/')]}upload/{file_id}"}, {}
            if method == "files.completeUploadExternal":
                return self._complete(payload)
            if method != "chat.postMessage":
                return 200, {"ok": False, "error": "unknown_method"}, {}
            if not payload.get("channel"):
                return 200, {"ok": False, "error": "channel_not_found"}, {}
            self._seq += 1
            ts = f"{int(time.time())}.{self._seq:06d}"
            channel_id = self.channel_id(payload["channel"])
            self.messages.append({**payload, "ts": ts, "channel_id": channel_id})
            return 200, {"ok": True, "channel": channel_id, "ts": ts,
                         "message": {"text": payload.get("text"), "ts": ts}}, {}

    def channel_id(self, channel: str) -> str:
        """Slack answers with the channel's id (C...), whatever name the post used."""
        if channel.startswith("C"):
            return channel
        return self.channel_ids.setdefault(channel, "C0CRISIS" if not self.channel_ids
                                           else f"C{len(self.channel_ids):07d}")

    def _update(self, payload: dict) -> tuple[int, dict, dict]:
        # like Slack, chat.update wants the channel id, not the name the message was posted to
        target = next((m for m in self.messages if m["ts"] == payload.get("ts")
                       and m["channel_id"] == payload.get("channel")), None)
        if target is None:
            return 200, {"ok": False, "error": "message_not_found"}, {}
        target.update(text=payload.get("text"), blocks=payload.get("blocks"))
        self.updates.append(payload)
        return 200, {"ok": True, "channel": payload["channel"], "ts": payload["ts"],
                     "text": payload.get("text")}, {}

    def receive_file(self, file_id: str, data: bytes) -> tuple[int, dict, dict]:
        with self._lock:
            self.requests.append({"method": "upload", "payload": {"file_id": file_id},
                                  "auth": None, "at": self.clock() if self.clock else None})
            if file_id not in self.files:
                return 404, {"ok": False}, {}
            self.files[file_id]["data"] = data
            return 200, {"ok": True}, {}

    def _complete(self, payload: dict) -> tuple[int, dict, dict]:
        done = []
        for f in json.loads(payload.get("files") or "[]"):
            known = self.files.get(f["id"])
            if known is None or known["data"] is None or len(known["data"]) != known["length"]:
                return 200, {"ok": False, "error": "file_not_found"}, {}
            known.update(title=f.get("title"), channel_id=payload.get("channel_id"),
                         thread_ts=payload.get("thread_ts"), shared=True)
            done.append({"id": f["id"], "title": f.get("title"), "name": known["filename"]})
        return 200, {"ok": True, "files": done}, {}

    def shared_files(self) -> list[dict]:
        return [f for f in self.files.values() if f.get("shared")]

    def top_level(self) -> list[dict]:
        return [m for m in self.messages if not m.get("thread_ts")]

class FakeWebhook(FakeWeb):
    """A local fake of a Slack incoming webhook: POST JSON to /services/T…/B…/secret, answered
    "ok" (text/html, as Slack does) or a scripted Reply such as 404 no_service or 429 with
    Retry-After. Records every post (stamped with `clock()` when a test injects one)."""

    PATH = "/services/T0TEST/B0TEST/webhooksecret123"

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.clock = None
        super().__init__(self._receive)

    @property
    def url(self) -> str:
        return self.base_url + self.PATH

    def _receive(self, req: Request) -> Reply:
        if req.path != self.PATH:
            return text_reply(404, "no_service")
        try:
            payload = json.loads(req.body)
        except ValueError:
            return text_reply(400, "invalid_payload")
        if not payload.get("text") and not payload.get("blocks"):
            return text_reply(400, "no_text")
        self.posts.append({**payload, "at": self.clock() if self.clock else None})
        return text_reply(200, "ok")


def text_reply(status: int, body: str, headers: dict | None = None) -> Reply:
    """A webhook's answer: a short text, not JSON."""
    return Reply(status, body, headers or {}, content_type="text/html")
