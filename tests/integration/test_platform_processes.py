"""The platform as a user runs it: `klaxon run` starts five processes; the flow is walked
over HTTP, on SQLite (the default) and on PostgreSQL, in a RabbitMQ vhost of its own."""

import json
import os
import signal
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import eventually
from tests.platform import running_platform

pytestmark = pytest.mark.integration
EXAMPLE = Path(__file__).resolve().parents[1] / "payloads" / "generic-alert.json"
ALERT = (
    json.loads(EXAMPLE.read_text())
    if EXAMPLE.exists()
    else {"service": "frontend-api", "severity": "high", "message": "HTTP 5xx error rate > 10%"}
)


@pytest.fixture(params=["sqlite", "postgresql"])
def platform(request, tmp_path):
    with running_platform(tmp_path, request.param) as running:
        yield running.urls, running.process, running


def healthy(urls):
    def check():
        try:
            return all(requests.get(f"{url}/health", timeout=2).status_code == 200 for url in urls.values())
        except requests.RequestException:
            return False

    return check


def test_klaxon_run_walks_the_whole_flow(platform):
    urls, process, running = platform
    started = time.monotonic()
    eventually(healthy(urls), timeout=60)
    assert time.monotonic() - started < 60
    api = running.api

    edge = urls["edge"]
    first = api.post(f"{edge}/api/v1/alerts", json=ALERT, timeout=10)
    second = api.post(f"{edge}/api/v1/alerts", json=ALERT, timeout=10)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["action"] == "new_incident"
    assert second.json()["action"] == "attached_to_existing_incident"
    incident_id = first.json()["incident_id"]
    assert second.json()["incident_id"] == incident_id

    def notified():
        incident = api.get(f"{edge}/api/v1/incidents/{incident_id}", timeout=10).json()
        return incident if "notified" in [e["kind"] for e in incident["timeline"]] else None

    incident = eventually(notified, timeout=20)
    current = api.get(f"{edge}/api/v1/oncall/current", params={"team": "platform-engineering"}, timeout=10)
    assert incident["assignee"] == current.json()["primary"]["name"]

    for status in ("acknowledged", "resolved"):
        changed = api.patch(f"{edge}/api/v1/incidents/{incident_id}", json={"status": status}, timeout=10)
        assert changed.status_code == 200, changed.text
    metrics = api.get(f"{edge}/api/v1/incidents/{incident_id}/metrics", timeout=10).json()
    assert metrics["mtta_seconds"] is not None and metrics["mttr_seconds"] is not None

    scraped = api.get(f"{urls['alerts']}/metrics", timeout=10).text
    assert (
        'alerts_correlated_total{result="existing_incident",service="frontend-api",severity="high"} 1.0'
        in scraped
    )
    incidents_scrape = api.get(f"{urls['incidents']}/metrics", timeout=10).text
    assert (
        'incidents_total{service="frontend-api",severity="high",status="resolved",'
        'team="platform-engineering"} 1.0' in incidents_scrape
    )
    edge_scrape = api.get(f"{edge}/metrics", timeout=10).text
    assert 'route="/api/v1/alerts"' in edge_scrape

    walk_the_services_own_ports(urls, api)

    os.killpg(process.pid, signal.SIGTERM)
    assert process.wait(timeout=20) == 0


def walk_the_services_own_ports(urls, api):
    """Each service's port answers its part of the API, with the same errors (SPEC §7)."""
    alert = {**ALERT, "service": "direct-api"}
    opened = api.post(f"{urls['alerts']}/api/v1/alerts", json=alert, timeout=10)
    assert opened.status_code == 201 and opened.json()["action"] == "new_incident"
    incident_id = opened.json()["incident_id"]
    incident = api.get(f"{urls['incidents']}/api/v1/incidents/{incident_id}", timeout=10).json()
    assert [a["alert_id"] for a in incident["alerts"]] == [opened.json()["alert_id"]]
    acked = api.patch(
        f"{urls['incidents']}/api/v1/incidents/{incident_id}", json={"status": "acknowledged"}, timeout=10
    )
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    again = api.patch(
        f"{urls['incidents']}/api/v1/incidents/{incident_id}", json={"status": "acknowledged"}, timeout=10
    )
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    current = api.get(f"{urls['oncall']}/api/v1/oncall/current?team=platform-engineering", timeout=10)
    assert current.status_code == 200 and current.json()["primary"]["email"].endswith("@example.com")
    sent = api.post(
        f"{urls['notifications']}/api/v1/notify",
        json={"recipient": "ops@example.com", "message": "direct"},
        timeout=10,
    )
    assert sent.status_code == 201 and sent.json()["status"] == "sent"

    bad = api.post(
        f"{urls['alerts']}/api/v1/alerts",
        data="{oops",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert bad.status_code == 400 and bad.json()["title"] == "Malformed JSON"
    wrong_type = api.post(f"{urls['alerts']}/api/v1/alerts", data="x", timeout=10)
    assert wrong_type.status_code == 415
    invalid = api.post(f"{urls['alerts']}/api/v1/alerts", json={**alert, "severity": "nope"}, timeout=10)
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["field"] == "severity"
    missing = api.get(f"{urls['incidents']}/api/v1/incidents/999999", timeout=10)
    assert missing.status_code == 404 and missing.json()["status"] == 404
    no_team = api.get(f"{urls['oncall']}/api/v1/oncall/current", timeout=10)
    assert no_team.status_code == 422
