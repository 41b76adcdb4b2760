"""The incident page's moves and views in process: resolve by hand (Slack told, not reopened at
the next detection run), silences (admins; from the incident page, listed, expired), the
timeline chart, the linked mentions by cursor, and the same through the JSON API."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from listener.config import load_config_file
from listener.pipeline.detect import detect
from listener.queue import users
from listener.storage.counts import group_mentions
from listener.storage.db import create_tables, make_engine
from listener.storage.models import (
    Decision,
    Incident,
    Mention,
    MentionTopic,
    OutboxMessage,
    Silence,
)
from listener.web import create_app
from tests.conftest import CONFIG
from tests.support.webdata import AT, HOSTILE, copy_of, seeded_database
from tests.web.test_web import client, login, token


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    config = load_config_file(CONFIG, env={})
    return config, seeded_database(tmp_path_factory.mktemp("incidents"), config)


@pytest.fixture()
def web(seeded, tmp_path):
    """A fresh copy of the store each test: these tests resolve the demo's one incident."""
    config, path = seeded
    engine = copy_of(path, tmp_path / "web.db")
    with Session(engine) as s:
        incident_id = s.exec(select(Incident.id)).one()
    yield create_app(config, engine, lambda: AT, secret_key="test"), engine, incident_id
    engine.dispose()


def bearer(engine, name: str) -> dict:
    with Session(engine) as s:
        secret = users.new_token(s, username=name, now=AT)
        s.commit()
    return {"Authorization": f"Bearer {secret}"}


def form(c, url: str, back: str, **data):
    return c.post(url, data={"csrf_token": token(c, back), "back": back, **data})


def test_resolve_by_hand_records_who_tells_slack_and_is_not_reopened_at_once(web):
    app, engine, iid = web
    bob = login(app, "bob")
    page = f"/incidents/{iid}"
    assert bob.post(f"{page}/resolve", data={}).status_code == 403          # no CSRF token
    assert form(bob, f"{page}/resolve", page).headers["location"] == page
    with Session(engine) as s:
        incident = s.get(Incident, iid)
        assert (incident.status, incident.resolved_by, incident.resolved_at) == (
            "resolved", "bob", AT)
        sent = s.exec(select(OutboxMessage).where(OutboxMessage.incident_id == iid)
                      .order_by(OutboxMessage.id)).all()
        assert [n.kind for n in sent] == ["first", "resolved"]
        reply = sent[-1].message
        assert "Resolved by bob" in reply["blocks"][1]["text"]["text"]
        assert reply["text"].startswith("Resolved: ") and sent[-1].first_update["text"].startswith(
            "Resolved: ")
        assert sent[-1].channel == sent[0].channel
        logged = s.exec(select(Decision).where(Decision.incident_id == iid)
                        .order_by(Decision.id.desc())).first()
        assert (logged.action, logged.code) == ("resolved", "resolved-by-hand")
    text = bob.get(page).text
    assert "resolved 2026-10-30 16:30 UTC by <strong>bob</strong>" in text
    assert 'class="resolve"' not in text
    assert "<td>2026-10-30 16:30 UTC by bob</td>" in bob.get("/incidents").text
    form(bob, f"{page}/resolve", page)
    assert f"incident {iid} is already resolved" in bob.get(page).text

    later = AT + timedelta(minutes=5)                  # the reports go on: still one incident
    taken = detect(engine, config=app.state.config, now=later)
    held = [t for t in taken if t.action == "inhibited"]
    assert held and f"incident #{iid} was resolved by bob" in held[0].reason
    with Session(engine) as s:
        assert len(s.exec(select(Incident)).all()) == 1
        assert s.get(Incident, iid).last_signal_at == later
    assert form(bob, "/incidents/999/resolve", "/queue").status_code == 404
    res = bob.get("/incidents/abc")
    assert res.status_code == 400 and "path.incident_id:" in res.text


def test_acknowledge_on_the_page_or_the_api_tells_slack_as_the_button_does(web):
    app, engine, iid = web
    alice, c = login(app, "alice"), client(app)
    form(alice, f"/incidents/{iid}/ack", f"/incidents/{iid}")
    assert c.post(f"/api/incidents/{iid}/ack", headers=bearer(engine, "bob")).json()[
        "acknowledged_by"] == "alice"                        # the first acknowledgement stays
    with Session(engine) as s:
        kinds = s.exec(select(OutboxMessage.kind).where(OutboxMessage.incident_id == iid)
                       .order_by(OutboxMessage.id)).all()
    assert kinds == ["first", "acknowledged"]
    assert "Acknowledged by <strong>alice</strong>" in alice.get(f"/incidents/{iid}").text
    with Session(engine) as s:                          # it escalates: acknowledge it again
        s.get(Incident, iid).escalated_at = AT + timedelta(minutes=1)
        s.commit()
    assert 'class="acknowledge"' in alice.get(f"/incidents/{iid}").text
    assert form(alice, "/incidents/999/ack", "/queue").status_code == 404
    assert c.post("/api/incidents/999/ack", headers=bearer(engine, "bob")).status_code == 404


def test_resolved_by_hand_holds_until_it_rises_or_was_quiet():
    from datetime import UTC, datetime

    from alerts.detectors import Signal
    from alerts.lifecycle import Policy
    from listener.incidents.transitions import attribute_signal, resolved_by_hand

    engine = make_engine("sqlite://")
    create_tables(engine)
    t0 = datetime(2026, 10, 30, 12, tzinfo=UTC)
    with Session(engine) as s:
        s.add(Incident(key="k", rule="r", title="t", status="resolved", level=5, peak_level=5,
                       opened_at=t0, last_signal_at=t0, resolved_at=t0, resolved_by="ana",
                       observed=5, expected=1))
        s.commit()
        policy = Policy(resolve_after=timedelta(hours=2))

        def signal(level):
            return Signal("rare", observed=5, expected=1, level=level, window=timedelta(hours=1),
                          started_at=t0)
        hand = resolved_by_hand(s, "k", signal(5), policy, t0 + timedelta(hours=1))
        assert hand.mute.code == "resolved-by-hand-1"
        assert s.get(Incident, 1).last_signal_at == t0          # a lookup does not write
        attribute_signal(s, hand, t0 + timedelta(hours=1))      # the detect step's write
        assert resolved_by_hand(s, "k", signal(6), policy, t0 + timedelta(hours=1)) is None
        assert resolved_by_hand(s, "other", signal(5), policy, t0) is None
        # the signal went on at +1h, so +2h59m is not quiet long enough; +3h01m is
        assert resolved_by_hand(s, "k", signal(5), policy, t0 + timedelta(hours=2, minutes=59))
        assert resolved_by_hand(s, "k", signal(5), policy,
                                t0 + timedelta(hours=4, minutes=59, seconds=1)) is None


def test_admins_silence_from_the_incident_page_list_and_expire(web):
    app, engine, iid = web
    bob, alice = login(app, "bob"), login(app, "alice")
    page = f"/incidents/{iid}"
    assert "Silence incidents like this" not in bob.get(page).text
    assert form(bob, "/admin/silences", page, matchers="topic=x", duration="2h",
                comment="no").status_code == 403
    assert bob.get("/admin/silences").status_code == 403
    text = alice.get(page).text
    prefilled = re.search(r'<textarea name="matchers"[^>]*>([^<]*)</textarea>', text).group(1)
    assert prefilled.splitlines() == ["rule=safety-reports", "brand=Lumi Toys",
                                      "topic=product_safety"]
    res = form(alice, "/admin/silences", page, matchers=prefilled, duration="4h",
               comment=HOSTILE)
    assert res.status_code == 303 and res.headers["location"] == page
    with Session(engine) as s:
        silence = s.exec(select(Silence)).one()
        assert silence.matchers[2] == {"name": "topic", "op": "=", "value": "product_safety"}
        assert (silence.starts_at, silence.ends_at, silence.created_by) == (
            AT, AT + timedelta(hours=4), "alice")
    listing = alice.get("/admin/silences").text
    row = listing[listing.index(f'id="silence-{silence.id}"'):]
    assert 'class="state">active<' in row and HOSTILE not in listing
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in row
    assert alice.post(f"/admin/silences/{silence.id}/expire", data={}).status_code == 403
    form(alice, f"/admin/silences/{silence.id}/expire", "/admin/silences")
    with Session(engine) as s:
        assert s.get(Silence, silence.id).ends_at == AT
    assert 'class="state">expired<' in alice.get("/admin/silences").text
    assert form(alice, "/admin/silences/99/expire", "/admin/silences").status_code == 404


@pytest.mark.parametrize("data, message", [
    ({"matchers": "", "duration": "2h", "comment": "c"}, "at least one matcher"),
    ({"matchers": "colour=red", "duration": "2h", "comment": "c"}, "unknown label &#39;colour"),
    ({"matchers": "topic=~(", "duration": "2h", "comment": "c"}, "is not a regular expression"),
    ({"matchers": "topic=a", "duration": "soon", "comment": "c"}, "duration:"),
    ({"matchers": "topic=a", "duration": "365d", "comment": "c"}, "at most 90 days"),
    ({"matchers": "topic=a", "duration": "2h", "comment": " "}, "needs a comment"),
])
def test_a_bad_silence_is_a_clear_400(web, data, message):
    app, engine, _ = web
    res = form(login(app, "alice"), "/admin/silences", "/admin/silences", **data)
    assert res.status_code == 400 and message in res.text
    with Session(engine) as s:
        assert s.exec(select(Silence)).all() == []


def test_a_silenced_manual_resolution_sends_nothing(web):
    app, engine, iid = web
    alice = login(app, "alice")
    form(alice, "/admin/silences", "/admin/silences", matchers="topic=product_safety",
         duration="1h", comment="known")
    form(alice, f"/incidents/{iid}/resolve", f"/incidents/{iid}")
    with Session(engine) as s:
        kinds = s.exec(select(OutboxMessage.kind).where(OutboxMessage.incident_id == iid)).all()
        reason = s.exec(select(Decision.reason).where(Decision.code == "resolved-by-hand")).one()
    assert kinds == ["first"] and "not sent: silence #1" in reason


def test_the_timeline_marks_open_and_resolve(web):
    app, _, iid = web
    bob = login(app, "bob")
    text = bob.get(f"/incidents/{iid}").text
    svg = text[text.index('<svg class="chart timeline"'):]
    svg = svg[:svg.index("</svg>")]
    assert 24 <= svg.count("<rect") <= 72 and 'class="mark mark-opened"' in svg
    assert "resolved" not in svg
    form(bob, f"/incidents/{iid}/resolve", f"/incidents/{iid}")
    svg = bob.get(f"/incidents/{iid}").text
    assert 'class="mark mark-resolved"' in svg and "resolved Fri 16:30 UTC" in svg


def timeline_svg(client, iid: int) -> str:
    text = client.get(f"/incidents/{iid}").text
    svg = text[text.index('<svg class="chart timeline"'):]
    return svg[:svg.index("</svg>")]


def bar_counts(svg: str, unit: str) -> list[int]:
    return [int(n) for n in re.findall(rf"<title>\w+ \d\d:\d\d · (\d+) {re.escape(unit)}</title>",
                                       svg)]


def test_a_rare_rules_timeline_counts_new_authors_as_the_rule_does(web):
    """The demo's incident is safety-reports (rare: 3 distinct authors in 3h): its bars count
    authors new in the bucket, so a second report by someone already counted adds nothing and a
    new person adds one; no expected line (the rare detector has none)."""
    app, engine, iid = web
    bob = login(app, "bob")
    svg = timeline_svg(bob, iid)
    assert 'aria-label="distinct authors new in each bucket (reposts not counted): what ' \
           'safety-reports counts, alerting at 3 within 3h over time' in svg
    assert "mention(s)" not in svg and 'class="expected"' not in svg
    before = bar_counts(svg, "new author(s)")
    assert len(before) == svg.count("<rect") and sum(before) > 0
    with Session(engine) as s:
        linked = s.exec(select(Mention).join(MentionTopic, MentionTopic.mention_id == Mention.id)
                        .where(MentionTopic.topic == "product_safety",
                               Mention.created_epoch >= int((AT - timedelta(hours=3)).timestamp()))
                        ).all()
        old = linked[0]
        for n, author in enumerate([old.author, old.author, "newcomer"]):
            at = AT - timedelta(minutes=5)
            m = Mention(source="twitter", external_id=f"again-{n}", author=author,
                        text="it burned again", created_at=at, created_epoch=int(at.timestamp()),
                        collected_at=AT, brand=old.brand, raw={})
            s.add(m)
            s.flush()
            s.add(MentionTopic(mention_id=m.id, topic="product_safety", score=1.0,
                               created_epoch=m.created_epoch))
        s.commit()
    after = bar_counts(timeline_svg(bob, iid), "new author(s)")
    assert sum(after) == sum(before) + 1
    assert "new author(s) in 15m buckets: distinct authors new" in bob.get(f"/incidents/{iid}").text


def test_a_spike_rules_timeline_draws_the_detectors_expected_volume(web):
    """For a spike rule the bars are mentions, and a line at the detector's expected count (its
    expected over the 1h window, per 15-minute bucket) runs from the window that opened the
    incident to its last signal."""
    app, engine, iid = web
    with Session(engine) as s:
        incident = s.get(Incident, iid)
        incident.rule, incident.expected = "negative-spike", 6.0
        incident.last_signal_at = incident.opened_at + timedelta(minutes=30)
        s.add(incident)
        s.commit()
    svg = timeline_svg(login(app, "bob"), iid)
    assert "new author(s)" not in svg and bar_counts(svg, "mention(s)")
    (line,) = re.findall(r'<line class="expected" x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" '
                         r'y2="([\d.]+)" data-value="([\d.]+)"><title>([^<]*)</title>', svg)
    x1, y1, x2, y2, value, title = line
    assert value == "1.5" and y1 == y2 and float(x1) < float(x2)
    assert title == ("expected 1.50 mention(s) per bucket (the spike detector&#39;s, "
                     "Fri 15:30 to Fri 17:00 UTC)")
    opened = re.search(r'<line class="mark mark-opened" x1="([\d.]+)"', svg).group(1)
    assert float(x1) < float(opened) < float(x2)


def test_the_api_resolves_silences_and_pages_linked_mentions(web):
    app, engine, iid = web
    c, agent, admin = client(app), bearer(engine, "bob"), bearer(engine, "alice")
    assert c.post(f"/api/incidents/{iid}/resolve").status_code == 401
    done = c.post(f"/api/incidents/{iid}/resolve", headers=agent).json()
    assert (done["status"], done["resolved_by"]) == ("resolved", "bob")
    res = c.post(f"/api/incidents/{iid}/resolve", headers=agent)
    assert res.status_code == 409 and "already resolved" in res.json()["detail"]
    assert c.post("/api/incidents/99/resolve", headers=agent).status_code == 404

    body = {"incident_id": iid, "duration": "1d", "comment": "recall under way"}
    assert c.post("/api/silences", headers=agent, json=body).status_code == 403
    made = c.post("/api/silences", headers=admin, json=body)
    assert made.status_code == 201 and made.json()["matchers"] == [
        "rule=safety-reports", "brand=Lumi Toys", "topic=product_safety"]
    sid = made.json()["id"]
    bad = c.post("/api/silences", headers=admin, json={"matchers": ["x"], "comment": "c"})
    assert bad.status_code == 400 and "is not a matcher" in bad.json()["detail"]
    assert [s["id"] for s in c.get("/api/silences", headers=admin).json()] == [sid]
    gone = c.post(f"/api/silences/{sid}/expire", headers=admin).json()
    assert gone["state"] == "expired" and c.get("/api/silences", headers=admin).json() == []
    assert len(c.get("/api/silences?expired=true", headers=admin).json()) == 1

    config = app.state.config
    with Session(engine) as s:
        incident = s.get(Incident, iid)
        rule = next(r for r in config.alerts.rules if r.name == incident.rule)
        expected = [m.id for m in group_mentions(
            s, rule=rule, group={"brand": incident.brand, "topic": incident.topic},
            since=int((incident.opened_at - rule.window).timestamp()),
            until=int(incident.resolved_at.timestamp()) + 1)][::-1]
    seen, url = [], f"/api/incidents/{iid}/mentions?limit=5"
    while url:
        page = c.get(url, headers=agent).json()
        assert page["total"] == len(expected)
        seen += [m["id"] for m in page["mentions"]]
        url = f"/api/incidents/{iid}/mentions?limit=5&before={page['next']}" \
            if page["next"] else None
    assert seen == expected and len(expected) > 5
    assert c.get(f"/api/incidents/{iid}/mentions?before=nope", headers=agent).status_code == 400
    paths = c.get("/api/openapi.json").json()["paths"]
    assert {"/api/incidents/{incident_id}/resolve", "/api/silences",
            "/api/silences/{silence_id}/expire", "/api/incidents/{incident_id}/mentions"} <= set(
        paths)
