"""A local fake of Twitter's API v2 recent search (GET /2/tweets/search/recent).

It answers like the real endpoint: only tweets newer than `since_id` (or at or after
`start_time`), newest first, `max_results` a page, an opaque `next_token` bound to the result set
of the first page (tweets arriving meanwhile do not shift the pages), only the requested
`tweet.fields`, the author expansion under `includes.users`, the rate-limit headers, and the
API's error bodies for 400, 401 and 429. It does not evaluate the query (the source matches
every tweet locally anyway); it records it.

Tweets come from the exchanges tweepy recorded against the live API (`recorded_tweets`, from
../shared/data/recorded, vcrpy YAML with gzip+base64 bodies) or are made in the same shape
(`make_tweet`). `script` holds responses to give before answering normally: 429s, 5xx, bodies
that are not JSON, a recorded page verbatim.
"""

from __future__ import annotations

import gzip
import itertools
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import yaml

from tests.fakes.webserver import LocalServer, Reply, Request, first_values

SEARCH = "/2/tweets/search/recent"
BASE_FIELDS = ("id", "text", "edit_history_tweet_ids")
SNOWFLAKE_EPOCH_MS = 1288834974657


def load_exchange(path: Path) -> list[dict]:
    """The interactions of a vcrpy cassette, response bodies decoded to JSON."""
    cassette = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = []
    for it in cassette["interactions"]:
        body = it["response"]["body"]["string"]
        if isinstance(body, bytes) and body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        headers = {k.lower(): v[0] for k, v in it["response"]["headers"].items()}
        out.append({"uri": it["request"]["uri"], "status": it["response"]["status"]["code"],
                    "headers": headers, "json": json.loads(body)})
    return out


def recorded_search_page(recorded: Path) -> dict:
    """The real recent-search answer tweepy recorded (query=Tweepy): ids and texts only."""
    return load_exchange(recorded / "twitter_test_client_search_recent_tweets.yaml")[0]


def recorded_tweets(recorded: Path) -> list[dict]:
    """The tweets of the recorded search and mentions answers, newest first."""
    tweets = []
    for name in ("twitter_test_client_search_recent_tweets.yaml",
                 "twitter_test_client_get_users_mentions.yaml"):
        tweets += load_exchange(recorded / name)[0]["json"]["data"]
    return sorted(tweets, key=lambda t: int(t["id"]), reverse=True)


def snowflake_time(tweet_id: str) -> datetime:
    """The time a tweet id encodes (milliseconds since Twitter's epoch, in its top bits)."""
    ms = (int(tweet_id) >> 22) + SNOWFLAKE_EPOCH_MS
    return datetime.fromtimestamp(ms // 1000, tz=UTC).replace(microsecond=ms % 1000 * 1000)


def iso_ms(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def make_tweet(tweet: dict, *, author: dict | None = None, lang: str = "en",
               retweet_of: str | None = None) -> tuple[dict, dict | None]:
    """A recorded tweet (id, text) completed with the fields a search asks for, in the API's
    shape: created_at from its snowflake id, lang, public_metrics, author_id, conversation_id."""
    full = {
        "id": tweet["id"], "text": tweet["text"],
        "edit_history_tweet_ids": tweet.get("edit_history_tweet_ids", [tweet["id"]]),
        "created_at": iso_ms(snowflake_time(tweet["id"])), "lang": lang,
        "conversation_id": tweet["id"],
        "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 1,
                           "quote_count": 0, "bookmark_count": 0, "impression_count": 12},
    }
    if author:
        full["author_id"] = author["id"]
    if retweet_of:
        full["referenced_tweets"] = [{"type": "retweeted", "id": retweet_of}]
    return full, author


def make_user(user_id: str, username: str, followers: int) -> dict:
    return {"id": user_id, "name": username.title(), "username": username,
            "public_metrics": {"followers_count": followers, "following_count": 10,
                               "tweet_count": 100, "listed_count": 1, "like_count": 5}}


Scripted = Reply      # status, body (a dict, or bytes as they are), headers


class FakeTwitter(LocalServer):
    def __init__(self, token: str = "test-bearer-token", rate_headers: dict | None = None) -> None:
        self.token = token
        self.tweets: list[dict] = []          # newest first
        self.users: dict[str, dict] = {}
        self.script: list[Scripted] = []
        self.requests: list[dict] = []
        self.rate_headers = rate_headers or {"x-rate-limit-limit": "450",
                                             "x-rate-limit-remaining": "449",
                                             "x-rate-limit-reset": "1665183229"}
        self._results: dict[str, list[dict]] = {}   # next_token -> the rest of a result set
        self._tokens = (f"b26v89c19zqg8o3fpzbn1e0f{n:020d}" for n in itertools.count(1))
        self._lock = threading.Lock()
        super().__init__()

    def respond(self, req: Request) -> Reply:
        return Reply(*self.answer(req.path, first_values(req), req.headers.get("authorization")))

    def add(self, tweet: dict, author: dict | None = None) -> None:
        with self._lock:
            self.tweets = sorted([*self.tweets, tweet], key=lambda t: int(t["id"]), reverse=True)
            if author:
                self.users[author["id"]] = author

    def answer(self, path: str, params: dict, auth: str | None) -> tuple[int, dict | bytes, dict]:
        with self._lock:
            self.requests.append({"path": path, "params": params, "auth": auth})
            if self.script:
                s = self.script.pop(0)
                return s.status, s.body if s.body is not None else {}, s.headers
            if auth != f"Bearer {self.token}":
                return 401, {"title": "Unauthorized", "type": "about:blank", "status": 401,
                             "detail": "Unauthorized"}, {}
            if path != SEARCH:
                return 404, {"errors": [{"message": "Sorry, that page does not exist"}]}, {}
            return self._search(params)

    def _search(self, params: dict) -> tuple[int, dict, dict]:
        size = int(params.get("max_results", 10))
        token = params.get("next_token")
        if token:
            if token not in self._results:
                return 400, {
                    "errors": [{"parameters": {"next_token": [token]},
                                "message": f"The `next_token` query parameter value [{token}] "
                                           "is not valid"}],
                    "title": "Invalid Request",
                    "detail": "One or more parameters to your request was invalid.",
                    "type": "https://api.twitter.com/2/problems/invalid-request"}, {}
            results = self._results.pop(token)
        else:
            results = [t for t in self.tweets if self._wanted(t, params)]
        page, rest = results[:size], results[size:]
        meta: dict = {"result_count": len(page)}
        if page:
            meta = {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"], **meta}
        if rest:
            meta["next_token"] = next(self._tokens)
            self._results[meta["next_token"]] = rest
        body: dict = {"meta": meta}
        if page:
            body["data"] = [self._shape(t, params) for t in page]
            users = self._authors(page, params)
            if users:
                body["includes"] = {"users": users}
        return 200, body, dict(self.rate_headers)

    @staticmethod
    def _wanted(tweet: dict, params: dict) -> bool:
        if params.get("since_id") and int(tweet["id"]) <= int(params["since_id"]):
            return False
        if params.get("start_time"):
            start = datetime.fromisoformat(params["start_time"].replace("Z", "+00:00"))
            if snowflake_time(tweet["id"]) < start:
                return False
        return True

    @staticmethod
    def _shape(tweet: dict, params: dict) -> dict:
        fields = set(BASE_FIELDS) | set(filter(None, params.get("tweet.fields", "").split(",")))
        return {k: v for k, v in tweet.items() if k in fields}

    def _authors(self, page: list[dict], params: dict) -> list[dict]:
        if "author_id" not in params.get("expansions", "").split(","):
            return []
        fields = {"id", "name", "username"} | set(params.get("user.fields", "").split(","))
        ids = dict.fromkeys(t["author_id"] for t in page if t.get("author_id") in self.users)
        return [{k: v for k, v in self.users[i].items() if k in fields} for i in ids]
