"""The web console in a real browser, against the platform as processes.

Each test runs one scenario of tests/ui/browser.py (Playwright driving Debian's chromium)
in a process of its own, because Playwright cannot run under the suite's eventlet
patching; what the browser saw is then checked against the API. Screenshots land in
tests/ui/screenshots/<test>.png.
"""

import datetime as dt
import gzip
import importlib.util
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from services.notifications.acklinks import AckLinks
from tests.platform import running_platform

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None, reason="needs playwright (the test extra)"
    ),
]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CONSOLE = ROOT / "edge" / "static" / "console"
SHOTS = HERE / "screenshots"
PASSWORD = "correct horse battery staple 42"  # pragma: allowlist secret
TEAM = "platform-engineering"
USERS = {"admin": "admin", "responder": "responder", "viewer": "viewer", "fresh": "responder"}


def set_password(edge, email, one_time):
    session = requests.Session()
    answer = session.post(
        f"{edge}/api/v1/auth/login", json={"email": email, "password": one_time}, timeout=30
    )
    answer.raise_for_status()
    csrf = answer.json()["csrf_token"]
    session.post(
        f"{edge}/api/v1/auth/password",
        json={"current_password": one_time, "new_password": PASSWORD},
        headers={"X-CSRF-Token": csrf},
        timeout=30,
    ).raise_for_status()


class Console:
    def __init__(self, platform, users):
        self.platform = platform
        self.users = users  # role -> (email, password)

    @property
    def api(self):
        return self.platform.api

    def alert(self, message, service="frontend-api", severity="critical"):
        body = {"service": service, "severity": severity, "message": message}
        answer = requests.post(f"{self.platform.edge}/api/v1/alerts", json=body, timeout=30)
        answer.raise_for_status()
        return answer.json()["incident_id"]

    def browse(self, request, scenario, user, **values):
        email, password = self.users[user]
        values.setdefault("new_password", PASSWORD)
        command = [
            sys.executable, str(HERE / "browser.py"), scenario,
            "--edge", self.platform.edge, "--email", email, "--password", password,
            "--shot", str(SHOTS / f"{request.node.name}.png"),
            *[f"--set={key}={value}" for key, value in values.items()],
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=150, cwd=ROOT)
        if done.returncode != 0:
            pytest.fail(
                f"browser scenario {scenario} failed:\n{done.stdout[-3000:]}\n{done.stderr[-10000:]}"
                f"\nthe platform's last lines:\n{self.platform.log_tail()}"
            )
        return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    with running_platform(tmp_path_factory.mktemp("console")) as platform:
        platform.wait_healthy(timeout=90)
        users = {}
        for user, role in USERS.items():
            email = f"ui-{user}@example.com"
            made = platform.api.post(
                f"{platform.edge}/api/v1/users", json={"email": email, "role": role}, timeout=30
            )
            made.raise_for_status()
            one_time = made.json()["one_time_password"]
            if user == "fresh":
                users[user] = (email, one_time)
            else:
                set_password(platform.edge, email, one_time)
                users[user] = (email, PASSWORD)
        yield Console(platform, users)


@pytest.fixture(scope="module")
def incident_id(console):
    return console.alert("Disk full on db-1", service="checkout-api", severity="high")


@pytest.fixture(scope="module")
def quiet(console):
    """An upcoming maintenance window (of a service no other test alerts on) and a heartbeat
    monitor, so the pages the checks below visit are not empty."""
    edge, tag = console.platform.edge, uuid.uuid4().hex[:6]
    starts = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    window = {
        "reason": f"Failover drill {tag}",
        "matchers": [f"service=drill-{tag}", "severity!=critical"],
        "starts_at": starts.isoformat(),
        "ends_at": (starts + dt.timedelta(hours=2)).isoformat(),
        "replay": False,
    }
    made = console.api.post(f"{edge}/api/v1/maintenance_windows", json=window, timeout=30)
    made.raise_for_status()
    monitor = {"name": f"drill-cron-{tag}", "service": f"drill-{tag}", "interval_seconds": 3600}
    console.api.post(f"{edge}/api/v1/heartbeats", json=monitor, timeout=30).raise_for_status()
    return made.json()


def test_sign_in_through_the_form_with_the_forced_password_change(console, request):
    found = console.browse(request, "sign_in_form", "fresh")
    assert found["changed_password"]
    email = console.users["fresh"][0]
    assert requests.post(
        f"{console.platform.edge}/api/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=30
    ).ok


def test_a_new_incident_appears_on_the_dashboard_without_a_reload(console, request):
    title = f"Checkout latency {uuid.uuid4().hex[:6]}"
    found = console.browse(request, "live_dashboard", "responder", title=title)
    incident = console.api.get(f"{console.platform.edge}/api/v1/incidents/{found['incident_id']}", timeout=10)
    assert incident.json()["title"] == title


def test_the_live_indicator_says_live_when_the_stream_opens_before_its_first_effect(console, request):
    console.browse(request, "live_indicator_with_slow_effects", "responder")


def test_without_the_event_stream_the_dashboard_falls_back_to_polling(console, request):
    title = f"Polled {uuid.uuid4().hex[:6]}"
    console.browse(request, "polling_fallback", "responder", title=title)


def test_acknowledge_note_resolve_and_the_api_agrees(console, request):
    incident = console.alert(
        f"Queue backlog {uuid.uuid4().hex[:6]}", service="checkout-api", severity="medium"
    )
    note = "rolled back release 2026.12.1"
    console.browse(request, "incident_flow", "responder", incident_id=incident, note=note, assignee="Bob")
    body = console.api.get(f"{console.platform.edge}/api/v1/incidents/{incident}", timeout=10).json()
    assert body["status"] == "resolved" and body["assignee"] == "Bob"
    email = console.users["responder"][0]
    mine = {entry["kind"] for entry in body["timeline"] if entry["actor"] == email}
    assert {"acknowledged", "assigned", "escalated", "note", "resolved"} <= mine
    assert [n["note"] for n in body["notes"]] == [note]


def test_filters_live_in_the_url_and_several_are_acknowledged_at_once(console, request):
    tag = uuid.uuid4().hex[:8]
    ids = [
        console.alert(f"Bulk {tag} {n}", service=f"bulk-{tag}", severity=s)  # no other test's incident
        for n, s in enumerate(("low", "high"))
    ]
    console.browse(request, "incident_list", "responder", q=f"Bulk {tag}", count=len(ids))
    for incident in ids:
        body = console.api.get(f"{console.platform.edge}/api/v1/incidents/{incident}", timeout=10).json()
        assert body["status"] == "acknowledged"


def test_oncall_names_who_is_on_call_and_covering_a_shift_changes_it(console, request):
    edge = console.platform.edge
    current = console.api.get(f"{edge}/api/v1/oncall/current", params={"team": TEAM}, timeout=10).json()
    schedule = next(
        s
        for s in console.api.get(f"{edge}/api/v1/schedules", timeout=10).json()["items"]
        if s["team"] == TEAM
    )
    cover = next(m for m in schedule["members"] if m["email"] != current["primary"]["email"])
    found = console.browse(
        request, "oncall_cover", "responder", team=TEAM, expect_primary=current["primary"]["name"],
        cover_email=cover["email"], cover_name=cover["name"],
    )  # fmt: skip
    assert found["primary_before"] == current["primary"]["name"]
    after = console.api.get(f"{edge}/api/v1/oncall/current", params={"team": TEAM}, timeout=10).json()
    assert after["primary"]["email"] == cover["email"]


def test_alert_text_is_rendered_as_text_and_runs_nothing(console, request):
    message = "<img src=x onerror=alert(1)>"
    incident = console.alert(message, service="frontend-api", severity="low")
    found = console.browse(request, "xss_inert", "responder", incident_id=incident, message=message)
    assert found["dialogs"] == []
    assert found["injected_images"] == 0
    assert found["page_errors"] == []


def test_a_viewer_is_offered_no_action(console, request, incident_id, quiet):
    found = console.browse(request, "viewer_sees_no_actions", "viewer", incident_id=incident_id)
    assert found["buttons"] == dict.fromkeys(found["buttons"], 0)
    assert found["checkboxes"] == 0
    assert found["cover_buttons"] == 0


def test_a_window_holds_an_alert_back_and_the_console_shows_it_and_the_heartbeats(
    console, request, incident_id
):
    edge, tag = console.platform.edge, uuid.uuid4().hex[:6]
    reason = f"Checkout database upgrade {tag}"
    ends = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    body = {"reason": reason, "matchers": ["service=checkout-api"], "ends_at": ends.isoformat()}
    made = console.api.post(f"{edge}/api/v1/maintenance_windows", json=body, timeout=30)
    made.raise_for_status()
    window = made.json()
    try:
        monitor = {"name": f"nightly-backup-{tag}", "service": f"backup-{tag}", "interval_seconds": 600}
        console.api.post(f"{edge}/api/v1/heartbeats", json=monitor, timeout=30).raise_for_status()
        # critical: no incident of checkout-api at that severity is open to take the alert
        message = f"Checkout 502s during the upgrade {tag}"
        alert = {"service": "checkout-api", "severity": "critical", "message": message}
        answer = requests.post(f"{edge}/api/v1/alerts", json=alert, timeout=30)
        answer.raise_for_status()
        assert answer.json()["action"] == "suppressed", answer.json()
        found = console.browse(
            request, "maintenance_and_heartbeats", "responder", window_id=window["id"], reason=reason,
            author=window["author"], message=message, monitor=monitor["name"], service=monitor["service"],
        )  # fmt: skip
        after = console.api.get(f"{edge}/api/v1/maintenance_windows/{window['id']}", timeout=10).json()
        extended = dt.datetime.fromisoformat(after["ends_at"]) - dt.datetime.fromisoformat(window["ends_at"])
        assert abs(extended - dt.timedelta(hours=1)) < dt.timedelta(seconds=1)  # the browser keeps ms
        assert found["ends_after"] != found["ends_before"]
        assert after["history"][-1]["actor"] == console.users["responder"][0]
    finally:
        console.api.patch(
            f"{edge}/api/v1/maintenance_windows/{window['id']}", json={"end_now": True}, timeout=30
        ).raise_for_status()


def test_an_admin_adds_a_heartbeat_monitor_whose_key_beats_and_then_deletes_it(console, request):
    edge, tag = console.platform.edge, uuid.uuid4().hex[:6]
    monitor, service = f"nightly-backup-{tag}", f"backup-{tag}"
    found = console.browse(request, "heartbeat_created", "admin", monitor=monitor, service=service)
    assert "letters, digits" in found["name_error"]
    listed = console.api.get(f"{edge}/api/v1/heartbeats", timeout=10).json()["items"]
    made = next(m for m in listed if m["name"] == monitor)
    assert (made["service"], made["severity"]) == (service, "high")
    assert (made["interval_seconds"], made["grace_seconds"]) == (86400, 3600)
    key, beat_url = found["key"], f"{edge}/api/v1/heartbeats/{made['id']}/beat"
    assert key.startswith("klx_") and "key" not in made  # shown once, never listed
    assert all(key in snippet and beat_url in snippet for snippet in found["snippets"]), found["snippets"]
    beat = requests.post(beat_url, headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert beat.status_code == 200, beat.text
    after = console.api.get(f"{edge}/api/v1/heartbeats/{made['id']}", timeout=10).json()
    assert after["last_beat_at"] is not None
    console.browse(request, "heartbeat_deleted", "admin", monitor=monitor, service=service)
    assert console.api.get(f"{edge}/api/v1/heartbeats/{made['id']}", timeout=10).status_code == 404


def test_an_acknowledge_link_opened_in_a_browser_acknowledges_only_at_the_button(console, request):
    title = '<img src=x onerror="document.title=1">disk <b>full</b>'
    incident_id = console.alert(title, service="ack-link-api", severity="high")
    recipient = console.users["responder"][0]
    secret_key = (Path(console.platform.env["KLAXON_DATA_DIR"]) / "secret-key").read_text().strip()
    link = AckLinks(secret_key, console.platform.edge).url(incident_id, recipient, dt.datetime.now(dt.UTC))
    found = console.browse(
        request,
        "ack_link_page",
        "admin",
        link=link,
        incident_id=incident_id,
        title=title,
        recipient=recipient,
    )
    assert found["status_shown"] == "Status: open", "opening the link acknowledged nothing"
    assert found["injected_images"] == 0 and found["csp_violations"] == [] and found["page_errors"] == []
    incident = console.api.get(f"{console.platform.edge}/api/v1/incidents/{incident_id}", timeout=10).json()
    assert incident["status"] == "acknowledged"
    assert [e["actor"] for e in incident["timeline"] if e["kind"] == "acknowledged"] == [recipient]


def test_saving_a_schedule_in_the_console_keeps_its_members_zones_and_contact_methods(console, request):
    edge, tag = console.platform.edge, uuid.uuid4().hex[:6]
    email, team = f"kept-{tag}@example.com", f"kept-{tag}"
    member = {"name": "Kept", "email": email}
    made = console.api.post(
        f"{edge}/api/v1/schedules",
        json={"team": team, "rotation_type": "weekly", "members": [member]},
        timeout=30,
    )
    made.raise_for_status()
    slack = {"type": "slack", "address": f"https://hooks.slack.example/T0/B0/{tag}", "delay_minutes": 0}
    profile = {"time_zone": "Asia/Tokyo", "contact_methods": [slack]}
    console.api.patch(f"{edge}/api/v1/people/{email}", json=profile, timeout=30).raise_for_status()
    console.browse(request, "schedule_saved", "admin", team=team)
    kept = console.api.get(f"{edge}/api/v1/people/{email}", timeout=30).json()
    assert (kept["time_zone"], kept["contact_methods"]) == ("Asia/Tokyo", [slack])


def test_axe_finds_no_serious_or_critical_violation_on_any_page(console, request, incident_id, quiet):
    found = console.browse(request, "accessibility", "admin", incident_id=incident_id, team=TEAM)
    assert found["violations"] == {}


def test_usable_at_390_px_without_horizontal_scrolling(console, request, incident_id, quiet):
    found = console.browse(request, "narrow_screen", "responder", incident_id=incident_id)
    assert all(width <= 390 for width in found["scroll_widths"].values()), found["scroll_widths"]


def test_strict_csp_on_the_shell_and_assets_and_no_violation(console, request, incident_id, quiet):
    edge = console.platform.edge
    for path in ("/", "/incidents/1", "/login", "/maintenance", "/heartbeats"):
        answer = requests.get(f"{edge}{path}", timeout=10)
        assert answer.status_code == 200 and "Klaxon" in answer.text
        assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in answer.headers["Content-Security-Policy"]
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "same-origin"
        assert answer.headers["Cache-Control"] == "no-cache"
        assert "<script>" not in answer.text and "style=" not in answer.text
    found = console.browse(request, "csp_clean", "admin", incident_id=incident_id, team=TEAM)
    assert found["csp_violations"] == []
    assert found["page_errors"] == []


def asset_base(edge):
    return re.search(
        r'src="(/console/v/[0-9a-f]+)/app\.js"', requests.get(f"{edge}/", timeout=10).text
    ).group(1)


def test_assets_are_cached_with_an_etag_and_under_300_kb_gzipped(console):
    edge = console.platform.edge
    base = asset_base(edge)
    total = 0
    for path in sorted(p for p in CONSOLE.rglob("*") if p.is_file() and p.name != "index.html"):
        url = f"{edge}{base}/{path.relative_to(CONSOLE).as_posix()}"
        answer = requests.get(url, headers={"Accept-Encoding": "gzip"}, stream=True, timeout=10)
        assert answer.status_code == 200, url
        body = answer.raw.read(decode_content=False)
        assert answer.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(body) == path.read_bytes()
        assert "immutable" in answer.headers["Cache-Control"]
        again = requests.get(url, headers={"If-None-Match": answer.headers["ETag"]}, timeout=10)
        assert again.status_code == 304
        total += len(body)
    assert total < 300 * 1024, f"{total} bytes gzipped"
    assert requests.get(f"{edge}/console/../edge/app.py", timeout=10).status_code == 404
    assert requests.get(f"{edge}/api/v1/incidents", timeout=10).status_code == 401
