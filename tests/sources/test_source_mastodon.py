"""Mastodon hashtag timelines and search, through Mastodon.py, against a local fake instance."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from listener.errors import PermanentSourceError, SourceError
from listener.pipeline.collect import collect
from listener.sources.contract import SourceContext
from listener.sources.mastodon import MastodonSource
from tests.fakes.collecting import config_with, mentions, queries, state
from tests.fakes.opennets import FakeMastodon, mastodon_status
from tests.fakes.webserver import NOT_JSON, Reply

NOW = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)
TAG = "/api/v1/timelines/tag/lumitoys"
LINKED = ('<p>My <a href="https://mastodon.example/tags/lumitoys" class="mention hashtag" '
          'rel="tag">#<span>lumitoys</span></a> lamp melted, see <a href="https://example.com/'
          'photo" rel="nofollow noopener" target="_blank"><span class="invisible">https://</span>'
          '<span class="">example.com/photo</span><span class="invisible"></span></a></p>'
          '<p>Never again 😡</p>')


def instance_block(web, *, token: str | None = None, search: bool = False) -> str:
    out = f"      - url: {web.base_url}\n        hashtags: ['#lumitoys']\n"
    if token is not None:
        out += "        access_token: ${MASTODON_TOKEN}\n"
    if search:
        out += "        search: true\n"
    return out


def make(*blocks: str, token: str = "", per_page: int = 40, max_pages: int = 10, sleeps=None,
         timeout: str = "2s"):
    config = config_with(
        f"  mastodon:\n    per_page: {per_page}\n    max_pages: {max_pages}\n"
        f"    timeout: {timeout}\n    instances:\n" + "".join(blocks),
        env={"MASTODON_TOKEN": token})
    source = MastodonSource(SourceContext(
        config.sources.mastodon, wall_clock=lambda: NOW, queries=queries(config),
        session=requests.Session(),
        sleep=(sleeps.append if sleeps is not None else lambda s: None)))
    return config, source


def run(engine, config, source):
    return collect(engine, config=config, name="mastodon", source=source, now=NOW)


def failing(fake: FakeMastodon, path: str, *replies: Reply):
    queue = list(replies)

    def handler(req):
        if req.path.startswith(path) and queue:
            return queue.pop(0)
        return fake.handler(req)
    return handler


def test_hashtag_posts_are_stored_as_plain_text_and_off_brand_ones_dropped(sqlite_engine):
    masto = FakeMastodon()
    masto.add(id=110, created=NOW - timedelta(hours=3), content=LINKED, acct="ada",
              followers=340, tags=("lumitoys",))
    masto.add(id=111, created=NOW - timedelta(hours=2), acct="kai@social.example.jp",
              content="<p>lumitoys の懐中電灯が熱い</p>", language="ja", tags=("lumitoys",),
              spoiler="やけど")
    masto.add(id=112, created=NOW - timedelta(hours=1), content="<p>#lumitoys is hiring!</p>",
              tags=("lumitoys",))
    boost = mastodon_status(id=113, created=NOW, content="<p>lumitoys</p>", tags=("lumitoys",))
    boost["reblog"] = mastodon_status(id=110, created=NOW, content="<p>lumitoys</p>")
    masto.statuses.append(boost)
    with masto.serve() as web:
        config, source = make(instance_block(web))
        result = run(sqlite_engine, config, source)
    assert (result.fetched, result.stored, result.dropped) == (3, 2, 1)  # the boost is skipped
    ada, kai = mentions(sqlite_engine)
    host = web.base_url.split("//")[1]
    assert ada.external_id == "https://mastodon.example/users/ada/statuses/110"
    assert ada.text == "My #lumitoys lamp melted, see https://example.com/photo\nNever again 😡"
    assert (ada.author, ada.author_reach, ada.lang) == (f"ada@{host}", 340, "en")
    assert ada.url == "https://mastodon.example/@ada/110"
    assert ada.created_at == NOW - timedelta(hours=3)
    assert ada.raw["account"]["followers_count"] == 340
    assert (kai.author, kai.lang, kai.text) == ("kai@social.example.jp", "ja",
                                                "やけど\nlumitoys の懐中電灯が熱い")


def test_the_timeline_is_read_forwards_from_min_id_across_a_restart_without_gap(sqlite_engine):
    masto = FakeMastodon()
    for i in range(3):
        masto.add(id=100 + i, created=NOW - timedelta(hours=3 - i), content=f"<p>lumitoys {i}</p>",
                  tags=("lumitoys",))
    with masto.serve() as web:
        config, source = make(instance_block(web), per_page=2, max_pages=2)
        assert run(sqlite_engine, config, source).stored == 2  # first read: the newest page
        # seven posts arrive before the next run: more than one page, more than one run
        for i in range(7):
            masto.add(id=200 + i, created=NOW - timedelta(minutes=30 - i),
                      content=f"<p>lumitoys new {i}</p>", tags=("lumitoys",))
        _, restarted = make(instance_block(web), per_page=2, max_pages=2)
        stored = [run(sqlite_engine, config, restarted).stored for _ in range(3)]
        min_ids = [r.query.get("min_id") for r in web.requests if r.path == TAG]
    assert stored == [4, 3, 0]
    assert min_ids == [None, "102", "201", "203", "205", "206"]
    assert {m.text for m in mentions(sqlite_engine)} >= {f"lumitoys new {i}" for i in range(7)}
    assert state(sqlite_engine, "mastodon").duplicates == 0


def test_search_pages_by_offset_and_moves_min_id_only_when_done(sqlite_engine):
    masto = FakeMastodon(token="tok-hunter2")
    for i in range(5):
        masto.add(id=300 + i, created=NOW - timedelta(hours=5 - i),
                  content=f"<p>Lumi Toys review {i}</p>")
    with masto.serve() as web:
        config, source = make(instance_block(web, token="tok-hunter2", search=True),
                              token="tok-hunter2", per_page=2, max_pages=2)
        first = run(sqlite_engine, config, source)
        key = f'{web.base_url}?q="lumi toys"'
        assert state(sqlite_engine, "mastodon").cursor["keys"][key] == {
            "min_id": None, "offset": 4, "top": "304"}
        second = run(sqlite_engine, config, source)
        assert state(sqlite_engine, "mastodon").cursor["keys"][key] == {"min_id": "304"}
        masto.add(id=400, created=NOW - timedelta(minutes=1), content="<p>lumi toys again</p>")
        third = run(sqlite_engine, config, source)
        searches = [r.query for r in web.requests
                    if r.path == "/api/v2/search" and r.query["q"] == '"lumi toys"']
    assert (first.stored, second.stored, third.stored) == (4, 1, 1)
    assert searches[-1]["min_id"] == "304" and searches[-1]["type"] == "statuses"
    assert state(sqlite_engine, "mastodon").duplicates == 0


def test_the_same_post_seen_through_two_instances_is_one_mention(sqlite_engine):
    one, two = FakeMastodon(), FakeMastodon(domain="other.example")
    for fake, local_id in ((one, 500), (two, 9000)):
        status = mastodon_status(id=local_id, created=NOW - timedelta(hours=1),
                                 content="<p>lumitoys</p>", tags=("lumitoys",))
        status["uri"] = "https://origin.example/users/zoe/statuses/42"
        fake.statuses.append(status)
    with one.serve() as web1, two.serve() as web2:
        config, source = make(instance_block(web1), instance_block(web2))
        result = run(sqlite_engine, config, source)
    assert (result.fetched, result.stored) == (1, 1)


def test_statuses_with_missing_fields_or_repeated_are_counted_not_stored(sqlite_engine):
    good = mastodon_status(id=1, created=NOW - timedelta(hours=1), content="<p>lumitoys</p>")
    page = [good, good, {**good, "id": "2", "uri": None, "url": None},
            {**good, "id": "3", "uri": "u3", "created_at": None},
            {**good, "id": "4", "uri": "u4", "content": "", "spoiler_text": ""},
            {**good, "id": "5", "uri": "u5", "created_at": "not a time"}]
    masto = FakeMastodon()
    with masto.serve() as web:
        web.handler = lambda req: Reply(200, page) if req.path == TAG else masto.handler(req)
        config, source = make(instance_block(web))
        result = run(sqlite_engine, config, source)
        web.handler = lambda req: Reply(200, []) if req.path == TAG else masto.handler(req)
        empty = run(sqlite_engine, config, source)
    assert (result.stored, result.malformed, result.duplicates) == (1, 4, 0)
    assert (empty.fetched, empty.error) == (0, None)


@pytest.mark.parametrize("reply, kind, message", [
    (NOT_JSON, SourceError, "mastodon: 127.0.0.1:PORT #lumitoys, page 1: the answer is not JSON"),
    (Reply(500, {"error": "boom"}), SourceError,
     "mastodon: 127.0.0.1:PORT #lumitoys, page 1: HTTP 500"),
    (Reply(503, "<html>down</html>", content_type="text/html"), SourceError,
     "mastodon: 127.0.0.1:PORT #lumitoys, page 1: HTTP 503"),
    (Reply(422, {"error": "Validation failed"}), SourceError,
     "mastodon: 127.0.0.1:PORT #lumitoys, page 1: HTTP 422"),
    (Reply(200, [], delay=1.0), SourceError,
     "mastodon: 127.0.0.1:PORT #lumitoys, page 1: no answer in time"),
    (Reply(404, {"error": "Record not found"}), PermanentSourceError,
     "mastodon: 127.0.0.1:PORT #lumitoys, page 1: not found (HTTP 404); check "
     "sources.mastodon.instances[0].url"),
    (Reply(401, {"error": "This method requires an authenticated user"}), PermanentSourceError,
     "mastodon: 127.0.0.1:PORT #lumitoys, page 1: access refused (HTTP 401); this instance "
     "needs sources.mastodon.instances[0].access_token"),
])
def test_each_failure_is_an_error_of_the_right_kind(sqlite_engine, reply, kind, message):
    masto = FakeMastodon()
    masto.add(id=1, created=NOW - timedelta(hours=1), content="<p>lumitoys</p>",
              tags=("lumitoys",))
    with masto.serve() as web:
        web.handler = failing(masto, TAG, reply)
        config, source = make(instance_block(web), timeout="0.3s")
        with pytest.raises(kind) as info:
            source.fetch(None)
        port = web.base_url.rsplit(":", 1)[1]
        assert str(info.value) == message.replace("PORT", port)
        assert run(sqlite_engine, config, source).stored == 1  # the next run recovers


def test_a_refused_token_is_permanent_names_the_setting_and_never_the_token(sqlite_engine):
    masto = FakeMastodon(token="the-right-one")
    with masto.serve() as web:
        config, source = make(instance_block(web, token="x"), token="wrong-secret-token")
        with pytest.raises(PermanentSourceError) as info:
            run(sqlite_engine, config, source)
    assert str(info.value).endswith("access refused (HTTP 401); check "
                                    "sources.mastodon.instances[0].access_token")
    assert "wrong-secret-token" not in state(sqlite_engine, "mastodon").last_error


def test_search_without_a_token_is_a_permanent_error_naming_the_setting():
    masto = FakeMastodon()
    with masto.serve() as web:
        block = f"      - url: {web.base_url}\n        search: true\n"
        _, source = make(block)
        with pytest.raises(PermanentSourceError, match=r"search needs an access token; set "
                           r"sources\.mastodon\.instances\[0\]\.access_token"):
            source.fetch(None)


def test_a_429_waits_until_the_reset_on_the_injected_sleep_or_gives_up_when_too_long():
    masto = FakeMastodon()
    masto.add(id=1, created=NOW - timedelta(hours=1), content="<p>lumitoys</p>",
              tags=("lumitoys",))

    def reset_in(seconds: int) -> dict:
        at = datetime.fromtimestamp(time.time() + seconds, UTC)
        return {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": at.strftime("%Y-%m-%dT%H:%M:%S.000Z")}

    sleeps: list[float] = []
    with masto.serve() as web:
        web.handler = failing(masto, TAG, Reply(429, {"error": "Too many requests"},
                                                headers=reset_in(12)))
        batch = make(instance_block(web), sleeps=sleeps)[1].fetch(None)
        assert len(batch.mentions) == 1 and len(sleeps) == 1 and 8 <= sleeps[0] <= 12
        web.handler = failing(masto, TAG, Reply(429, {"error": "Too many requests"},
                                                headers=reset_in(600)))
        with pytest.raises(SourceError, match="rate limited"):
            make(instance_block(web))[1].fetch(None)
