"""Maintenance windows and heartbeat monitors through the edge's API, with all four services
in one Nameko runner on a real RabbitMQ vhost, on both databases, and a clock the test moves
(the services' KLAXON_CLOCK_OFFSET_FILE)."""

import datetime as dt
import json

import falcon.testing
import pytest

from edge.app import EdgeSettings, create_app
from edge.replies import ReplyListener
from edge.rpc import RpcPool
from klaxon.registry import service_class
from tests.conftest import eventually
from tests.services.test_platform_flow import admin_token

TICK = 0.2


class MovableClock:
    def __init__(self, path):
        self.path, self.offset = path, 0.0
        path.write_text("0")

    def forward(self, seconds):
        self.offset += seconds
        self.path.write_text(str(self.offset))

    def now(self):
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.offset)


@pytest.fixture
def clock(tmp_path):
    return MovableClock(tmp_path / "clock-offset")


@pytest.fixture
def api(service_config, runner_factory, clock):
    config = {**service_config, "CLOCK_OFFSET_FILE": str(clock.path), "MAINTENANCE_TICK_SECONDS": TICK}
    names = ("alerts", "incidents", "oncall", "notifications")
    runner_factory(config, *(service_class(name) for name in names)).start()
    pool = RpcPool(config["AMQP_URI"], timeout=10)
    replies = ReplyListener(config["AMQP_URI"])
    settings = EdgeSettings(amqp_uri=config["AMQP_URI"], keyless_ingest=True)
    headers = {"Authorization": f"Bearer {admin_token()}", "Content-Type": "application/json"}
    yield falcon.testing.TestClient(create_app(settings, pool, replies=replies), headers=headers)
    replies.close()
    pool.close()


def send(api, method, path, body=None, **headers):
    return api.simulate_request(
        method, path, body=json.dumps(body) if body is not None else None, headers=headers
    )


def alert(api, service, **fields):
    answer = send(
        api, "POST", "/api/v1/alerts", {"service": service, "severity": "high", "message": "down", **fields}
    )
    assert answer.status_code == 201, answer.text
    return answer.json


def incidents_of(api, service):
    return api.simulate_get("/api/v1/incidents", params={"service": service}).json["items"]


def audit_actions(api):
    return [entry["action"] for entry in api.simulate_get("/api/v1/audit").json["items"]]


def test_a_window_holds_back_then_replays_and_every_change_is_audited(api, clock):
    ends = (clock.now() + dt.timedelta(minutes=30)).isoformat()
    created = send(
        api,
        "POST",
        "/api/v1/maintenance_windows",
        {"reason": "db upgrade", "matchers": ["service=db"], "ends_at": ends},
    )
    assert created.status_code == 201, created.text
    window = created.json
    assert (window["state"], window["author"]) == ("active", "root@example.com")
    assert [w["id"] for w in api.simulate_get("/api/v1/maintenance_windows").json["items"]] == [window["id"]]
    both = api.simulate_get("/api/v1/maintenance_windows", query_string="state=active,ended").json["items"]
    assert [w["id"] for w in both] == [window["id"]]
    assert api.simulate_get("/api/v1/maintenance_windows", query_string="state=ended").json["items"] == []

    held = alert(api, "db", dedup_key="disk")
    assert (held["action"], held["incident_id"], held["suppressed_by"]) == ("suppressed", None, window["id"])
    assert alert(api, "web")["action"] == "new_incident"  # not matched
    suppressed = api.simulate_get("/api/v1/alerts", params={"action": "suppressed"}).json["items"]
    assert [a["alert_id"] for a in suppressed] == [held["alert_id"]]

    later = (clock.now() + dt.timedelta(hours=1)).isoformat()
    extended = send(api, "PATCH", f"/api/v1/maintenance_windows/{window['id']}", {"ends_at": later})
    assert extended.json["history"][-1]["action"] == "extended"
    clock.forward(45 * 60)  # past the first end, not the new one
    assert (
        send(api, "PATCH", f"/api/v1/maintenance_windows/{window['id']}", {"ends_at": "soon"}).status_code
        == 422
    )
    assert incidents_of(api, "db") == []

    assert send(api, "DELETE", f"/api/v1/maintenance_windows/{window['id']}").status_code == 204
    replayed = eventually(lambda: api.simulate_get(f"/api/v1/alerts/{held['alert_id']}").json["incident_id"])
    [incident] = incidents_of(api, "db")
    assert incident["id"] == replayed
    assert api.simulate_get(f"/api/v1/maintenance_windows/{window['id']}").status_code == 404
    actions = audit_actions(api)
    for action in ("maintenance_window_created", "maintenance_window_extended", "maintenance_window_deleted"):
        assert action in actions


def test_bad_windows_are_422_and_viewers_cannot_make_them(api):
    refused = send(api, "POST", "/api/v1/maintenance_windows", {"reason": "x", "matchers": ["service=db"]})
    assert refused.status_code == 422
    assert send(api, "POST", "/api/v1/maintenance_windows", {}, Authorization="").status_code == 401
    assert api.simulate_get("/api/v1/maintenance_windows", params={"state": "someday"}).status_code == 422


def test_a_silent_monitor_pages_once_and_its_next_beat_resolves_it(api, clock):
    created = send(
        api,
        "POST",
        "/api/v1/heartbeats",
        {"name": "backup", "service": "backups", "interval_seconds": 60, "grace_seconds": 30},
    )
    assert created.status_code == 201, created.text
    monitor, key = created.json, created.json["key"]
    beat = f"/api/v1/heartbeats/{monitor['id']}/beat"
    assert send(api, "POST", beat, {"alerts": []}, Authorization=f"Bearer {key}").json["state"] == "up"
    assert send(api, "POST", beat, Authorization="Bearer klx_not-its-key").status_code == 401
    assert "key" not in api.simulate_get(f"/api/v1/heartbeats/{monitor['id']}").json

    clock.forward(91)
    [incident] = eventually(lambda: incidents_of(api, "backups"))
    assert (incident["severity"], incident["status"]) == ("critical", "open")
    assert eventually(lambda: api.simulate_get("/api/v1/heartbeats").json["items"][0]["state"] == "down")

    assert send(api, "POST", beat, Authorization=f"Bearer {key}").json["state"] == "up"
    assert eventually(lambda: incidents_of(api, "backups")[0]["status"] == "resolved")
    assert len(incidents_of(api, "backups")) == 1

    changed = send(api, "PATCH", f"/api/v1/heartbeats/{monitor['id']}", {"severity": "low"})
    assert changed.json["severity"] == "low"
    assert send(api, "DELETE", f"/api/v1/heartbeats/{monitor['id']}").status_code == 204
    assert api.simulate_get(f"/api/v1/heartbeats/{monitor['id']}").status_code == 404
    assert {"heartbeat_created", "heartbeat_deleted"} <= set(audit_actions(api))


def test_deleting_a_silent_monitor_resolves_its_incident(api, clock):
    monitor = send(
        api, "POST", "/api/v1/heartbeats", {"name": "cron", "service": "crons", "interval_seconds": 60}
    ).json
    clock.forward(200)
    eventually(lambda: incidents_of(api, "crons"))
    assert eventually(lambda: api.simulate_get(f"/api/v1/heartbeats/{monitor['id']}").json["state"] == "down")
    assert send(api, "DELETE", f"/api/v1/heartbeats/{monitor['id']}").status_code == 204
    assert eventually(lambda: incidents_of(api, "crons")[0]["status"] == "resolved")
