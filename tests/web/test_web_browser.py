"""The web queue in a real browser: Debian's Chromium driven by Playwright, against the app served
by uvicorn on 127.0.0.1. Each test has its own copy of the demo data, so none depends on another's
moves or on their order. Also takes the README's screenshots from the demo data: into a temporary
directory, or into docs/ with `make screenshots` (pytest --screenshots docs)."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from sqlmodel import Session, select

from listener.config import load_config_file
from listener.incidents import actions
from listener.queue import triage
from listener.storage.models import Incident, Triage
from listener.web import create_app
from listener.web.server import BackgroundServer
from tests.conftest import CONFIG
from tests.support.webdata import AT, HOSTILE, PASSWORD, copy_of, seeded_database

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")
NO_CHROMIUM = ("needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium; "
               "make test installs it when run as root)")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """The demo data, seeded once for the module (the slow part); every test gets a copy."""
    config = load_config_file(CONFIG, env={})
    return config, seeded_database(tmp_path_factory.mktemp("browser"), config)


@pytest.fixture()
def served(seeded, tmp_path):
    """The app on this test's own copy of the seeded database (SQLite's backup API)."""
    config, seeded_path = seeded
    engine = copy_of(seeded_path, tmp_path / "web.db")
    app = create_app(config, engine, lambda: AT, secret_key="browser-test")
    port = _free_port()
    server = BackgroundServer(app, "127.0.0.1", port).start()      # uvicorn in a thread
    yield f"http://127.0.0.1:{port}", engine
    server.stop()
    engine.dispose()


@pytest.fixture()
def shots(request, tmp_path) -> Path:
    """Where the screenshots go: docs/ only when asked (make screenshots), else a temporary
    directory, so an ordinary run writes nothing into the repository."""
    folder = request.config.getoption("screenshots") or tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser(request):
    screenshots = request.config.getoption("screenshots")
    missing = pytest.fail if screenshots else pytest.skip    # asked for screenshots: no skip
    if not CHROMIUM.exists():
        missing(NO_CHROMIUM)
    try:
        from playwright import sync_api
    except ImportError:
        missing("needs the playwright package (pip install -e '.[test]')")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture()
def page_as(browser, served):
    base, _ = served
    contexts = []

    def open_as(user: str):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.dialogs = []
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
        page.goto(f"{base}/queue")
        assert "/login" in page.url            # every page but the login needs a session
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_url(re.compile(r"/queue"))
        return page

    yield open_as
    for c in contexts:
        c.close()


def test_filter_claim_respond_and_the_sla_clock_stops(page_as, served):
    _, engine = served
    page = page_as("bob")
    page.select_option("select[name=topic]", "product_safety")
    page.select_option("select[name=sentiment]", "negative")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"topic=product_safety"))
    items = page.locator("li.mention")
    assert items.count() > 0
    assert set(page.locator("li.mention .sentiment").all_inner_texts()) == {"negative"}
    first = items.first
    mid = int(first.get_attribute("data-id"))
    assert first.locator(".sla").get_attribute("data-deadline")      # the clock is running

    with page.expect_navigation():
        first.locator("button.claim").click()
    item = page.locator(f"#m{mid}")
    assert "claimed · bob" in item.locator(".status").inner_text()

    with page.expect_navigation():
        item.locator("button.respond").click()
    page.goto(page.url.split("?")[0] + "?status=responded")
    sla = page.locator(f"#m{mid} .sla")
    assert re.match(r"answered in \d", sla.inner_text())
    assert sla.get_attribute("data-deadline") is None                # stopped: no countdown
    text = sla.inner_text()
    page.wait_for_timeout(1500)
    assert sla.inner_text() == text
    with Session(engine) as s:
        row = s.get(Triage, mid)
        assert row.status == "responded" and row.first_response_at == AT


def test_keyboard_moves_claim_the_focused_mention(page_as):
    page = page_as("alice")
    page.select_option("select[name=source]", "bluesky")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"source=bluesky"))
    second = page.locator("li.mention").nth(1)
    mid = second.get_attribute("data-id")
    page.keyboard.press("j")
    page.keyboard.press("j")
    with page.expect_navigation():                 # the claim is a form post, then a redirect
        page.keyboard.press("c")
    assert "claimed · alice" in page.locator(f"#m{mid} .status").inner_text()


def test_keyboard_escalates_and_marks_no_response_needed(page_as):
    page = page_as("bob")
    page.select_option("select[name=source]", "reddit")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"source=reddit"))
    first, second = (page.locator("li.mention").nth(i).get_attribute("data-id") for i in (0, 1))
    page.keyboard.press("j")
    with page.expect_navigation():
        page.keyboard.press("e")
    assert "escalated · bob" in page.locator(f"#m{first} .status").inner_text()
    page.locator(f"#m{second}").focus()
    with page.expect_navigation():
        page.keyboard.press("u")
    assert page.locator(f"#m{second}").count() == 0          # off the open queue
    page.goto(page.url.split("?")[0] + "?status=no_response&source=reddit")
    assert "no response needed" in page.locator(f"#m{second} .status").inner_text()


def open_incident(page):
    """The demo's incident, from the nav and the incidents list."""
    page.click("nav >> text=Incidents")
    page.locator("table.grid a").first.click()
    return page


def test_open_an_incident_and_acknowledge_it(page_as, served, shots):
    _, engine = served
    page = open_incident(page_as("alice"))
    assert page.locator("h1").inner_text().endswith("product safety")
    assert page.locator("ol.examples li").count() >= 3
    assert page.locator(".playbook a").get_attribute("href").startswith("https://")
    page.screenshot(path=str(shots / "incident.png"), full_page=True)
    with page.expect_navigation():
        page.click("button.acknowledge")
    assert "Acknowledged by alice" in page.locator(".acknowledged").inner_text()
    with Session(engine) as s:
        assert s.exec(select(Incident.acknowledged_by)).first() == "alice"


def test_an_agent_cannot_reach_the_admin_page(page_as, served):
    base, _ = served
    page = page_as("bob")
    assert page.locator("nav >> text=Users").count() == 0
    response = page.goto(f"{base}/admin/users")
    assert response.status == 403 and "for administrators" in page.content()
    admin = page_as("alice")
    assert admin.goto(f"{base}/admin/users").status == 200


def test_hostile_text_shows_as_text_and_runs_nothing(page_as):
    page = page_as("bob")
    page.fill("input[name=q]", "alert(1)")
    page.select_option("select[name=status]", "all")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"q=alert"))
    assert page.locator("li.mention .text").inner_text() == HOSTILE
    assert page.locator("li.mention img").count() == 0
    assert page.evaluate("() => document.querySelectorAll('main script').length") == 0
    page.wait_for_timeout(500)
    assert page.dialogs == []


def work_the_queue(engine, config) -> None:
    """The moves the tests above make through the pages, made here through the same queue and
    incident functions, so that the screenshots show a queue being worked: one mention
    responded, one claimed, one escalated, one needing no response, the incident acknowledged."""
    def nth(s, n: int, **filters) -> int:       # as the queue page lists them
        return triage.queue_page(s, filters=triage.QueueFilter(**filters))[n].triage.mention_id

    with Session(engine) as s:
        # the triage rows, which the queue page makes on its first visit
        triage.sync_triage(s, severities={t.name: t.severity for t in config.topics})
        answered = nth(s, 0, topic="product_safety", sentiment="negative")
        claimed = nth(s, 1, source="bluesky")
        escalated, unneeded = nth(s, 0, source="reddit"), nth(s, 1, source="reddit")
        triage.claim(s, mention_id=answered, user="bob", now=AT)
        triage.respond(s, mention_id=answered, user="bob", now=AT)
        triage.claim(s, mention_id=claimed, user="alice", now=AT)
        triage.escalate(s, mention_id=escalated, user="bob", now=AT)
        triage.no_response(s, mention_id=unneeded, user="bob", now=AT)
        incident = s.exec(select(Incident.id)).one()
        actions.acknowledge(s, config=config, incident_id=incident, user="alice", now=AT)
        s.commit()


def test_screenshots_of_the_queue_and_the_dashboard(page_as, served, seeded, shots):
    (_, engine), (config, _) = served, seeded
    work_the_queue(engine, config)
    page = page_as("alice")
    page.screenshot(path=str(shots / "queue.png"))
    page.click("nav >> text=Dashboard")
    assert page.locator("svg.chart.total rect").count() == 48
    assert page.locator("section.by-source ul.legend li").count() >= 3
    page.screenshot(path=str(shots / "dashboard.png"), full_page=True)
    assert all((shots / f).stat().st_size > 10_000 for f in ("queue.png", "dashboard.png"))


def test_silence_and_resolve_an_incident(page_as, served):
    _, engine = served
    page = open_incident(page_as("alice"))
    assert page.locator("svg.chart.timeline line.mark-opened").count() == 1
    page.click("details.silence summary")
    assert "topic=product_safety" in page.input_value("textarea[name=matchers]")
    page.fill("input[name=comment]", "recall statement out")
    with page.expect_navigation():
        page.click("button.silence")
    assert page.locator(".flash").inner_text().startswith("silence #1 until")
    with page.expect_navigation():
        page.click("button.resolve")
    assert "by alice" in page.locator(".resolution").inner_text()
    assert page.locator("svg.chart.timeline line.mark-resolved").count() == 1
    page.click("nav >> text=Silences")
    assert page.locator("#silence-1 .state").inner_text() == "active"
    with Session(engine) as s:
        assert s.exec(select(Incident.resolved_by)).first() == "alice"
