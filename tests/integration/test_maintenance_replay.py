"""A maintenance window on two alerts replicas (RabbitMQ, PostgreSQL): what it holds back
opens nothing and pages no one while it lasts; when it ends, the alerts still firing are
replayed once, into one incident, and the one resolved meanwhile stays out of it. Time
moves through KLAXON_CLOCK_OFFSET_FILE, never by sleeping."""

import contextlib
import datetime as dt
import uuid

import pytest
import requests

from tests.conftest import eventually
from tests.platform import FIRST_ADMIN, platform_processes

pytestmark = pytest.mark.integration
SERVICES = ("alerts", "incidents", "oncall", "notifications", "edge")
HELD = "checkout-api"  # demo data: platform-engineering's, so an incident of it pages someone
OTHER = "payments-db"  # demo data: the data team's; no window matches it


@contextlib.contextmanager
def two_alerts_replicas(tmp_path):
    """Every service once, the alerts service twice, ticking every 0.2 s on a movable clock;
    `.offset` is the clock's file and `.move(seconds)` moves it forward."""
    offset = tmp_path / "clock-offset"
    offset.write_text("0")
    extra = {
        "KLAXON_CLOCK_OFFSET_FILE": str(offset),
        "KLAXON_MAINTENANCE_TICK_SECONDS": "0.2",
        "KLAXON_ESCALATION_TICK_SECONDS": "0.2",
    }
    with platform_processes(tmp_path, "postgresql", extra_env=extra) as processes:
        for name in SERVICES:
            processes.start(name)
        processes.start("alerts", replica=2)
        processes.wait_healthy()
        processes.offset = offset

        def move(seconds):
            offset.write_text(str(float(offset.read_text()) + seconds))

        processes.move = move
        yield processes


def platform_now(cluster):
    """The platform's clock: the real time plus the offset file's seconds."""
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=float(cluster.offset.read_text()))


def call(cluster, method, path, expected=200, **kwargs):
    answer = cluster.api.request(method, f"{cluster.url('edge')}{path}", timeout=30, **kwargs)
    assert answer.status_code == expected, f"{method} {path}: {answer.status_code} {answer.text}"
    return answer.json() if answer.content else None


def incidents_of(cluster, service, **filters):
    return call(cluster, "GET", "/api/v1/incidents", params={"service": service, "limit": 500, **filters})[
        "items"
    ]


def notifications(cluster):
    return call(cluster, "GET", "/api/v1/notifications", params={"limit": 500})["items"]


def post_alert(cluster, alert):
    """An alert posted keyless to the edge, answered once correlated (201)."""
    answer = requests.post(f"{cluster.url('edge')}/api/v1/alerts", json=alert, timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()


def series_sum(url, metric, service):
    """The sum of `metric`'s series for `service` on the process at `url`."""
    lines = requests.get(f"{url}/metrics", timeout=10).text.splitlines()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in lines
        if line.startswith(metric + "{") and f'service="{service}"' in line
    )


def last_tick(url):
    """The platform time the replica at `url` began its last completed maintenance tick."""
    lines = requests.get(f"{url}/metrics", timeout=10).text.splitlines()
    [value] = [
        line.split()[1] for line in lines if line.startswith("alerts_maintenance_tick_timestamp_seconds ")
    ]
    return float(value)


def ticks_in_both_replicas(cluster, rounds=3):
    """Waits until each alerts replica has run `rounds` whole maintenance ticks, each begun
    on the clock as it is now (each replica's own gauge says when its last tick began)."""
    for _ in range(rounds):
        mark = platform_now(cluster).timestamp()

        def both_ticked(mark=mark):
            """both replicas completed a tick begun after the mark"""
            return all(last_tick(cluster.url("alerts", r)) >= mark for r in (1, 2))

        eventually(both_ticked, timeout=30)


@pytest.fixture
def cluster(tmp_path):
    with two_alerts_replicas(tmp_path) as processes:
        yield processes


def test_held_alerts_open_nothing_then_the_still_firing_ones_are_replayed_once_into_one_incident(
    cluster,
):
    run = uuid.uuid4().hex[:8]
    ends_at = platform_now(cluster) + dt.timedelta(minutes=10)
    window = call(
        cluster,
        "POST",
        "/api/v1/maintenance_windows",
        201,
        json={
            "reason": f"checkout deploy {run}",
            "matchers": [f"service={HELD}"],
            "ends_at": ends_at.isoformat(),
        },
    )
    assert window["state"] == "active"
    assert dt.datetime.fromisoformat(window["next_ends_at"]) == ends_at

    # During the window: five firing alerts for the held service, each with its own key.
    held = []
    for n in range(5):
        alert = {
            "service": HELD,
            "severity": "high",
            "message": f"checkout error rate {n}",
            "dedup_key": f"{run}-checkout-{n}",
        }
        answer = post_alert(cluster, alert)
        assert answer["action"] == "suppressed" and answer["status"] == "suppressed", answer
        assert answer["incident_id"] is None and answer["suppressed_by"] == window["id"], answer
        held.append(answer["alert_id"])
    # One of them resolves before the window ends.
    resolve = {
        "service": HELD,
        "severity": "high",
        "message": "checkout error rate 0 is back to normal",
        "dedup_key": f"{run}-checkout-0",
        "status": "resolved",
    }
    resolved_answer = post_alert(cluster, resolve)
    assert resolved_answer["incident_id"] is None, resolved_answer
    resolved, firing = held[0], held[1:]

    # A service no window matches opens its incident as usual, window or not.
    other = post_alert(
        cluster, {"service": OTHER, "severity": "critical", "message": "replication lag", "dedup_key": run}
    )
    assert other["action"] == "new_incident" and other["incident_id"] is not None, other
    [other_incident] = incidents_of(cluster, OTHER)
    assert other_incident["id"] == other["incident_id"]

    stored = {
        a["alert_id"]: a for a in call(cluster, "GET", "/api/v1/alerts", params={"service": HELD})["items"]
    }
    for alert_id in held:
        assert stored[alert_id]["suppressed_by"] == window["id"], stored[alert_id]
        assert stored[alert_id]["incident_id"] is None
    assert dt.datetime.fromisoformat(stored[firing[0]]["suppressed_until"]) == ends_at
    assert stored[resolved]["status"] == "resolved"
    listed = call(cluster, "GET", "/api/v1/alerts", params={"action": "suppressed", "service": HELD})["items"]
    assert {a["alert_id"] for a in listed} == set(held)

    # Still inside the window (the clock moved 8 minutes, both replicas ticking):
    # nothing opened, nobody paged for the held service.
    cluster.move(8 * 60)
    ticks_in_both_replicas(cluster)
    assert platform_now(cluster) < ends_at
    assert incidents_of(cluster, HELD) == []
    assert all(call(cluster, "GET", f"/api/v1/alerts/{a}")["incident_id"] is None for a in held)
    sent = notifications(cluster)
    paged_incidents = {n["incident_id"] for n in sent if n["incident_id"] is not None}
    assert paged_incidents <= {other_incident["id"]}, "no page but the other service's"
    # The one message of no incident: the window's author hears that it ends within 15 minutes.
    notices = [n for n in sent if n["incident_id"] is None]
    assert [n["recipient"] for n in notices] == [FIRST_ADMIN], notices
    assert call(cluster, "GET", f"/api/v1/maintenance_windows/{window['id']}")["state"] == "active"

    # The window ends: the clock moves past its end.
    cluster.move((ends_at - platform_now(cluster)).total_seconds() + 30)
    assert platform_now(cluster) > ends_at

    def replayed():
        """every alert still firing is linked to an incident"""
        alerts = [call(cluster, "GET", f"/api/v1/alerts/{a}") for a in firing]
        return alerts if all(a["incident_id"] is not None for a in alerts) else None

    alerts = eventually(replayed, timeout=30)
    [incident_id] = {a["incident_id"] for a in alerts}
    [incident] = incidents_of(cluster, HELD)
    assert incident["id"] == incident_id
    assert incident["alert_count"] == len(firing), incident
    assert call(cluster, "GET", f"/api/v1/alerts/{resolved}")["incident_id"] is None
    assert call(cluster, "GET", f"/api/v1/maintenance_windows/{window['id']}")["state"] == "ended"

    # Several more ticks of both replicas: nothing more is opened, no alert moves.
    ticks_in_both_replicas(cluster)
    assert [i["id"] for i in incidents_of(cluster, HELD)] == [incident_id]
    assert [call(cluster, "GET", f"/api/v1/alerts/{a}")["incident_id"] for a in firing] == [incident_id] * 4
    assert call(cluster, "GET", f"/api/v1/alerts/{resolved}")["incident_id"] is None
    # Replayed once across both replicas: each replay correlates (and counts) its alerts.
    correlated = [series_sum(cluster.url("alerts", r), "alerts_correlated_total", HELD) for r in (1, 2)]
    assert sum(correlated) == len(firing), f"each still-firing alert replayed once: {correlated}"
    suppressed = [series_sum(cluster.url("alerts", r), "alerts_suppressed_total", HELD) for r in (1, 2)]
    assert sum(suppressed) == len(held), suppressed
    detail = call(cluster, "GET", f"/api/v1/incidents/{incident_id}")
    assert sorted(a["alert_id"] for a in detail["alerts"]) == sorted(firing)

    def paged():
        """the replayed incident pages its team"""
        return [n for n in notifications(cluster) if n["incident_id"] == incident_id]

    eventually(paged, timeout=30)
