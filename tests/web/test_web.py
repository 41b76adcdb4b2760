"""The web queue in process (Starlette's TestClient): sessions, CSRF, roles, triage moves."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from listener.config import load_config_file
from listener.queue import triage
from listener.queue.triage import sync_triage
from listener.storage.db import create_tables, make_engine
from listener.storage.models import Incident, Mention, Triage
from listener.web import create_app
from tests.conftest import CONFIG
from tests.support.webdata import AT, HOSTILE, PASSWORD, seed

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    config = load_config_file(CONFIG, env={})
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('web') / 'web.db'}")
    create_tables(engine)
    seed(engine, config)
    yield create_app(config, engine, lambda: AT, secret_key="test"), engine
    engine.dispose()


def client(app) -> TestClient:
    return TestClient(app, follow_redirects=False)


def token(c: TestClient, url: str = "/login") -> str:
    return TOKEN.search(c.get(url).text).group(1)


def login(app, name: str) -> TestClient:
    c = client(app)
    res = c.post("/login", data={"username": name, "password": PASSWORD,
                                 "csrf_token": token(c)})
    assert res.status_code == 303, res.text
    return c


def first_open(engine) -> int:
    with Session(engine) as s:
        sync_triage(s, severities={"product_safety": "critical"})
        s.commit()
        stmt = select(Triage.mention_id).join(Mention, Mention.id == Triage.mention_id).where(
            Triage.status == "new", Mention.text != HOSTILE)
        return s.exec(stmt.order_by(Triage.mention_id.desc())).first()


def triage_row(engine, mention_id: int) -> Triage:
    with Session(engine) as s:
        return s.get(Triage, mention_id)


def test_every_page_but_login_needs_a_session(web):
    app, _ = web
    c = client(app)
    for path in ["/", "/queue", "/dashboard", "/incidents", "/incidents/1", "/admin/users"]:
        res = c.get(path)
        assert res.status_code == 303 and res.headers["location"].startswith("/login?next=")
    assert c.get("/login").status_code == 200


def test_session_cookie_is_httponly_and_samesite_lax(web):
    app, _ = web
    c = client(app)
    res = c.post("/login", data={"username": "bob", "password": PASSWORD,
                                 "csrf_token": token(c)})
    cookie = res.headers["set-cookie"].lower()
    assert "listener_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert res.headers["location"] == "/queue"


def test_wrong_password_is_refused_and_repeated_failures_are_limited(web):
    app, _ = web
    c = client(app)
    codes = [c.post("/login", data={"username": "carol", "password": "nope",
                                    "csrf_token": token(c)}).status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]


def test_a_form_post_without_the_csrf_token_is_refused(web):
    app, engine = web
    c = login(app, "bob")
    mid = first_open(engine)
    for data in ({}, {"csrf_token": "forged"}):
        res = c.post(f"/mentions/{mid}/claim", data=data)
        assert res.status_code == 403 and "CSRF token missing or wrong" in res.text
    assert triage_row(engine, mid).status == "new"
    assert client(app).post("/login", data={"username": "bob", "password": PASSWORD}
                            ).status_code == 403


def test_an_agent_cannot_reach_the_admin_page(web):
    app, _ = web
    assert login(app, "bob").get("/admin/users").status_code == 403
    page = login(app, "alice").get("/admin/users")
    assert page.status_code == 200 and "bob" in page.text


def test_claim_then_respond_records_the_first_response_and_stops_the_clock(web):
    app, engine = web
    bob, alice = login(app, "bob"), login(app, "alice")
    mid = first_open(engine)
    res = bob.post(f"/mentions/{mid}/claim", data={"csrf_token": token(bob, "/queue"),
                                                   "back": "/queue?status=all"})
    assert res.status_code == 303 and res.headers["location"] == "/queue?status=all"
    assert (triage_row(engine, mid).status, triage_row(engine, mid).assignee) == ("claimed", "bob")

    alice.post(f"/mentions/{mid}/claim", data={"csrf_token": token(alice, "/queue")})
    assert f"mention {mid} is already claimed by bob" in alice.get("/queue").text

    bob.post(f"/mentions/{mid}/respond", data={"csrf_token": token(bob, "/queue")})
    row = triage_row(engine, mid)
    assert row.status == "responded" and row.first_response_at == AT and not row.is_open
    page = bob.get("/queue?status=responded").text
    item = page[page.index(f'id="m{mid}"'):]
    assert re.search(r'class="sla stopped (met|missed)">answered in', item[:3000])


def test_the_queue_is_most_urgent_first_and_filters(web):
    app, _ = web
    c = login(app, "bob")
    page = c.get("/queue?topic=product_safety&sentiment=negative").text
    prios = [int(p) for p in re.findall(r'title="urgency">P(\d+)<', page)]
    assert prios and prios == sorted(prios, reverse=True) and prios[0] >= 60
    assert all(s == "negative" for s in re.findall(r'class="sentiment (\w+)"', page))


def test_bad_filter_values_are_a_clear_400(web):
    app, _ = web
    c = login(app, "bob")
    for url, message in [("/queue?status=lost", "status 'lost' is not one of open, all, new"),
                         ("/queue?sentiment=angry", "sentiment 'angry' is not one of"),
                         ("/queue?after=x", "cursor 'x' is not of the form")]:
        res = c.get(url)
        assert res.status_code == 400 and message in res.text.replace("&#39;", "'")


def test_pages_follow_by_keyset_without_repeats(web):
    app, engine = web
    c = login(app, "bob")
    seen, url = [], "/queue?status=all"
    while url:
        page = c.get(url).text
        seen += re.findall(r'<li class="mention[^"]*" id="m(\d+)"', page)
        nxt = re.search(r'class="next" href="([^"]+)"', page)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    with Session(engine) as s:
        stored = len(s.exec(select(Mention.id)).all())
    assert len(seen) == len(set(seen)) == stored > 2 * 50


def test_hostile_text_is_escaped(web):
    app, _ = web
    page = login(app, "bob").get("/queue?status=all&q=alert(1)").text
    assert page.count('<li class="mention') == 1 and HOSTILE not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    assert "script-src 'self'" in login(app, "bob").get("/queue").headers[
        "content-security-policy"]


def test_acknowledge_an_incident_records_who(web):
    app, engine = web
    c = login(app, "alice")
    with Session(engine) as s:
        incident_id = s.exec(select(Incident.id)).first()
    page = c.get(f"/incidents/{incident_id}").text
    assert "product safety" in page and "Acknowledge" in page and "Playbook" in page
    c.post(f"/incidents/{incident_id}/ack", data={"csrf_token": token(c, "/queue")})
    with Session(engine) as s:
        incident = s.get(Incident, incident_id)
        assert (incident.acknowledged_by, incident.acknowledged_at) == ("alice", AT)
    assert "Acknowledged by <strong>alice</strong>" in c.get(f"/incidents/{incident_id}").text


def test_dashboard_counts_and_chart(web):
    app, engine = web
    with Session(engine) as s:      # a first response, for the attainment figures
        sync_triage(s, severities={t.name: t.severity for t in app.state.config.topics})
        mid = s.exec(select(Triage.mention_id).where(Triage.status == "new")).first()
        triage.respond(s, mention_id=mid, user="bob", now=AT)
        s.commit()
    page = login(app, "bob").get("/dashboard").text
    total = page[page.index('<svg class="chart total"'):]
    assert 'id="overdue"' in page and total[:total.index("</svg>")].count("<rect") == 48
    assert re.search(r'id="open-incidents">[1-9]', page)
    assert re.search(r'id="sla-within">\d+%', page) and re.search(r'id="sla-median">\d', page)
    by_source = page[page.index('class="by-source"'):page.index('class="by-topic"')]
    assert re.search(r'</svg> twitter <span class="hint">\d+</span>', by_source)
    assert 'fill="#2563eb"' in by_source and "<title>" in by_source
    by_topic = page[page.index('class="by-topic"'):page.index('class="sentiment-split"')]
    assert "product_safety" in by_topic and "shipping" in by_topic
    shares = [int(n) for n in re.findall(r'id="sentiment-\w+">.*? (\d+)%', page)]
    assert len(shares) == 3 and 98 <= sum(shares) <= 102


def test_sla_clock_left_and_overdue(web):
    from listener.queue.triage import sla
    row = Triage(mention_id=1, created_epoch=0, is_open=True)
    assert sla(row, AT - timedelta(minutes=20), timedelta(hours=1), AT)["state"] == "left"
    assert sla(row, AT - timedelta(minutes=61), timedelta(hours=1), AT)["seconds"] == -60


def test_listener_run_serves_the_queue_when_queue_web_is_on(web, tmp_path):
    import socket
    from types import SimpleNamespace

    import requests

    from listener.cli.context import Ctx
    from listener.cli.web import start_web
    from listener.config import load_config
    from listener.web.admin import classifier as admin_classifier

    _, engine = web
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = Ctx(tmp_path / "config.yaml", None, 0)
    base = "brands: [{name: Lumi, query: lumi}]\nsources: {replay: {path: demo.jsonl}}\n"
    ctx._config = load_config(base + f"queue: {{web: true, port: {port}}}\n")
    daemon = SimpleNamespace(config=ctx._config, classifier=object(), on_reload=[])
    server = start_web(ctx, engine, lambda: AT, daemon=daemon)
    try:
        res = requests.get(f"http://127.0.0.1:{port}/queue", timeout=10)
        assert res.status_code == 200 and res.url.startswith(f"http://127.0.0.1:{port}/login")
        app = server.server.config.app
        reloaded = load_config(base + "queue: {first_response: 30m}\n")
        daemon.on_reload[0](reloaded)         # the admin page shows the config running now
        assert app.state.config is reloaded
        assert admin_classifier(SimpleNamespace(app=app)) is daemon.classifier
    finally:
        server.stop()
    ctx._config = load_config(base)
    assert start_web(ctx, engine, lambda: AT) is None


def test_a_bulk_move_reports_each_mention(web):
    app, engine = web
    c = login(app, "alice")
    first_open(engine)                                  # the triage rows exist
    with Session(engine) as s:
        *ids, responded = s.exec(select(Triage.mention_id).where(Triage.status == "new")
                                 .order_by(Triage.mention_id).limit(3)).all()
        triage.respond(s, mention_id=responded, user="bob", now=AT)
        s.commit()
    res = c.post("/mentions/bulk", data={"csrf_token": token(c, "/queue"), "move": "claim",
                                         "ids": [*map(str, ids), str(responded)]})
    assert res.status_code == 303
    flash = c.get("/queue").text
    assert f"claim: 2 of 3 done; mention {responded} is already responded" in flash
    assert {triage_row(engine, i).assignee for i in ids} == {"alice"}
    for data, message in [({"move": "explode", "ids": "1"}, "bulk action 'explode' is not"),
                          ({"move": "close"}, "tick 1 to 200 mentions"),
                          ({"move": "close", "ids": "x"}, "mention ids are numbers")]:
        res = c.post("/mentions/bulk", data={"csrf_token": token(c, "/queue"), **data})
        assert res.status_code == 400 and message in res.text.replace("&#39;", "'")


def test_the_json_api_takes_a_bearer_token(web):
    from listener.queue import users

    app, engine = web
    with Session(engine) as s:
        secret = users.new_token(s, username="bob", now=AT)
        s.commit()
    c = client(app)
    assert c.get("/api/queue").status_code == 401
    assert c.get("/api/queue", headers={"Authorization": "Bearer nope"}).status_code == 401
    auth = {"Authorization": f"Bearer {secret}"}
    page = c.get("/api/queue?limit=3&topic=product_safety", headers=auth).json()
    assert len(page["items"]) == 3 and page["next"]
    mid = page["items"][0]["mention"]["id"]
    assert "product_safety" in page["items"][0]["mention"]["topics"]
    claimed = c.post(f"/api/mentions/{mid}/claim", headers=auth).json()
    assert (claimed["status"], claimed["assignee"]) == ("claimed", "bob")
    noted = c.post(f"/api/mentions/{mid}/note", headers=auth, json={"note": "called them"})
    assert "bob] called them" in noted.json()["notes"]
    with Session(engine) as s:
        other = users.new_token(s, username="alice", now=AT)
        s.commit()
    res = c.post(f"/api/mentions/{mid}/claim", headers={"Authorization": f"Bearer {other}"})
    assert res.status_code == 409 and res.json() == {
        "detail": f"mention {mid} is already claimed by bob"}
    assert c.post("/api/mentions/999999/close", headers=auth).status_code == 404
    assert c.get("/api/queue?status=lost", headers=auth).status_code == 400
    res = c.get("/api/queue?limit=1000", headers=auth)
    assert res.status_code == 400 and res.json()["detail"].startswith("query.limit:")
    schema = c.get("/api/openapi.json").json()
    assert "/api/queue" in schema["paths"] and "/queue" not in schema["paths"]


def test_the_json_api_escalates_assigns_relabels_and_filters(web):
    from listener.queue import users

    app, engine = web
    with Session(engine) as s:
        auth = {"Authorization": f"Bearer {users.new_token(s, username='bob', now=AT)}"}
        s.commit()
    c = client(app)
    mid, quiet = new_mentions(engine, 2, skip=12)
    assert c.post(f"/api/mentions/{mid}/escalate", headers=auth).json()["status"] == "escalated"
    assert c.post(f"/api/mentions/{quiet}/no_response",
                  headers=auth).json()["status"] == "no_response"
    res = c.post(f"/api/mentions/{mid}/assign", headers=auth, json={"assignee": "alice"})
    assert (res.json()["status"], res.json()["assignee"]) == ("escalated", "alice")
    res = c.post(f"/api/mentions/{quiet}/assign", headers=auth, json={"assignee": "alice"})
    assert res.status_code == 409
    assert c.post(f"/api/mentions/{mid}/assign", headers=auth,
                  json={"assignee": "nobody"}).status_code == 400
    fix = c.post(f"/api/mentions/{mid}/relabel", headers=auth,
                 json={"topic": "product_safety", "change": "add"}).json()
    assert (fix["field"], fix["old"], fix["new"], fix["user"]) == (
        "topic", None, "product_safety", "bob")
    assert c.post(f"/api/mentions/{mid}/relabel", headers=auth, json={}).status_code == 400
    history = c.get(f"/api/mentions/{mid}/corrections", headers=auth).json()
    assert [(h["field"], h["new"], h["user"]) for h in history] == [
        ("topic", "product_safety", "bob")]
    page = c.get("/api/queue?status=escalated&assignee=alice", headers=auth).json()
    assert mid in [i["mention"]["id"] for i in page["items"]]
    with Session(engine) as s:
        created = s.get(Mention, mid).created_at
    window = {"status": "all", "since": f"{created:%Y-%m-%dT%H:%M:%S}",
              "until": f"{created + timedelta(seconds=1):%Y-%m-%dT%H:%M:%S}"}
    page = c.get("/api/queue?" + urlencode(window), headers=auth).json()
    assert mid in [i["mention"]["id"] for i in page["items"]]


# ---------------------------------------------------------------------------------------------
# The admin page (issue 8): the running config, its load history, explain, config tests

SECRET = "xoxb-do-not-show-1234567890"


@pytest.fixture(scope="module")
def admin_app(web):
    from listener.daemon.reload import record_load
    from tests.support.webdata import KeywordClassifier
    _, engine = web
    config = load_config_file(CONFIG, env={"SLACK_BOT_TOKEN": SECRET,
                                           "LISTENER_DB": "postgresql://u:hunter2pw@db/x"})
    record_load(engine, path=CONFIG, digest="ab" * 32, ok=True, who="ops", changes="brands")
    record_load(engine, path=CONFIG, digest="cd" * 32, ok=False, who="sighup",
                error="alerts.rules[1].window: '90' is not a duration; write e.g. '90m'")
    return create_app(config, engine, lambda: AT, secret_key="test",
                      classifier=lambda: KeywordClassifier(config))


def test_the_admin_page_is_for_admins_only(admin_app):
    agent = login(admin_app, "bob")
    assert agent.get("/admin/config").status_code == 403
    res = agent.post("/admin/explain", data={"text": "hello", "csrf_token": token(agent, "/queue")})
    assert res.status_code == 403
    assert client(admin_app).get("/admin/config").status_code == 303    # no session: to login


def test_the_admin_page_shows_the_running_config_with_secrets_masked(admin_app):
    page = login(admin_app, "alice").get("/admin/config")
    assert page.status_code == 200
    assert SECRET not in page.text and "hunter2pw" not in page.text
    assert "<code>slack.token</code></td><td><code>••••</code>" in page.text
    assert "postgresql://u:••••@db/x" in page.text
    assert "<code>brands[Lumi Toys].query</code>" in page.text


def test_the_admin_page_shows_the_load_history(admin_app):
    page = login(admin_app, "alice").get("/admin/config").text
    history = page[page.index('class="grid config-loads"'):]
    assert '<tr class="refused">' in history and "sighup" in history
    assert "is not a duration; write e.g. &#39;90m&#39;" in history
    assert history.index("sighup") < history.index(">ops<")           # newest first
    assert "abababababab" in history


def test_the_admin_page_runs_the_config_tests_as_a_table(admin_app):
    from listener.tools.explain import run_examples
    from tests.support.webdata import KeywordClassifier
    config = admin_app.state.config
    results = run_examples(config, KeywordClassifier(config))
    assert results
    page = login(admin_app, "alice").get("/admin/config").text
    table = page[page.index('class="grid config-tests"'):page.index("</table>",
                                                                   page.index("config-tests"))]
    assert table.count("<tr class=") == len(results)
    failed = sum(not r.passed for r in results)
    assert f"{len(results) - failed} passed, {failed} failed" in page


def test_the_admin_page_works_when_the_classifier_cannot_load(web):
    _, engine = web
    config = load_config_file(CONFIG, env={})

    def broken():
        raise RuntimeError("model directory missing")
    app = create_app(config, engine, lambda: AT, secret_key="test", classifier=broken)
    c = login(app, "alice")
    page = c.get("/admin/config").text
    assert "topic examples need the classifier: the classifier could not load: model directory" \
        " missing" in page
    res = c.post("/admin/explain", data={"text": "Lumi Toys", "csrf_token": token(c, "/queue")})
    assert res.status_code == 200 and "No classifier in this app" in res.text


def test_the_explain_form_needs_the_csrf_token_and_renders_the_text_inert(admin_app):
    c = login(admin_app, "alice")
    text = f"Lumi Toys flashlight burned my hand {HOSTILE}"
    assert c.post("/admin/explain", data={"text": text}).status_code == 403
    res = c.post("/admin/explain", data={"text": text, "csrf_token": token(c, "/admin/config")})
    assert res.status_code == 200
    assert HOSTILE not in res.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in res.text
    assert 'Brand: <strong class="brand">Lumi Toys</strong>' in res.text
    assert '<strong class="sentiment">negative</strong>' in res.text
    assert "keyword &#39;burned&#39;" in res.text                    # the topic's evidence
    bad = c.post("/admin/explain", data={"text": " ", "csrf_token": token(c, "/admin/config")})
    assert bad.status_code == 400 and "explain needs a text" in bad.text


# ---------------------------------------------------------------------------------------------
# Triage (issue 7): statuses, assignment, filters, relabelling, linked mentions


def new_mentions(engine, n: int, skip: int) -> list[int]:
    """n labelled mentions still new, oldest first after `skip` (each test takes its own)."""
    from listener.storage.models import Label
    with Session(engine) as s:
        sync_triage(s, severities={"product_safety": "critical"})
        s.commit()
        stmt = (select(Triage.mention_id).join(Label, Label.mention_id == Triage.mention_id)
                .where(Triage.status == "new").order_by(Triage.mention_id))
        return list(s.exec(stmt.offset(skip).limit(n)))


def post(c: TestClient, url: str, **data):
    return c.post(url, data={"csrf_token": token(c, "/queue"), **data})


def test_escalated_stays_open_and_no_response_needed_leaves_the_queue(web):
    app, engine = web
    bob = login(app, "bob")
    up, quiet = new_mentions(engine, 2, skip=0)
    assert post(bob, f"/mentions/{up}/escalate").status_code == 303
    row = triage_row(engine, up)
    assert (row.status, row.is_open, row.assignee) == ("escalated", True, "bob")
    post(bob, f"/mentions/{up}/claim")                       # claiming keeps it escalated
    assert triage_row(engine, up).status == "escalated"
    page = bob.get("/queue?status=escalated").text
    assert f'id="m{up}"' in page and f'id="m{quiet}"' not in page

    post(bob, f"/mentions/{quiet}/no_response")
    row = triage_row(engine, quiet)
    assert (row.status, row.is_open, row.first_response_at) == ("no_response", False, None)
    assert f'id="m{quiet}"' not in bob.get("/queue").text
    page = bob.get("/queue?status=no_response").text
    assert f'id="m{quiet}"' in page and "no response needed" in page
    post(bob, f"/mentions/{quiet}/escalate")
    assert f"mention {quiet} is already no response needed" in bob.get("/queue").text


def test_assign_a_mention_to_another_user(web):
    app, engine = web
    alice, bob = login(app, "alice"), login(app, "bob")
    (mid,) = new_mentions(engine, 1, skip=5)
    post(bob, f"/mentions/{mid}/claim")
    post(alice, f"/mentions/{mid}/assign", assignee="alice")     # takes it over from bob
    row = triage_row(engine, mid)
    assert (row.status, row.assignee) == ("claimed", "alice")
    post(alice, f"/mentions/{mid}/assign", assignee="bob")
    row = triage_row(engine, mid)
    assert row.assignee == "bob" and "alice] assigned to bob" in row.notes
    post(alice, f"/mentions/{mid}/assign", assignee="mallory")
    assert "no user &#39;mallory&#39; to assign mention" in alice.get("/queue").text
    assert triage_row(engine, mid).assignee == "bob"


def test_filters_by_product_assignee_and_time(web):
    app, engine = web
    c = login(app, "bob")
    with Session(engine) as s:
        product = s.exec(select(Mention.product).where(Mention.product.is_not(None))).first()
    page = c.get("/queue?" + urlencode({"status": "all", "product": product})).text
    ids = re.findall(r'<li class="mention[^"]*" id="m(\d+)"', page)
    with Session(engine) as s:
        assert ids and all(s.get(Mention, int(i)).product == product for i in ids)

    (mid,) = new_mentions(engine, 1, skip=8)
    post(login(app, "alice"), f"/mentions/{mid}/assign", assignee="alice")
    page = c.get("/queue?status=all&assignee=alice").text
    assert f'id="m{mid}"' in page
    assert all(a == "alice" for a in re.findall(r'class="status">[\w ]+ · (\w+)<', page))
    assert f'id="m{mid}"' not in c.get("/queue?status=all&assignee=none").text

    with Session(engine) as s:
        created = s.get(Mention, mid).created_at
    window = {"status": "all", "since": f"{created:%Y-%m-%dT%H:%M}",
              "until": f"{created + timedelta(minutes=1):%Y-%m-%dT%H:%M}"}
    page = c.get("/queue?" + urlencode(window)).text
    assert f'id="m{mid}"' in page
    times = re.findall(r'class="when">([^<]+)<', page)
    assert times and all(t.startswith(f"{created:%Y-%m-%d %H:%M}") for t in times)
    for query, message in [({"since": "yesterday"}, "since 'yesterday' is not a time"),
                           ({"since": "2026-10-30T10:00", "until": "2026-10-30T09:00"},
                            "the time range is empty")]:
        res = c.get("/queue?" + urlencode(query))
        assert res.status_code == 400 and message in res.text.replace("&#39;", "'")


def test_relabel_from_the_queue_is_stored_as_a_correction(web):
    from listener.storage.models import Correction, Label, MentionTopic
    app, engine = web
    bob = login(app, "bob")
    (mid,) = new_mentions(engine, 1, skip=10)
    with Session(engine) as s:
        before = s.get(Label, mid).sentiment
        priority = s.get(Triage, mid).priority
    after = "negative" if before != "negative" else "positive"
    post(bob, f"/mentions/{mid}/relabel", sentiment=after)
    post(bob, f"/mentions/{mid}/relabel", topic="product_safety", change="add")
    post(bob, f"/mentions/{mid}/relabel", topic="product_safety", change="add")   # no change
    with Session(engine) as s:
        fixes = s.exec(select(Correction).where(Correction.mention_id == mid)
                       .order_by(Correction.id)).all()
        assert [(f.field, f.old, f.new, f.user, f.at) for f in fixes] == [
            ("sentiment", before, after, "bob", AT), ("topic", None, "product_safety", "bob", AT)]
        assert s.get(Label, mid).sentiment == after
        assert "product_safety" in s.get(Label, mid).topics
        assert s.get(MentionTopic, (mid, "product_safety")) is not None
        assert s.get(Triage, mid).priority > priority          # re-ranked: now critical
    history = bob.get("/queue?status=all&topic=product_safety").text
    history = history[history.index(f'id="m{mid}"'):]
    history = history[history.index('<details class="history">'):history.index("</details>")]
    assert "2 label correction(s)" in history
    assert f"sentiment: {before} → {after} · bob · 2026-10-30 16:30 UTC" in history
    assert "topic: added product_safety · bob" in history
    post(bob, f"/mentions/{mid}/relabel", topic="product_safety", change="remove")
    with Session(engine) as s:
        last = s.exec(select(Correction).order_by(Correction.id.desc())).first()
        assert (last.field, last.old, last.new) == ("topic", "product_safety", None)
        assert s.get(MentionTopic, (mid, "product_safety")) is None
    for data, message in [({"sentiment": "furious"}, "sentiment &#39;furious&#39; is not one"),
                          ({"topic": "weather", "change": "add"}, "topic &#39;weather&#39; is not"),
                          ({}, "relabel needs a sentiment, or a topic")]:
        post(bob, f"/mentions/{mid}/relabel", **data)
        assert message in bob.get("/queue").text


def test_the_incident_page_lists_the_linked_mentions_a_page_at_a_time(web):
    from listener.storage import counts
    from listener.storage.models import MentionTopic
    app, engine = web
    config = app.state.config
    with Session(engine) as s:
        incident = s.exec(select(Incident).order_by(Incident.id)).first()
        rule = next(r for r in config.alerts.rules if r.name == incident.rule)
        group = {k: v for k in ("brand", "product", "topic") if (v := getattr(incident, k))}
        expected = counts.group_mentions(
            s, rule=rule, group=group, since=int((incident.opened_at - rule.window).timestamp()),
            until=int((incident.resolved_at or AT).timestamp()) + 1)
    c, shown, url = login(app, "bob"), [], f"/incidents/{incident.id}"
    while url:
        page = c.get(url).text
        section = page[page.index('class="linked"'):page.index("<h2>Examples</h2>")]
        shown += [int(i) for i in re.findall(r'<li id="lm(\d+)"', section)]
        assert f"{len(expected)} mention(s) of this rule" in section
        nxt = re.search(r'class="next" href="([^"#]+)', section)
        url = nxt.group(1) if nxt else None
    assert expected and shown == [m.id for m in expected][::-1]
    if incident.topic:
        with Session(engine) as s:
            assert all(s.get(MentionTopic, (i, incident.topic)) for i in shown)
    assert c.get(f"/incidents/{incident.id}?before=x").status_code == 400
