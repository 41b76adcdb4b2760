"""Fakes of the open networks' APIs, answering in each one's real response shape:

- FakeBluesky: com.atproto.server.createSession and app.bsky.feed.searchPosts (post views with
  `record`, `author`, `indexedAt`; offset cursors; `since`/`until`; XRPC errors as
  {"error", "message"}).
- FakeMastodon: /api/v1/timelines/tag/:tag (min_id / since_id / max_id, newest first, Link
  header), /api/v2/search (statuses, offset), /api/v1/instance and /api/v2/instance.
- FakeHackerNews: the Algolia /api/v1/search_by_date endpoint (hits, nbPages, page,
  numericFilters on created_at_i, tags).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime

from tests.fakes.webserver import FakeWeb, Reply, Request, iso_z


def _words(q: str) -> list[str]:
    return [w.lower() for w in re.findall(r'"[^"]+"|\S+', q)]


def _matches(q: str, text: str) -> bool:
    text = text.lower()
    return all(w.strip('"') in text for w in _words(q))


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# -- Bluesky --------------------------------------------------------------------------------

def bsky_post(*, handle: str, rkey: str, text: str, created: datetime,
              indexed: datetime | None = None, langs: tuple[str, ...] = ("en",)) -> dict:
    did = "did:plc:" + hashlib.sha256(handle.encode()).hexdigest()[:24]
    return {
        "uri": f"at://{did}/app.bsky.feed.post/{rkey}",
        "cid": "bafyreig" + hashlib.sha256(rkey.encode()).hexdigest()[:52],
        "author": {"did": did, "handle": handle,
                   "displayName": handle.split(".")[0].title(),
                   "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did}/bafkrei@jpeg",
                   "associated": {"chat": {"allowIncoming": "following"}},
                   "labels": [], "createdAt": "2024-11-20T10:00:00.000Z"},
        "record": {"$type": "app.bsky.feed.post", "createdAt": iso_z(created),
                   "langs": list(langs), "text": text},
        "bookmarkCount": 0, "replyCount": 0, "repostCount": 1, "likeCount": 3, "quoteCount": 0,
        "indexedAt": iso_z(indexed or created),
        "labels": [],
    }


@dataclass
class FakeBluesky:
    handle: str = "listener.bsky.social"
    password: str = "app-pass-hunter2"
    posts: list[dict] = field(default_factory=list)
    sessions: int = 0
    expire_next_search: bool = False
    reject_cursors: bool = False

    @property
    def token(self) -> str:
        return f"access-jwt-{self.sessions}"

    def add(self, **post) -> dict:
        p = bsky_post(**post)
        self.posts.append(p)
        return p

    @staticmethod
    def sort_at(p: dict) -> datetime:
        return min(_time(p["record"]["createdAt"]), _time(p["indexedAt"]))

    def handler(self, req: Request) -> Reply:
        if req.path == "/xrpc/com.atproto.server.createSession" and req.method == "POST":
            body = json.loads(req.body or b"{}")
            if body.get("identifier") != self.handle or body.get("password") != self.password:
                return Reply(401, {"error": "AuthenticationRequired",
                                   "message": "Invalid identifier or password"})
            self.sessions += 1
            return Reply(200, {"did": "did:plc:listener", "handle": self.handle,
                               "email": "ops@example.com", "emailConfirmed": True,
                               "accessJwt": self.token, "refreshJwt": f"refresh-{self.sessions}",
                               "active": True})
        if req.path != "/xrpc/app.bsky.feed.searchPosts":
            return Reply(404, {"error": "XRPCNotSupported", "message": "XRPCNotSupported"})
        if self.expire_next_search:
            self.expire_next_search = False
            return Reply(400, {"error": "ExpiredToken", "message": "Token has expired"})
        if req.headers.get("authorization") != f"Bearer {self.token}":
            return Reply(401, {"error": "AuthenticationRequired",
                               "message": "Authentication Required"})
        q = req.query.get("q", "")
        if not q:
            return Reply(400, {"error": "InvalidRequest",
                               "message": 'Error: Params must have the property "q"'})
        cursor = req.query.get("cursor")
        if cursor is not None and (self.reject_cursors or not cursor.isdigit()):
            return Reply(400, {"error": "InvalidRequest", "message": "invalid cursor"})
        since = _time(req.query["since"]) if "since" in req.query else None
        until = _time(req.query["until"]) if "until" in req.query else None
        hits = [p for p in self.posts if _matches(q, p["record"]["text"])
                and (since is None or self.sort_at(p) >= since)
                and (until is None or self.sort_at(p) < until)]
        hits.sort(key=self.sort_at, reverse=True)
        start, limit = int(cursor or 0), int(req.query.get("limit", 25))
        chunk = hits[start:start + limit]
        body = {"posts": chunk, "hitsTotal": len(hits)}
        if start + limit < len(hits):
            body["cursor"] = str(start + limit)
        return Reply(200, body, headers={"RateLimit-Limit": "3000", "RateLimit-Remaining": "2999",
                                          "RateLimit-Policy": "3000;w=300"})

    def serve(self) -> FakeWeb:
        return FakeWeb(self.handler)


# -- Mastodon -------------------------------------------------------------------------------

def mastodon_status(*, id: int, created: datetime, content: str, acct: str = "ada",
                    followers: int = 120, language: str | None = "en",
                    tags: tuple[str, ...] = (), instance: str = "mastodon.example",
                    spoiler: str = "") -> dict:
    username, _, domain = acct.partition("@")
    domain = domain or instance
    return {
        "id": str(id), "created_at": iso_z(created), "in_reply_to_id": None,
        "in_reply_to_account_id": None, "sensitive": bool(spoiler), "spoiler_text": spoiler,
        "visibility": "public", "language": language,
        "uri": f"https://{domain}/users/{username}/statuses/{id}",
        "url": f"https://{domain}/@{username}/{id}",
        "replies_count": 0, "reblogs_count": 0, "favourites_count": 2, "edited_at": None,
        "content": content, "reblog": None, "application": None,
        "account": {
            "id": str(100000 + len(username)), "username": username, "acct": acct,
            "display_name": username.title(), "locked": False, "bot": False,
            "discoverable": True, "group": False, "created_at": "2022-11-01T00:00:00.000Z",
            "note": "<p>parent, maker</p>", "url": f"https://{domain}/@{username}",
            "uri": f"https://{domain}/users/{username}",
            "avatar": f"https://{instance}/avatars/original/missing.png",
            "avatar_static": f"https://{instance}/avatars/original/missing.png",
            "header": f"https://{instance}/headers/original/missing.png",
            "header_static": f"https://{instance}/headers/original/missing.png",
            "followers_count": followers, "following_count": 80, "statuses_count": 512,
            "last_status_at": created.date().isoformat(), "emojis": [], "fields": []},
        "media_attachments": [], "mentions": [],
        "tags": [{"name": t, "url": f"https://{instance}/tags/{t}"} for t in tags],
        "emojis": [], "card": None, "poll": None,
    }


@dataclass
class FakeMastodon:
    token: str | None = None            # when set, every call needs it
    statuses: list[dict] = field(default_factory=list)
    domain: str = "mastodon.example"

    def add(self, **status) -> dict:
        s = mastodon_status(instance=self.domain, **status)
        self.statuses.append(s)
        return s

    def _auth(self, req: Request, needed: bool) -> Reply | None:
        got = req.headers.get("authorization")
        if got is None and needed:
            return Reply(401, {"error": "This method requires an authenticated user"})
        if got is not None and got != f"Bearer {self.token}":
            return Reply(401, {"error": "The access token is invalid"})
        return None

    def handler(self, req: Request) -> Reply:
        if req.path.rstrip("/") in ("/api/v1/instance", "/api/v2/instance"):
            return Reply(200, {"uri": self.domain, "domain": self.domain,
                               "title": "Mastodon Example", "version": "4.3.2",
                               "api_versions": {"mastodon": 2}})
        m = re.match(r"^/api/v1/timelines/tag/(?P<tag>[^/]+)$", req.path)
        if m:
            denied = self._auth(req, needed=self.token is not None)
            if denied:
                return denied
            tag = m["tag"].lower()
            items = [s for s in self.statuses if tag in [t["name"].lower() for t in s["tags"]]]
            return self._page(req, items, f"/api/v1/timelines/tag/{m['tag']}")
        if req.path == "/api/v2/search":
            denied = self._auth(req, needed=True)
            if denied:
                return denied
            q = req.query.get("q", "")
            items = [s for s in self.statuses if _matches(q, re.sub("<[^>]+>", "", s["content"]))]
            if "min_id" in req.query:
                items = [s for s in items if int(s["id"]) > int(req.query["min_id"])]
            items.sort(key=lambda s: int(s["id"]), reverse=True)
            offset, limit = int(req.query.get("offset", 0)), int(req.query.get("limit", 20))
            return Reply(200, {"accounts": [], "statuses": items[offset:offset + limit],
                               "hashtags": []})
        return Reply(404, {"error": "Record not found"})

    def _page(self, req: Request, items: list[dict], path: str) -> Reply:
        limit = min(40, int(req.query.get("limit", 20)))
        items = sorted(items, key=lambda s: int(s["id"]))
        if "max_id" in req.query:
            items = [s for s in items if int(s["id"]) < int(req.query["max_id"])]
        if "min_id" in req.query:  # the statuses immediately newer than min_id
            items = [s for s in items if int(s["id"]) > int(req.query["min_id"])][:limit]
        else:
            if "since_id" in req.query:
                items = [s for s in items if int(s["id"]) > int(req.query["since_id"])]
            items = items[-limit:]
        page = sorted(items, key=lambda s: int(s["id"]), reverse=True)
        headers = {}
        if page:
            base = f"https://{self.domain}{path}"
            headers["Link"] = (f'<{base}?max_id={page[-1]["id"]}>; rel="next", '
                               f'<{base}?min_id={page[0]["id"]}>; rel="prev"')
        headers.update({"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299",
                        "X-RateLimit-Reset": "2026-10-30T09:05:00.000Z"})
        return Reply(200, page, headers=headers)

    def serve(self) -> FakeWeb:
        return FakeWeb(self.handler)


# -- Hacker News (Algolia) ------------------------------------------------------------------

def hn_story(*, id: int, created: datetime, title: str, author: str = "pg", points: int = 12,
             url: str | None = "https://lumitoys.example/news", text: str | None = None) -> dict:
    hit = {"_highlightResult": {"title": {"matchLevel": "full", "matchedWords": [],
                                          "value": title}},
           "_tags": ["story", f"author_{author}", f"story_{id}"],
           "author": author, "children": [], "created_at": iso_z(created),
           "created_at_i": int(created.timestamp()), "num_comments": 0, "objectID": str(id),
           "points": points, "story_id": id, "title": title, "updated_at": iso_z(created)}
    if url:
        hit["url"] = url
    if text:
        hit["story_text"] = text
    return hit


def hn_comment(*, id: int, created: datetime, text: str, author: str = "dang",
               story_id: int = 1, story_title: str = "Ask HN: Toy safety") -> dict:
    return {"_highlightResult": {"comment_text": {"matchLevel": "full", "matchedWords": [],
                                                  "value": text}},
            "_tags": ["comment", f"author_{author}", f"story_{story_id}"],
            "author": author, "comment_text": text, "created_at": iso_z(created),
            "created_at_i": int(created.timestamp()), "objectID": str(id),
            "parent_id": story_id, "story_id": story_id, "story_title": story_title,
            "story_url": None, "updated_at": iso_z(created)}


@dataclass
class FakeHackerNews:
    hits: list[dict] = field(default_factory=list)

    def add(self, hit: dict) -> dict:
        self.hits.append(hit)
        return hit

    def handler(self, req: Request) -> Reply:
        if req.path != "/api/v1/search_by_date":
            return Reply(404, {"message": "Not Found", "status": 404})
        q = req.query.get("query", "")
        tags = req.query.get("tags", "").strip("()").split(",")
        hits = [h for h in self.hits if h["_tags"][0] in tags
                and _matches(q, " ".join(str(h.get(k) or "") for k in
                                          ("title", "story_text", "comment_text")))]
        for cond in filter(None, req.query.get("numericFilters", "").split(",")):
            name, op, value = re.match(r"(\w+)(<=|>=|<|>|=)(\d+)", cond).groups()
            ops = {"<": int.__lt__, "<=": int.__le__, ">": int.__gt__, ">=": int.__ge__,
                   "=": int.__eq__}
            hits = [h for h in hits if ops[op](h[name], int(value))]
        hits.sort(key=lambda h: h["created_at_i"], reverse=True)
        page, per = int(req.query.get("page", 0)), int(req.query.get("hitsPerPage", 20))
        return Reply(200, {"exhaustive": {"nbHits": True, "typo": True},
                           "exhaustiveNbHits": True, "exhaustiveTypo": True,
                           "hits": hits[page * per:(page + 1) * per], "hitsPerPage": per,
                           "nbHits": len(hits), "nbPages": math.ceil(len(hits) / per),
                           "page": page, "params": f"query={q}", "processingTimeMS": 1,
                           "query": q, "serverTimeMS": 2})

    def serve(self) -> FakeWeb:
        return FakeWeb(self.handler)
