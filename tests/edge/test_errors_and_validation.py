"""The edge's contract for bad input and failures, through falcon.testing.

The RPC client here is a stand-in that records calls, so these tests pin down what the
edge itself does: validation before any RPC, one problem+json shape, status mapping.
"""

import json
from pathlib import Path

import falcon.testing
import pytest
from nameko.exceptions import RemoteError, serialize

from edge.app import EdgeSettings, create_app
from edge.rpc import ServiceUnavailable
from services.shared.errors import Conflict, NotFound, ValidationFailed

EXAMPLES = Path(__file__).resolve().parents[1] / "payloads"
GENERIC = {
    "service": "frontend-api",
    "severity": "high",
    "message": "HTTP 5xx error rate > 10%",
    "labels": {"environment": "production"},
    "timestamp": "2026-03-08T15:30:00Z",
}


class RecordingRpc:
    """Records the calls the edge makes."""

    def __init__(self, answer=None, error=None):
        self.calls = []
        self.answer = answer
        self.error = error

    def call(self, service, method, *args):
        self.calls.append((service, method, args))
        if self.error is not None:
            raise self.error
        return self.answer


class RecordingPublisher:
    def __init__(self, error=None):
        self.messages = []
        self.error = error

    def publish(self, message):
        if self.error is not None:
            raise self.error
        self.messages.append(message)


class StandInReplies:
    """Answers every synchronous alert at once with `answer` (None: never in time)."""

    address = "klaxon.edge.replies.test"

    def __init__(self, answer=None):
        self.answer = answer
        self.expected = []

    def expect(self, alert_id):
        self.expected.append(alert_id)
        return self

    def wait(self, timeout):
        if self.answer is None:
            return None
        return {**self.answer, "alert_id": self.expected[-1]}

    def forget(self, alert_id):
        pass


ADMIN = {
    "email": "root@example.com",
    "name": "Root",
    "role": "admin",
    "via": "token",
    "managed_teams": [],
    "must_change_password": False,
}


class StandInAuthenticator:
    """Every request is `principal`'s: these tests are about what the edge does once a
    request is allowed; tests/edge/test_access.py is about who is allowed."""

    def __init__(self, principal=ADMIN):
        self.signed_in = principal

    def principal(self, req):
        return self.signed_in


def client_for(rpc, publisher=None, replies=None, authenticator=None):
    app = create_app(
        EdgeSettings(keyless_ingest=True),
        rpc,
        publisher or RecordingPublisher(),
        replies or StandInReplies(),
        authenticator or StandInAuthenticator(),
    )
    return falcon.testing.TestClient(app)


def post_json(client, path, body, **headers):
    return client.simulate_post(
        path, body=json.dumps(body), headers={"Content-Type": "application/json", **headers}
    )


def assert_problem(result, status):
    assert result.status_code == status
    assert result.headers["content-type"] == "application/problem+json"
    assert result.json["status"] == status
    assert result.json["title"]
    return result.json


CORRELATED = {"incident_id": 1, "status": "correlated", "action": "new_incident"}


def test_valid_alert_is_normalised_queued_and_answered_with_its_incident():
    publisher, replies = RecordingPublisher(), StandInReplies(CORRELATED)
    client = client_for(RecordingRpc(), publisher, replies)
    result = post_json(client, "/api/v1/alerts", {**GENERIC, "severity": "Warning"})
    assert result.status_code == 201
    [alert_id] = replies.expected
    assert result.json == {**CORRELATED, "alert_id": alert_id}
    assert result.headers["location"] == f"/api/v1/alerts/{alert_id}"
    [message] = publisher.messages
    [alert] = message["alerts"]
    assert alert["alert_id"] == alert_id and alert["reply_to"] == replies.address
    assert alert["severity"] == "medium" and alert["service"] == "frontend-api"
    assert alert["integration_id"] is None, "keyless alerts belong to no integration"


def test_respond_async_queues_the_alert_and_waits_for_nothing():
    publisher, replies = RecordingPublisher(), StandInReplies(CORRELATED)
    client = client_for(RecordingRpc(), publisher, replies)
    result = post_json(client, "/api/v1/alerts", GENERIC, Prefer="respond-async")
    assert result.status_code == 202
    assert result.headers["preference-applied"] == "respond-async"
    [message] = publisher.messages
    [alert] = message["alerts"]
    assert alert["alert_id"] == result.json["alert_id"] and "reply_to" not in alert
    assert replies.expected == []


def test_a_synchronous_alert_answered_late_is_202_queued_not_an_error():
    publisher = RecordingPublisher()
    result = post_json(client_for(RecordingRpc(), publisher, StandInReplies(None)), "/api/v1/alerts", GENERIC)
    assert result.status_code == 202
    assert result.json["status"] == "queued"
    assert "preference-applied" not in result.headers, "the sender did not ask for it"
    assert result.headers["location"] == f"/api/v1/alerts/{result.json['alert_id']}"
    assert len(publisher.messages) == 1


def test_a_synchronous_alert_the_service_refused_gets_that_error():
    refused = {"error": serialize(ValidationFailed([{"field": "message", "reason": "poison"}]))}
    result = post_json(client_for(RecordingRpc(), replies=StandInReplies(refused)), "/api/v1/alerts", GENERIC)
    problem = assert_problem(result, 422)
    assert problem["errors"] == [{"field": "message", "reason": "poison"}]


def test_the_shipped_example_alert_is_accepted():
    if not (EXAMPLES / "generic-alert.json").exists():
        pytest.skip("shared examples not present")
    body = json.loads((EXAMPLES / "generic-alert.json").read_text())
    client = client_for(RecordingRpc(), replies=StandInReplies(CORRELATED))
    assert post_json(client, "/api/v1/alerts", body).status_code == 201


def test_malformed_json_is_400_and_reaches_no_service():
    rpc = RecordingRpc()
    result = client_for(rpc).simulate_post(
        "/api/v1/alerts", body="{not json", headers={"Content-Type": "application/json"}
    )
    assert_problem(result, 400)
    assert rpc.calls == []


@pytest.mark.parametrize("missing", ["service", "severity", "message"])
def test_missing_field_is_422_naming_it(missing):
    rpc = RecordingRpc()
    body = {k: v for k, v in GENERIC.items() if k != missing}
    problem = assert_problem(post_json(client_for(rpc), "/api/v1/alerts", body), 422)
    assert [e["field"] for e in problem["errors"]] == [missing]
    assert rpc.calls == []


def test_unknown_severity_is_422_naming_the_field_and_the_reason():
    problem = assert_problem(
        post_json(client_for(RecordingRpc()), "/api/v1/alerts", {**GENERIC, "severity": "apocalyptic"}), 422
    )
    assert problem["errors"][0]["field"] == "severity"
    assert "apocalyptic" in problem["errors"][0]["reason"]


def test_wrong_content_type_is_415():
    result = client_for(RecordingRpc()).simulate_post(
        "/api/v1/alerts", body="service=x", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert_problem(result, 415)


def test_body_over_one_megabyte_is_413():
    body = {**GENERIC, "message": "x" * (1024 * 1024)}
    assert_problem(post_json(client_for(RecordingRpc()), "/api/v1/alerts", body), 413)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFound("incident", 99), 404),
        (Conflict("cannot move an incident from resolved to acknowledged"), 409),
        (ValidationFailed([{"field": "status", "reason": "must be one of ..."}]), 422),
        (RemoteError("TypeError", "boom"), 500),
    ],
)
def test_domain_errors_from_services_map_to_statuses(error, status):
    result = client_for(RecordingRpc(error=error)).simulate_get("/api/v1/incidents/99")
    problem = assert_problem(result, status)
    assert "boom" not in json.dumps(problem), "internal messages must not leave the process"


def test_broker_down_is_503_with_retry_after():
    publisher = RecordingPublisher(error=ServiceUnavailable("message broker unreachable", retry_after=7))
    result = post_json(client_for(RecordingRpc(), publisher), "/api/v1/alerts", GENERIC)
    assert_problem(result, 503)
    assert result.headers["retry-after"] == "7"


def test_unexpected_edge_failure_is_500_without_a_trace():
    result = client_for(RecordingRpc(error=KeyError("secret internals"))).simulate_get("/api/v1/incidents")
    problem = assert_problem(result, 500)
    assert "secret" not in json.dumps(problem)


def test_unknown_route_is_404_problem():
    assert_problem(client_for(RecordingRpc()).simulate_get("/api/v1/nothing-here"), 404)


def test_non_integer_incident_id_is_404():
    assert_problem(client_for(RecordingRpc()).simulate_get("/api/v1/incidents/abc"), 404)


def test_escalate_needs_an_integer_incident_id():
    rpc = RecordingRpc()
    problem = assert_problem(post_json(client_for(rpc), "/api/v1/escalate", {"incident_id": "7"}), 422)
    assert problem["errors"][0]["field"] == "incident_id"
    assert rpc.calls == []


def test_oncall_current_needs_a_team():
    problem = assert_problem(client_for(RecordingRpc()).simulate_get("/api/v1/oncall/current"), 422)
    assert problem["errors"][0]["field"] == "team"


def test_the_actor_is_the_signed_in_person_never_the_actor_header():
    rpc = RecordingRpc(answer={"id": 3, "status": "acknowledged"})
    client = client_for(rpc)
    result = client.simulate_patch(
        "/api/v1/incidents/3",
        body=json.dumps({"status": "acknowledged"}),
        headers={"Content-Type": "application/json", "X-Klaxon-Actor": "alice@example.com"},
    )
    assert result.status_code == 200
    assert rpc.calls == [
        ("incidents", "update_incident", (3, {"status": "acknowledged"}, "root@example.com"))
    ]


def test_placeholder_page_and_metrics_are_served():
    client = client_for(RecordingRpc())
    page = client.simulate_get("/")
    assert page.status_code == 200 and "Klaxon" in page.text
    client.simulate_get("/api/v1/nothing-here")
    metrics = client.simulate_get("/metrics")
    assert metrics.status_code == 200
    assert 'http_requests_total{code="404",method="GET",route="unmatched",service="edge"}' in metrics.text


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/incidents/88014624182153936896",
        "/api/v1/incidents/88014624182153936896/metrics",
        "/api/v1/overrides/9223372036854775808",
        "/api/v1/tokens/99999999999999999999999",
    ],
)
def test_an_id_no_database_column_holds_matches_no_route(path):
    rpc = RecordingRpc(answer={})
    assert_problem(client_for(rpc).simulate_request("GET", path), 404)
    assert rpc.calls == []


@pytest.mark.parametrize("count", ["\u00b2", "0", "101", "x"])
def test_a_count_that_is_no_plain_integer_is_422(count):
    rpc = RecordingRpc(answer=[])
    problem = assert_problem(
        client_for(rpc).simulate_get("/api/v1/oncall/upcoming", params={"team": "t", "count": count}), 422
    )
    assert problem["errors"][0]["field"] == "count" and rpc.calls == []


def test_escalating_an_id_out_of_range_is_422():
    rpc = RecordingRpc(answer={})
    result = post_json(client_for(rpc), "/api/v1/escalate", {"incident_id": 88014624182153936896})
    assert assert_problem(result, 422)["errors"][0]["field"] == "incident_id" and rpc.calls == []


def test_every_edge_route_starts_with_zero_server_errors():
    """rate() sees a route's first 500 only if the series was there before it."""
    from prometheus_client import REGISTRY

    client_for(RecordingRpc())
    for method, route in [("POST", "/api/v1/alerts"), ("GET", "/api/v1/incidents/{incident_id:id}")]:
        labels = {"service": "edge", "method": method, "route": route, "code": "500"}
        assert REGISTRY.get_sample_value("http_requests_total", labels) is not None, route
