"""A heartbeat monitor on two alerts replicas (RabbitMQ, PostgreSQL): its silence opens
one incident, however many ticks of either replica see it; the next beat resolves it.
Time moves through KLAXON_CLOCK_OFFSET_FILE, never by sleeping."""

import uuid

import pytest
import requests

from tests.conftest import eventually
from tests.integration.test_maintenance_replay import (
    call,
    incidents_of,
    series_sum,
    ticks_in_both_replicas,
    two_alerts_replicas,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def cluster(tmp_path):
    with two_alerts_replicas(tmp_path) as processes:
        yield processes


def beat(cluster, monitor, body=None):
    answer = requests.post(
        f"{cluster.url('edge')}/api/v1/heartbeats/{monitor['id']}/beat",
        json=body or {},
        headers={"Authorization": f"Bearer {monitor['key']}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def heartbeat_up(url, monitor):
    """`heartbeat_up{monitor=..., service=...}` as the process at `url` exposes it, or None."""
    labels = f'monitor="{monitor["name"]}",service="{monitor["service"]}"'
    for line in requests.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith("heartbeat_up{") and labels in line:
            return float(line.rsplit(" ", 1)[1])
    return None


def test_a_silent_monitor_opens_one_incident_and_its_next_beat_resolves_it(cluster):
    run = uuid.uuid4().hex[:8]
    service = f"nightly-backup-{run}"
    body = {
        "name": f"backup-{run}",
        "service": service,
        "interval_seconds": 60,
        "grace_seconds": 30,
        "severity": "high",
    }
    monitor = call(cluster, "POST", "/api/v1/heartbeats", 201, json=body)
    assert monitor["key"] and monitor["state"] == "up"
    assert all("key" not in m for m in call(cluster, "GET", "/api/v1/heartbeats")["items"]), "shown once"

    wrong = requests.post(
        f"{cluster.url('edge')}/api/v1/heartbeats/{monitor['id']}/beat",
        headers={"Authorization": "Bearer not-its-key"},
        timeout=30,
    )
    assert wrong.status_code == 401, wrong.text
    first = beat(cluster, monitor)
    assert first["state"] == "up" and first["last_beat_at"] is not None
    assert [heartbeat_up(cluster.url("alerts", r), monitor) for r in (1, 2)] == [1.0, 1.0]

    cluster.move(91)  # interval + grace (90 s) have passed since the beat

    def opened():
        """the silence opened an incident for the monitor's service"""
        return incidents_of(cluster, service, status="open")

    [incident] = eventually(opened, timeout=30)
    assert incident["severity"] == "high"
    detail = call(cluster, "GET", f"/api/v1/incidents/{incident['id']}")
    [alert] = detail["alerts"]
    assert alert["source"] == "heartbeat" and alert["status"] == "firing"
    assert alert["dedup_key"] == f"heartbeat:{monitor['id']}"
    down = call(cluster, "GET", f"/api/v1/heartbeats/{monitor['id']}")
    assert down["state"] == "down" and down["down_alert_id"] == alert["alert_id"]
    assert [heartbeat_up(cluster.url("alerts", r), monitor) for r in (1, 2)] == [0.0, 0.0]

    # Both replicas keep ticking, the clock well past the expiry: still one incident, one alert.
    ticks_in_both_replicas(cluster)
    assert [i["id"] for i in incidents_of(cluster, service)] == [incident["id"]]
    alerts = call(cluster, "GET", "/api/v1/alerts", params={"service": service})["items"]
    assert [a["alert_id"] for a in alerts] == [alert["alert_id"]]
    received = [series_sum(cluster.url("alerts", r), "alerts_received_total", service) for r in (1, 2)]
    assert sum(received) == 1, f"the silence was raised once: {received}"

    # The next beat (any body: here an Alertmanager webhook's) resolves it.
    again = beat(cluster, monitor, {"version": "4", "status": "firing", "alerts": []})
    assert again["state"] == "up"
    assert again["last_beat_at"] > first["last_beat_at"]

    def resolved():
        """the incident of the silence resolved"""
        found = call(cluster, "GET", f"/api/v1/incidents/{incident['id']}")
        return found if found["status"] == "resolved" else None

    eventually(resolved, timeout=30)
    assert [i["id"] for i in incidents_of(cluster, service)] == [incident["id"]]
    assert call(cluster, "GET", f"/api/v1/alerts/{alert['alert_id']}")["status"] == "resolved"
    assert [heartbeat_up(cluster.url("alerts", r), monitor) for r in (1, 2)] == [1.0, 1.0]
