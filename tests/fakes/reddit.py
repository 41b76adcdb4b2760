"""A local fake of the Reddit API as praw uses it: the access-token endpoint (client
credentials), subreddit search, the comments and new listings, and the bulk user lookup.

Listings are served like Reddit serves them: newest first, `limit` a page, `after` the fullname
of the page's last item while more remain. Search does not evaluate the query (the source
matches every post locally); it records it and serves `posts`. Posts and comments come from the
exchanges praw recorded against the live API (`recorded_posts`, `recorded_comments`, from
../shared/data/recorded, betamax JSON) or are made in the same shape (`make_comment`).
`script` holds responses to give before answering normally: 429 with the rate-limit headers,
5xx, a body that is not a listing.
"""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path

from tests.fakes.webserver import LocalServer, Reply, Request, first_values

ACCESS_TOKEN = "fake-access-token"


def load_exchange(path: Path) -> list[dict]:
    """The GET interactions of a betamax cassette: URI, status and JSON body."""
    cassette = json.loads(path.read_text(encoding="utf-8"))
    return [{"uri": it["request"]["uri"], "status": it["response"]["status"]["code"],
             "json": json.loads(it["response"]["body"]["string"])}
            for it in cassette["interactions"] if it["request"]["method"] == "GET"]


def _newest_first(children: list[dict]) -> list[dict]:
    unique = {c["data"]["name"]: c for c in children}
    return sorted(unique.values(), key=lambda c: (c["data"]["created_utc"],
                                                  int(c["data"]["id"], 36)), reverse=True)


def recorded_search(recorded: Path) -> list[dict]:
    """The posts of the recorded search (q=praw oauth search, in r/all), newest first."""
    (answer,) = load_exchange(recorded / "reddit_TestSubreddit.test_search.json")
    return _newest_first(answer["json"]["data"]["children"])


def recorded_comments(recorded: Path) -> list[dict]:
    """Every comment the recorded r/all comment stream saw (417, in 13 seconds), newest first."""
    children = [c for answer in load_exchange(
        recorded / "reddit_TestSubredditStreams.test_comments.json")
        for c in answer["json"]["data"]["children"]]
    return _newest_first(children)


def make_comment(name_id: str, body: str, created: float, author: str,
                 author_fullname: str | None = None, subreddit: str = "toys") -> dict:
    data = {"id": name_id, "name": f"t1_{name_id}", "body": body, "created_utc": created,
            "author": author, "subreddit": subreddit, "link_id": "t3_5jffj1",
            "parent_id": "t3_5jffj1", "score": 1,
            "permalink": f"/r/{subreddit}/comments/5jffj1/_/{name_id}/"}
    if author_fullname:
        data["author_fullname"] = author_fullname
    return {"kind": "t1", "data": data}


Scripted = Reply      # status, body (a dict, or bytes as they are), headers


class FakeReddit(LocalServer):
    def __init__(self, client_id: str = "test-client-id",
                 client_secret: str = "test-client-secret") -> None:
        self.basic = "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self.posts: list[dict] = []         # what any search finds, newest first
        self.comments: list[dict] = []      # the comments listing, newest first
        self.users: dict[str, dict] = {}    # t2_ fullname -> user data
        self.script: list[Scripted] = []
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        super().__init__()

    def respond(self, req: Request) -> Reply:
        if req.method == "POST":
            return Reply(*self.token(req.path, req.headers.get("authorization")))
        return Reply(*self.answer(req.path, first_values(req), req.headers))

    def token(self, path: str, auth: str | None) -> tuple[int, dict, dict]:
        with self._lock:
            self.requests.append({"path": path, "params": {}, "auth": auth})
        if path != "/api/v1/access_token" or auth != self.basic:
            return 401, {"message": "Unauthorized", "error": 401}, {}
        return 200, {"access_token": ACCESS_TOKEN, "token_type": "bearer", "expires_in": 3600,
                     "scope": "*"}, {}

    def answer(self, path: str, params: dict,
               headers: dict[str, str]) -> tuple[int, dict | bytes, dict]:
        with self._lock:
            self.requests.append({"path": path, "params": params,
                                  "auth": headers.get("authorization"),
                                  "user_agent": headers.get("user-agent")})
            if self.script:
                s = self.script.pop(0)
                return s.status, s.body if s.body is not None else {}, s.headers
            if headers.get("authorization") != f"bearer {ACCESS_TOKEN}":
                return 401, {"message": "Unauthorized", "error": 401}, {}
            parts = path.strip("/").split("/")
            if parts == ["api", "user_data_by_account_ids"]:
                found = {i: self.users[i] for i in params.get("ids", "").split(",")
                         if i in self.users}
                return (200, found, {}) if found else (404, {"message": "Not Found",
                                                             "error": 404}, {})
            if len(parts) == 3 and parts[0] == "r" and parts[2] in ("search", "comments", "new"):
                items = self.comments if parts[2] == "comments" else self.posts
                return 200, self._listing(items, params), {}
            return 404, {"message": "Not Found", "error": 404}, {}

    @staticmethod
    def _listing(items: list[dict], params: dict) -> dict:
        start = 0
        if params.get("after"):
            names = [c["data"]["name"] for c in items]
            start = names.index(params["after"]) + 1 if params["after"] in names else len(items)
        limit = int(params.get("limit", 25))
        page = items[start:start + limit]
        more = start + limit < len(items)
        return {"kind": "Listing", "data": {
            "modhash": "", "dist": len(page), "children": page, "before": None,
            "after": page[-1]["data"]["name"] if page and more else None}}
