"""All four services in one Nameko runner on a real RabbitMQ vhost, on both databases:
an alert becomes an incident, is routed to the on-call primary, paged, acknowledged,
escalated and resolved, with every step in the timeline and the metrics."""

import json

import falcon.testing
import pytest
from nameko.standalone.rpc import ServiceRpcProxy
from prometheus_client import REGISTRY

from edge.app import EdgeSettings, create_app
from edge.replies import ReplyListener
from edge.rpc import RpcPool
from klaxon.registry import service_class
from services.oncall.access_requests import NewUser, TokenRequest
from services.oncall.accounts_store import AccountStore
from services.oncall.models import db as oncall_db
from services.shared.db import utcnow
from tests.conftest import eventually

SCHEDULE = {
    "team": "platform-engineering",
    "rotation_type": "weekly",
    "members": [
        {"name": "Alice", "email": "alice@example.com", "role": "primary"},
        {"name": "Bob", "email": "bob@example.com", "role": "primary"},
        {"name": "Carol", "email": "carol@example.com", "role": "secondary"},
    ],
    "services": ["frontend-api"],
}
ALERT = {"service": "frontend-api", "severity": "high", "message": "HTTP 5xx error rate > 10%"}


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def platform(service_config, runner_factory):
    # service_config first: fixtures tear down in reverse, so the runner stops before
    # the test's database and vhost are dropped under it.
    runner = runner_factory(
        service_config, *(service_class(n) for n in ("alerts", "incidents", "oncall", "notifications"))
    )
    runner.start()
    return service_config


def admin_token():
    """An admin's API token, made in the on-call service's database the runner has bound."""
    with oncall_db.connection_context():
        store = AccountStore(oncall_db, {})
        store.create_user(NewUser(email="root@example.com", role="admin"), "tests", "", utcnow())
        return store.create_token("root@example.com", TokenRequest(name="tests"), "", utcnow())["token"]


@pytest.fixture
def edge(platform):
    pool = RpcPool(platform["AMQP_URI"], timeout=10)
    replies = ReplyListener(platform["AMQP_URI"])
    settings = EdgeSettings(amqp_uri=platform["AMQP_URI"], keyless_ingest=True)
    headers = {"Authorization": f"Bearer {admin_token()}"}
    yield falcon.testing.TestClient(create_app(settings, pool, replies=replies), headers=headers)
    replies.close()
    pool.close()


def post(client, path, body):
    return client.simulate_post(path, body=json.dumps(body), headers={"Content-Type": "application/json"})


def patch(client, path, body):
    return client.simulate_patch(path, body=json.dumps(body), headers={"Content-Type": "application/json"})


def timeline_kinds(client, incident_id):
    return [
        entry["kind"] for entry in client.simulate_get(f"/api/v1/incidents/{incident_id}").json["timeline"]
    ]


def test_alert_to_resolution_through_the_edge(edge):
    assert post(edge, "/api/v1/schedules", SCHEDULE).status_code == 201
    correlated_before = sample(
        "alerts_correlated_total", result="existing_incident", service="frontend-api", severity="high"
    )

    first = post(edge, "/api/v1/alerts", ALERT)
    second = post(edge, "/api/v1/alerts", ALERT)
    assert first.status_code == second.status_code == 201
    assert first.json["action"] == "new_incident"
    assert second.json["action"] == "attached_to_existing_incident"
    incident_id = first.json["incident_id"]
    assert second.json["incident_id"] == incident_id
    assert (
        sample("alerts_correlated_total", result="existing_incident", service="frontend-api", severity="high")
        == correlated_before + 1
    )

    current = edge.simulate_get("/api/v1/oncall/current", params={"team": "platform-engineering"}).json
    # The routing reaches the incidents service as an event (incident_routed) ahead of the page.
    eventually(lambda: {"assigned", "notified"} <= set(timeline_kinds(edge, incident_id)))
    kinds = timeline_kinds(edge, incident_id)
    assert kinds.index("assigned") < kinds.index("notified"), "routed first, then paged"
    incident = edge.simulate_get(f"/api/v1/incidents/{incident_id}").json
    assert incident["team"] == "platform-engineering"
    assert incident["assignee"] == current["primary"]["name"]
    assert {a["alert_id"] for a in incident["alerts"]} == {first.json["alert_id"], second.json["alert_id"]}
    pages = edge.simulate_get("/api/v1/notifications", params={"incident_id": incident_id}).json["items"]
    assert [(p["recipient"], p["channel"], p["status"]) for p in pages] == [
        (current["primary"]["email"], "log", "sent")
    ]

    escalated = post(edge, "/api/v1/escalate", {"incident_id": incident_id})
    assert escalated.status_code == 200 and escalated.json["targets"][0]["name"] == "Carol"
    eventually(lambda: "escalated" in timeline_kinds(edge, incident_id))

    acked = patch(edge, f"/api/v1/incidents/{incident_id}", {"status": "acknowledged"})
    assert acked.status_code == 200 and acked.json["mtta_seconds"] >= 0
    illegal = patch(edge, f"/api/v1/incidents/{incident_id}", {"status": "open"})
    assert illegal.status_code == 409
    resolved = patch(edge, f"/api/v1/incidents/{incident_id}", {"status": "resolved", "note": "rolled back"})
    assert resolved.status_code == 200
    metrics = edge.simulate_get(f"/api/v1/incidents/{incident_id}/metrics").json
    assert metrics["mtta_seconds"] is not None and metrics["mttr_seconds"] >= metrics["mtta_seconds"]
    assert resolved.json["notes"][0]["note"] == "rolled back"
    kinds = timeline_kinds(edge, incident_id)
    for kind in (
        "created",
        "assigned",
        "alert_attached",
        "notified",
        "escalated",
        "acknowledged",
        "note",
        "resolved",
    ):
        assert kind in kinds


def test_unknown_ids_are_404_through_real_rpc(edge):
    assert edge.simulate_get("/api/v1/incidents/424242").status_code == 404
    assert edge.simulate_get("/api/v1/alerts/no-such-alert").status_code == 404
    assert edge.simulate_get("/api/v1/oncall/current", params={"team": "nobody"}).status_code == 404


def test_an_unrouted_service_says_so_in_the_timeline(platform):
    with ServiceRpcProxy("alerts", platform) as alerts, ServiceRpcProxy("incidents", platform) as incidents:
        answer = alerts.ingest({**ALERT, "service": "mystery-service"})
        eventually(
            lambda: (
                "unrouted" in [e["kind"] for e in incidents.get_incident(answer["incident_id"])["timeline"]]
            )
        )
        assert incidents.get_incident(answer["incident_id"])["assignee"] is None


def test_a_repeated_page_request_is_delivered_once(platform):
    # A notification asked for by hand is one per request id: the same id again is the same one.
    request = {
        "incident_id": 1,
        "step": 0,
        "recipient": "alice@example.com",
        "channel": "log",
        "message": "m",
        "request_id": "retried-by-its-sender",
    }
    with ServiceRpcProxy("notifications", platform) as notifications:
        first = notifications.notify(request)
        again = notifications.notify(request)
        assert first["id"] == again["id"]
        assert notifications.list_notifications({"recipient": "alice@example.com"})["items"] == [again]


def test_dedup_key_while_firing_is_a_duplicate_and_resolve_closes_the_alert(edge):
    keyed = {**ALERT, "service": "dedup-api", "dedup_key": "dedup-api/5xx"}
    first = post(edge, "/api/v1/alerts", keyed).json
    again = post(edge, "/api/v1/alerts", keyed).json
    assert again["action"] == "deduplicated" and again["status"] == "deduplicated"
    assert again["incident_id"] == first["incident_id"]
    original = edge.simulate_get(f"/api/v1/alerts/{first['alert_id']}").json
    assert original["duplicate_count"] == 1 and original["status"] == "firing"
    incident = edge.simulate_get(f"/api/v1/incidents/{first['incident_id']}").json
    assert incident["alert_count"] == 1

    resolved = post(edge, "/api/v1/alerts", {**keyed, "status": "resolved"}).json
    assert resolved["action"] == "resolved" and resolved["resolved_alert_id"] == first["alert_id"]
    assert edge.simulate_get(f"/api/v1/alerts/{first['alert_id']}").json["status"] == "resolved"
    # One synchronous call told the incidents service before the answer came back.
    incident = edge.simulate_get(f"/api/v1/incidents/{first['incident_id']}").json
    assert incident["status"] == "resolved", "its only alert resolved, so the incident did"
    kinds = [entry["kind"] for entry in incident["timeline"]]
    assert kinds.count("alert_resolved") == 1 and kinds.count("resolved") == 1
    assert incident["notes"][0]["actor"] == "klaxon-alerts"

    refiring = post(edge, "/api/v1/alerts", keyed).json
    assert refiring["action"] == "new_incident"


def test_a_redelivered_alert_changes_nothing(platform):
    alert = {**ALERT, "service": "redelivered-api", "alert_id": "fixed-id-1"}
    with ServiceRpcProxy("alerts", platform) as alerts, ServiceRpcProxy("incidents", platform) as incidents:
        first = alerts.ingest(alert)
        again = alerts.ingest(alert)
        assert again == first
        assert incidents.get_incident(first["incident_id"])["alert_count"] == 1
        listed = alerts.list_alerts({"service": "redelivered-api"})
        assert [a["alert_id"] for a in listed["items"]] == ["fixed-id-1"]


def test_resolving_an_unknown_key_is_recorded_without_an_incident(edge):
    answer = post(edge, "/api/v1/alerts", {**ALERT, "dedup_key": "never-fired", "status": "resolved"})
    assert answer.status_code == 201
    assert answer.json["action"] == "resolved" and answer.json["incident_id"] is None
