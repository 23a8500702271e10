"""The console driven by a real browser (Playwright and Debian's chromium), one scenario per run.

The test suite monkey-patches with eventlet for the platform's sake, and Playwright's
synchronous API cannot run under that patching, so tests/ui/test_console.py runs each
scenario here in a process of its own:

    python tests/ui/browser.py SCENARIO --edge URL --email E --password P [--set key=value ...]

A scenario waits only with Playwright's auto-waiting expectations, saves a screenshot,
and prints its findings as JSON on the last line; a failed expectation exits non-zero.
"""

import argparse
import json
import re
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
ACTIONS = ("Acknowledge", "Resolve", "Reopen", "Reassign", "Escalate", "Add note")
WINDOW_ACTIONS = ("End now", "Extend 1 h", "Plan window")
PAGES = (
    "/",
    "/incidents",
    "/incidents/{incident_id}",
    "/oncall",
    "/teams/{team}",
    "/metrics-overview",
    "/maintenance",
    "/heartbeats",
    "/integrations",
    "/people",
    "/profile",
)
SCENARIOS = {}


def scenario(function):
    SCENARIOS[function.__name__] = function
    return function


class Run:
    """One browser, one page, the options of this run and what it found."""

    def __init__(self, page, options):
        self.page = page
        self.options = options
        self.edge = options.edge
        self.found = {"csp_violations": [], "dialogs": [], "page_errors": []}
        page.on("console", self._console)
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.found["page_errors"].append(str(error)))
        # What the page asked of the API and when, printed when a scenario fails.
        self.started = time.monotonic()
        self.network = []
        page.on("request", lambda r: self._note("asked", r.method, r.url))
        page.on("response", lambda r: self._note(f"answered {r.status}", r.request.method, r.url))
        page.on("requestfailed", lambda r: self._note(f"failed {r.failure}", r.method, r.url))

    def _note(self, what, method, url):
        if "/api/" in url:
            self.network.append(f"{time.monotonic() - self.started:7.2f}s {what} {method} {url}")

    def _console(self, message):
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.found["csp_violations"].append(message.text)

    def _dialog(self, dialog):
        self.found["dialogs"].append(dialog.message)
        dialog.dismiss()

    def get(self, key, default=None):
        return self.options.values.get(key, default)

    def goto(self, path, heading=None):
        self.page.goto(self.edge + path)
        h1 = self.page.locator("main h1")
        expect(h1).to_be_visible(timeout=10_000)
        if heading:
            expect(h1).to_contain_text(heading, timeout=10_000)
        return h1

    def loaded(self):
        """Everything the page asked for has arrived: no "Loading…" left."""
        expect(self.page.locator("main p", has_text="Loading…")).to_have_count(0, timeout=10_000)

    def sign_in(self, email=None, password=None, new_password=None):
        page = self.page
        page.goto(self.edge + "/login")
        page.get_by_label("Email").fill(email or self.options.email)
        page.get_by_label("Password", exact=True).fill(password or self.options.password)
        page.get_by_role("button", name="Sign in").click()
        dashboard = page.get_by_role("heading", name="Dashboard", exact=True)
        forced = page.get_by_role("heading", name="Change password")
        expect(dashboard.or_(forced)).to_be_visible(timeout=10_000)
        if forced.is_visible():
            new = new_password or self.get("new_password")
            page.get_by_label("Current password").fill(password or self.options.password)
            page.get_by_label("New password", exact=True).fill(new)
            page.get_by_label("New password again").fill(new)
            page.get_by_role("button", name="Change password").click()
            self.found["changed_password"] = True
        expect(dashboard).to_be_visible(timeout=10_000)

    def post_alert(self, body):
        request = urllib.request.Request(
            self.edge + "/api/v1/alerts",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (the platform under test)
            return json.loads(answer.read())

    def screenshot(self):
        path = Path(self.options.shot)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=True)


@scenario
def sign_in_form(run):
    """Through the form, the forced password change, a reload, signing out, and `next`."""
    page = run.page
    run.page.goto(run.edge + "/incidents?status=open")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fincidents%3Fstatus%3Dopen$"), timeout=10_000)
    run.sign_in()
    page.reload()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible(timeout=10_000)
    run.screenshot()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Klaxon")).to_be_visible(timeout=10_000)
    page.get_by_label("Email").fill(run.options.email)
    page.get_by_label("Password", exact=True).fill(run.get("new_password"))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible(timeout=10_000)


# Preact runs effects after the next frame, or after 35 ms without one: these make it 1.5 s.
SLOW_EFFECTS = ("setTimeout(r,35)", "setTimeout(r,1500)")


@scenario
def live_indicator_with_slow_effects(run):
    """The stream opens before the indicator's effect runs: the indicator still says Live."""
    page = run.page
    run.sign_in()
    page.add_init_script("window.requestAnimationFrame = () => 0;")

    def slow_hooks(route):
        script = route.fetch().text()
        assert SLOW_EFFECTS[0] in script, "the vendored hooks no longer time their effects this way"
        route.fulfill(body=script.replace(*SLOW_EFFECTS), content_type="text/javascript")

    page.route("**/vendor/hooks.module.js", slow_hooks)
    with page.expect_response("**/api/v1/events") as opened:
        page.reload()
    assert opened.value.status == 200
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible(timeout=10_000)
    expect(page.locator(".live-live")).to_be_visible(timeout=10_000)
    run.screenshot()


@scenario
def live_dashboard(run):
    """An alert posted while the dashboard is open appears on it within 2 s, no reload."""
    page = run.page
    run.sign_in()
    expect(page.locator(".live-live")).to_be_visible(timeout=10_000)
    page.evaluate("window.__klaxonNoReload = true")
    title = run.get("title")
    answer = run.post_alert({"service": "frontend-api", "severity": "critical", "message": title})
    expect(page.get_by_role("link", name=f"#{answer['incident_id']} {title}").first).to_be_visible(
        timeout=2_000
    )
    assert page.evaluate("window.__klaxonNoReload === true"), "the page reloaded"
    run.found["incident_id"] = answer["incident_id"]
    run.screenshot()


@scenario
def incident_flow(run):
    """Acknowledge, add a note, resolve; the timeline shows each with its actor."""
    page = run.page
    run.sign_in()
    incident_id = run.get("incident_id")
    run.goto(f"/incidents/{incident_id}", f"#{incident_id}")
    status = page.locator(".facts dd .badge").first
    expect(status).to_have_text("open")
    page.get_by_role("button", name="Acknowledge", exact=True).click()
    expect(status).to_have_text("acknowledged", timeout=5_000)
    expect(page.get_by_role("button", name="Acknowledge", exact=True)).to_have_count(0)
    page.get_by_role("button", name="Reassign", exact=True).click()
    page.get_by_label("New assignee").fill(run.get("assignee"))
    page.get_by_role("button", name="Save assignee").click()
    expect(page.locator(".facts")).to_contain_text(run.get("assignee"), timeout=5_000)
    page.get_by_role("button", name="Escalate", exact=True).click()
    timeline = page.locator("ol.timeline")
    expect(timeline.locator("li.tl-escalated")).to_contain_text(run.options.email, timeout=5_000)
    page.get_by_role("button", name="Add note", exact=True).click()
    page.get_by_role("textbox", name="Note").fill(run.get("note"))
    page.get_by_role("button", name="Save note").click()
    expect(timeline).to_contain_text(run.get("note"), timeout=5_000)
    page.get_by_role("button", name="Resolve", exact=True).click()
    expect(status).to_have_text("resolved", timeout=5_000)
    expect(page.get_by_role("button", name="Reopen", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Escalate", exact=True)).to_have_count(0)
    for kind in ("acknowledged", "assigned", "escalated", "note", "resolved"):
        expect(timeline.locator(f"li.tl-{kind}").last).to_contain_text(run.options.email)
    expect(page.locator("table.list").last).to_contain_text("@example.com")
    run.found["timeline"] = timeline.locator("li strong").all_inner_texts()
    run.screenshot()


@scenario
def incident_list(run):
    """Filters live in the URL (back and forward work); several incidents acknowledged at once."""
    page = run.page
    run.sign_in()
    query = run.get("q")
    run.goto(f"/incidents?q={query}", "Incidents")
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(int(run.get("count")), timeout=10_000)
    expect(page.get_by_label("Search titles")).to_have_value(query)
    page.get_by_role("checkbox", name="Select all on this page").check()
    page.get_by_role("button", name="Acknowledge", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(f"{run.get('count')} acknowledged", timeout=5_000)
    expect(rows.locator(".badge.status-acknowledged")).to_have_count(int(run.get("count")), timeout=5_000)
    page.get_by_label("Severity").select_option("critical")
    expect(page).to_have_url(re.compile(r"severity=critical"))
    expect(rows).to_have_count(0)
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"severity="))
    expect(rows).to_have_count(int(run.get("count")))
    expect(page.get_by_label("Severity")).to_have_value("")
    page.go_forward()
    expect(page.get_by_label("Severity")).to_have_value("critical")
    run.screenshot()


@scenario
def polling_fallback(run):
    """With the event stream unreachable, the dashboard still shows a new incident (polling)."""
    page = run.page
    page.route("**/api/v1/events", lambda route: route.abort())
    run.sign_in()
    expect(page.locator(".live-polling")).to_be_visible(timeout=10_000)
    title = run.get("title")
    answer = run.post_alert({"service": "polling-check", "severity": "low", "message": title})
    expect(page.get_by_role("link", name=f"#{answer['incident_id']} {title}").first).to_be_visible(
        timeout=8_000
    )
    run.screenshot()


@scenario
def oncall_cover(run):
    """The page names who is on call now; covering the current shift changes that."""
    page = run.page
    run.sign_in()
    team = run.get("team")
    run.goto("/oncall", "On call")
    primary = page.get_by_test_id(f"primary-{team}")
    expect(primary).to_have_text(run.get("expect_primary"), timeout=10_000)
    run.found["primary_before"] = primary.inner_text()
    section = page.locator("section.team-oncall", has=page.get_by_role("heading", name=team, exact=True))
    section.get_by_role("button", name=re.compile(r"^Cover a shift: .*, primary, ")).first.click()
    form = page.get_by_role("form", name="Cover a shift")
    expect(form).to_be_visible()
    expect(form.get_by_label("From")).not_to_have_value("")
    form.get_by_label("Email of who covers").fill(run.get("cover_email"))
    form.get_by_role("button", name="Save override").click()
    expect(primary).to_have_text(run.get("cover_name"), timeout=10_000)
    expect(section.locator(".override").first).to_be_visible()
    run.found["primary_after"] = primary.inner_text()
    run.screenshot()


@scenario
def xss_inert(run):
    """An alert whose text is HTML is shown as text and runs nothing."""
    page = run.page
    run.sign_in()
    incident_id, message = run.get("incident_id"), run.get("message")
    expect(page.get_by_text(message).first).to_be_visible(timeout=10_000)
    run.goto(f"/incidents/{incident_id}", f"#{incident_id}")
    expect(page.locator("p.alert-message")).to_have_text(message)
    page.get_by_text("Raw payload").click()
    expect(page.locator("pre.raw")).to_contain_text(message)
    run.found["injected_images"] = page.locator("main img").count()
    run.screenshot()


@scenario
def ack_link_page(run):
    """An acknowledge link opened in a browser shows what it would do, as text, and
    acknowledges only when its button is pressed; no sign-in needed."""
    page = run.page
    incident_id, title = run.get("incident_id"), run.get("title")
    page.goto(run.get("link"))
    expect(page.get_by_role("heading", name=f"Incident #{incident_id}")).to_be_visible(timeout=10_000)
    expect(page.get_by_text(title, exact=True)).to_be_visible()
    run.found["injected_images"] = page.locator("img").count()
    run.found["status_shown"] = page.get_by_text("Status:").inner_text()
    run.screenshot()
    page.get_by_role("button", name=f"Acknowledge as {run.get('recipient')}").click()
    expect(page.get_by_role("heading", name=re.compile("is acknowledged"))).to_be_visible(timeout=10_000)


@scenario
def schedule_saved(run):
    """An admin opens a team's schedule editor and saves it unchanged."""
    page = run.page
    run.sign_in()
    run.goto(f"/teams/{run.get('team')}", run.get("team"))
    run.loaded()
    page.get_by_role("button", name="Edit schedule").click()
    page.get_by_role("button", name="Save schedule").click()
    expect(page.get_by_role("button", name="Edit schedule")).to_be_visible(timeout=10_000)
    run.screenshot()


@scenario
def viewer_sees_no_actions(run):
    """A viewer reads everything and is offered no action."""
    page = run.page
    run.sign_in()
    incident_id = run.get("incident_id")
    run.goto(f"/incidents/{incident_id}", f"#{incident_id}")
    expect(page.locator("ol.timeline")).to_be_visible()
    run.found["buttons"] = {
        name: page.get_by_role("button", name=name, exact=True).count() for name in ACTIONS
    }
    run.goto("/incidents", "Incidents")
    expect(page.get_by_role("link", name=re.compile(f"^#{incident_id} "))).to_be_visible()
    run.found["checkboxes"] = page.get_by_role("checkbox").count()
    run.goto("/oncall", "On call")
    expect(page.locator(".shift").first).to_be_visible()
    run.found["cover_buttons"] = page.get_by_role("button", name=re.compile("^Cover a shift")).count()
    run.goto("/maintenance", "Maintenance")
    expect(page.locator("li.window").first).to_be_visible(timeout=10_000)
    for name in WINDOW_ACTIONS:
        run.found["buttons"][name] = page.get_by_role("button", name=name, exact=True).count()
    run.goto("/heartbeats", "Heartbeats")
    expect(page.locator("table.heartbeats tbody tr").first).to_be_visible(timeout=10_000)
    for name in ("Add monitor", re.compile("^Delete ")):
        run.found["buttons"][str(name)] = page.get_by_role("button", name=name).count()
    run.screenshot()


@scenario
def maintenance_and_heartbeats(run):
    """The window and the alert it holds back on /maintenance, extended by an hour; the monitor
    on /heartbeats; the alert's incident-less "suppressed" badge names the window."""
    page = run.page
    run.sign_in()
    window_id, reason = run.get("window_id"), run.get("reason")
    run.goto("/heartbeats", "Heartbeats")
    row = page.locator("table.heartbeats tbody tr", has_text=run.get("monitor"))
    expect(row).to_be_visible(timeout=10_000)
    expect(row).to_contain_text(run.get("service"))
    expect(row.locator(".badge")).to_have_text(re.compile("^(up|down)$"))
    expect(row).to_contain_text("never")
    expect(row).to_contain_text("every 10 min")
    run.goto("/maintenance", "Maintenance")
    card = page.get_by_test_id(f"window-{window_id}")
    expect(card.locator("h3")).to_have_text(reason, timeout=10_000)
    expect(card.locator(".badge")).to_have_text("active")
    expect(card.get_by_role("list", name="Matchers")).to_have_text("service = checkout-api")
    expect(card).to_contain_text("once")
    expect(card).to_contain_text(run.get("author"))
    run.found["ends_before"] = card.locator("dd time").nth(1).get_attribute("datetime")
    card.get_by_role("button", name="Extend 1 h", exact=True).click()
    expect(card.get_by_role("status")).to_have_text("Extend 1 h: done.", timeout=5_000)
    expect(card.locator("dd time").nth(1)).not_to_have_attribute("datetime", run.found["ends_before"])
    expect(card.get_by_role("button", name="End now", exact=True)).to_be_visible()
    held = page.locator("section", has=page.get_by_role("heading", name="Alerts held back"))
    alert = held.locator("ol.alerts li", has_text=run.get("message"))
    expect(alert).to_be_visible(timeout=10_000)
    expect(alert.locator(".badge.alert-suppressed")).to_have_text("suppressed")
    expect(alert).to_contain_text(f"by maintenance window #{window_id}")
    run.found["ends_after"] = card.locator("dd time").nth(1).get_attribute("datetime")
    run.screenshot()


@scenario
def heartbeat_created(run):
    """An admin adds a monitor on /heartbeats: a bad name is refused at its field, a good one
    shows its key once with the beat's snippets and joins the table."""
    page = run.page
    run.sign_in()
    run.goto("/heartbeats", "Heartbeats")
    form = page.locator("form", has=page.get_by_role("heading", name="New heartbeat monitor"))
    form.get_by_label("Name").fill("nightly backup")  # a space: refused by the API
    form.get_by_label("Service").fill(run.get("service"))
    form.get_by_label("Expected every (minutes)").fill("1440")
    form.get_by_label("Grace (minutes)").fill("60")
    form.get_by_label("Severity").select_option("high")
    form.get_by_role("button", name="Add monitor").click()
    expect(form.locator(".field-error").first).to_be_visible(timeout=10_000)
    run.found["name_error"] = form.locator(".field-error").first.inner_text()
    form.get_by_label("Name").fill(run.get("monitor"))
    form.get_by_role("button", name="Add monitor").click()
    secret = page.locator(".secret")
    expect(secret).to_contain_text(f"Key of {run.get('monitor')}:", timeout=10_000)
    run.found["key"] = secret.locator("code").inner_text()
    run.found["snippets"] = page.locator(".secret pre").all_inner_texts()
    row = page.locator("table.heartbeats tbody tr", has_text=run.get("monitor"))
    expect(row).to_contain_text("every 24 h + 1 h grace", timeout=10_000)
    run.screenshot()
    secret.get_by_role("button", name="I have copied it").click()
    expect(secret).to_have_count(0)


@scenario
def heartbeat_deleted(run):
    """An admin deletes a monitor from /heartbeats, confirming first."""
    page = run.page
    run.sign_in()
    run.goto("/heartbeats", "Heartbeats")
    row = page.locator("table.heartbeats tbody tr", has_text=run.get("monitor"))
    expect(row).to_contain_text(run.get("service"), timeout=10_000)
    row.get_by_role("button", name=f"Delete {run.get('monitor')}").click()
    row.get_by_role("button", name=f"Confirm delete {run.get('monitor')}").click()
    expect(row).to_have_count(0, timeout=10_000)


def axe_violations(run):
    run.page.add_script_tag(path=str(AXE))
    results = run.page.evaluate("async () => (await axe.run(document)).violations")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results
        if v["impact"] in ("serious", "critical")
    ]


@scenario
def accessibility(run):
    """axe-core on every page: no serious or critical violation."""
    run.sign_in()
    found = {}
    # Every page in the light theme; in the dark one, the pages with the most colour.
    for scheme, pages in (("light", PAGES), ("dark", (*PAGES[:4], "/maintenance", "/heartbeats"))):
        run.page.emulate_media(color_scheme=scheme)
        for template in pages:
            path = template.format(incident_id=run.get("incident_id"), team=run.get("team"))
            run.goto(path)
            run.loaded()
            violations = axe_violations(run)
            if violations:
                found[f"{scheme} {path}"] = violations
    run.page.get_by_role("button", name="Sign out").click()
    expect(run.page.get_by_role("button", name="Sign in")).to_be_visible(timeout=10_000)
    found_login = axe_violations(run)
    if found_login:
        found["/login"] = found_login
    run.found["violations"] = found
    run.screenshot()


@scenario
def narrow_screen(run):
    """At 390 px wide the dashboard and an incident need no horizontal scrolling."""
    run.page.set_viewport_size({"width": 390, "height": 844})
    run.sign_in()
    widths = {}
    paths = (
        "/",
        f"/incidents/{run.get('incident_id')}",
        "/incidents",
        "/oncall",
        "/maintenance",
        "/heartbeats",
    )
    for path in paths:
        run.goto(path)
        run.loaded()
        widths[path] = run.page.evaluate("document.documentElement.scrollWidth")
        if path.startswith("/incidents/"):
            expect(run.page.get_by_role("button", name="Add note", exact=True)).to_be_in_viewport()
    run.found["scroll_widths"] = widths
    run.screenshot()


@scenario
def csp_clean(run):
    """Every page loads under the strict policy with no violation reported."""
    run.sign_in()
    for template in PAGES:
        run.goto(template.format(incident_id=run.get("incident_id"), team=run.get("team")))
        run.loaded()
    run.goto("/metrics-overview", "Metrics")
    expect(run.page.locator("canvas").first).to_be_visible(timeout=10_000)
    run.screenshot()


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--edge", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--shot", required=True)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    options = parser.parse_args(argv)
    options.values = dict(item.split("=", 1) for item in options.set)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            # axe-core is injected as an inline script, which the console's CSP rightly refuses.
            bypass = options.scenario == "accessibility"
            context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=bypass)
            run = Run(context.new_page(), options)
            try:
                SCENARIOS[options.scenario](run)
            except Exception:
                print("the page's API requests:", *run.network[-80:], sep="\n", file=sys.stderr)
                raise
        finally:
            browser.close()
    print(json.dumps(run.found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
