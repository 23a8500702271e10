"""Every sender's format through the edge, the durable queue and the real services:
Alertmanager, Grafana, PagerDuty Events v2, queued generic alerts, integration keys,
rate limits and a broker that is down."""

import json
from pathlib import Path
from urllib.parse import quote

import eventlet
import falcon.testing
import pytest
import requests
from kombu import Connection

from edge.app import EdgeSettings, create_app
from edge.queue import AlertPublisher
from edge.replies import ReplyListener
from edge.rpc import RpcPool, ServiceUnavailable
from klaxon.registry import service_class
from services.alerts.queue import INGEST_QUEUE
from tests.conftest import eventually
from tests.edge.test_errors_and_validation import StandInAuthenticator
from tests.platform import RABBIT_API

EXAMPLES = Path(__file__).resolve().parents[1] / "payloads"
GENERIC = {"service": "queue-api", "severity": "critical", "message": "queue depth above 10k"}


def example(name):
    path = EXAMPLES / name
    if not path.exists():
        pytest.skip("shared examples not present")
    return json.loads(path.read_text())


@pytest.fixture
def platform(service_config, runner_factory):
    # service_config first: fixtures tear down in reverse, so the runner stops before
    # the test's database and vhost are dropped under it.
    names = ("alerts", "incidents", "oncall", "notifications")
    runner_factory(service_config, *(service_class(n) for n in names)).start()
    return service_config


@pytest.fixture
def make_edge(platform):
    pools = []

    def make(keyless=True, amqp_uri=None):
        pool = RpcPool(platform["AMQP_URI"], timeout=10)
        settings = EdgeSettings(amqp_uri=platform["AMQP_URI"], keyless_ingest=keyless)
        publisher = AlertPublisher(amqp_uri or platform["AMQP_URI"])
        replies = ReplyListener(platform["AMQP_URI"])
        pools.extend((pool, publisher, replies))
        return falcon.testing.TestClient(
            create_app(settings, pool, publisher, replies, StandInAuthenticator())
        )

    yield make
    for pool in pools:
        pool.close()


@pytest.fixture
def edge(make_edge):
    return make_edge()


def post(client, path, body, headers=None):
    headers = {"Content-Type": "application/json", **(headers or {})}
    return client.simulate_post(path, body=json.dumps(body), headers=headers)


def incident_of(client, alert_id):
    def linked():
        alert = client.simulate_get(f"/api/v1/alerts/{alert_id}")
        return alert.status_code == 200 and alert.json["incident_id"] and alert.json

    alert = eventually(linked)
    return client.simulate_get(f"/api/v1/incidents/{alert['incident_id']}").json


def test_prefer_respond_async_answers_202_before_correlation(edge):
    answer = post(edge, "/api/v1/alerts", GENERIC, {"Prefer": "respond-async"})
    assert answer.status_code == 202
    assert answer.headers["preference-applied"] == "respond-async"
    assert answer.json["status"] == "queued"
    incident = incident_of(edge, answer.json["alert_id"])
    assert incident["service"] == "queue-api" and incident["severity"] == "critical"


def test_alertmanager_group_opens_one_incident_and_its_resolve_closes_it(edge):
    firing = post(edge, "/api/v1/integrations/alertmanager", example("alertmanager-webhook-firing.json"))
    assert firing.status_code == 202
    ids = firing.json["alert_ids"]
    assert len(ids) == 2
    incident = incident_of(edge, ids[0])
    assert incident_of(edge, ids[1])["id"] == incident["id"]
    assert incident["service"] == "checkout-api" and incident["severity"] == "critical"
    alerts = {a["dedup_key"] for a in edge.simulate_get(f"/api/v1/incidents/{incident['id']}").json["alerts"]}
    assert alerts == {"b5c1d3e0a9f27c41", "0e77a2c4d18b9f55"}

    resolved = post(edge, "/api/v1/integrations/alertmanager", example("alertmanager-webhook-resolved.json"))
    assert resolved.status_code == 202

    def incident_resolved():
        current = edge.simulate_get(f"/api/v1/incidents/{incident['id']}").json
        return current["status"] == "resolved" and current

    final = eventually(incident_resolved)
    assert "every alert of this incident has resolved" in [n["note"] for n in final["notes"]]
    assert {a["status"] for a in final["alerts"] if a["action"] != "resolved"} == {"resolved"}


def test_alertmanager_resend_of_a_firing_group_is_deduplicated(edge):
    payload = example("alertmanager-webhook-firing.json")
    first = post(edge, "/api/v1/integrations/alertmanager", payload).json["alert_ids"]
    incident = incident_of(edge, first[0])
    again = post(edge, "/api/v1/integrations/alertmanager", payload).json["alert_ids"]

    def deduplicated():
        answers = [edge.simulate_get(f"/api/v1/alerts/{alert_id}").json for alert_id in again]
        return all(a.get("action") == "deduplicated" for a in answers) and answers

    answers = eventually(deduplicated)
    assert {a["incident_id"] for a in answers} == {incident["id"]}
    assert edge.simulate_get(f"/api/v1/incidents/{incident['id']}").json["alert_count"] == 2


def test_grafana_webhook_opens_an_incident(edge):
    answer = post(edge, "/api/v1/integrations/grafana", example("grafana-alerting-webhook.json"))
    assert answer.status_code == 202
    incident = incident_of(edge, answer.json["alert_ids"][0])
    assert incident["service"] == "storage-node" and incident["severity"] == "medium"


def test_pagerduty_trigger_acknowledge_resolve_by_dedup_key(edge):
    created = post(edge, "/api/v1/integrations", {"name": "pd-monitoring", "kind": "pagerduty"})
    assert created.status_code == 201
    key = created.json["key"]
    trigger = {**example("pagerduty-events-v2-trigger.json"), "routing_key": key}
    answer = post(edge, "/v2/enqueue", trigger)
    assert answer.status_code == 202
    assert answer.json == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": trigger["dedup_key"],
    }

    def incident():
        found = edge.simulate_get("/api/v1/alerts", params={"dedup_key": trigger["dedup_key"]}).json["items"]
        return found and found[0]["incident_id"]

    incident_id = eventually(incident)
    ack = {"routing_key": key, "event_action": "acknowledge", "dedup_key": trigger["dedup_key"]}
    assert post(edge, "/api/v1/integrations/pagerduty/v2/enqueue", ack).status_code == 202
    status = lambda: edge.simulate_get(f"/api/v1/incidents/{incident_id}").json["status"]  # noqa: E731
    eventually(lambda: status() == "acknowledged")
    resolve = {**example("pagerduty-events-v2-resolve.json"), "routing_key": key}
    assert post(edge, "/v2/enqueue", resolve).status_code == 202
    eventually(lambda: status() == "resolved")


def test_pagerduty_invalid_event_gets_pagerduty_error_body(edge):
    answer = post(edge, "/v2/enqueue", {"routing_key": "x", "event_action": "explode"})
    assert answer.status_code == 400
    assert answer.json["status"] == "invalid event"
    assert answer.json["message"] == "Event object is invalid"
    assert any("event_action" in error for error in answer.json["errors"])


def test_keys_are_required_checked_and_revocable(make_edge):
    edge = make_edge(keyless=False)
    assert post(edge, "/api/v1/alerts", GENERIC).status_code == 401
    assert post(edge, "/api/v1/alerts", GENERIC, {"Authorization": "Bearer klx_wrong"}).status_code == 401
    created = post(edge, "/api/v1/integrations", {"name": "ci-checks", "default_service": "ci"}).json
    key = created["key"]
    assert key.startswith("klx_") and created["key_prefix"] == key[:8]
    assert "key" not in edge.simulate_get("/api/v1/integrations").json["items"][0]
    ok = post(edge, "/api/v1/alerts", GENERIC, {"X-Klaxon-Integration-Key": key})
    assert ok.status_code == 201 and ok.json["action"] == "new_incident"

    assert edge.simulate_delete(f"/api/v1/integrations/{created['id']}").status_code == 200
    refused = make_edge(keyless=False)  # a fresh edge: no cached answer for this key
    revoked = post(refused, "/api/v1/alerts", GENERIC, {"Authorization": f"Bearer {key}"})
    assert revoked.status_code == 403
    stored = refused.simulate_get("/api/v1/alerts", params={"service": "queue-api"}).json["items"]
    assert [a["alert_id"] for a in stored] == [ok.json["alert_id"]]


def test_rate_limit_answers_429_naming_the_integration_and_spares_others(edge):
    slow = post(edge, "/api/v1/integrations", {"name": "chatty", "rate_limit_per_minute": 6}).json
    fast = post(edge, "/api/v1/integrations", {"name": "quiet"}).json
    headers = {"Authorization": f"Bearer {slow['key']}", "Prefer": "respond-async"}
    assert post(edge, "/api/v1/alerts", GENERIC, headers).status_code == 202
    limited = post(edge, "/api/v1/alerts", GENERIC, headers)
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json["integration"] == "chatty" and limited.json["limit_per_minute"] == 6
    other = post(edge, "/api/v1/alerts", GENERIC, {"Authorization": f"Bearer {fast['key']}"})
    assert other.status_code == 201


def test_broker_down_answers_503_with_retry_after(make_edge):
    edge = make_edge(amqp_uri="amqp://guest:guest@127.0.0.1:1/")  # pragma: allowlist secret
    answer = post(edge, "/api/v1/integrations/alertmanager", example("alertmanager-webhook-firing.json"))
    assert answer.status_code == 503
    assert answer.headers["retry-after"]


def test_publishes_in_turn_share_one_broker_connection_and_a_broken_one_is_dropped(platform):
    publisher = AlertPublisher(platform["AMQP_URI"], pool_size=4)

    def acknowledge(dedup_key):
        return {"kind": "acknowledge", "dedup_key": dedup_key, "integration_id": None, "actor": "test"}

    try:
        for n in range(20):
            publisher.publish(acknowledge(f"k-{n}"))
        assert publisher.idle.qsize() == 1
        [(connection, _, _)] = list(publisher.idle.queue)
        connection.connection.sock.close()  # the broker went away under an idle connection
        with pytest.raises(ServiceUnavailable):
            publisher.publish(acknowledge("lost"))
        assert publisher.idle.qsize() == 0, "a broken connection is not given back"
        publisher.publish(acknowledge("again"))
        assert publisher.idle.qsize() == 1
    finally:
        publisher.close()


def test_alerts_published_before_any_service_ran_wait_on_the_durable_queue(rabbit_config):
    """The edge declares the ingest queue itself (once per connection): what it accepts
    before the alerts service ever started is kept, not dropped as unroutable."""
    publisher = AlertPublisher(rabbit_config["AMQP_URI"], pool_size=1)
    try:
        for n in range(3):
            message = {"kind": "acknowledge", "dedup_key": f"k{n}", "integration_id": None, "actor": "t"}
            publisher.publish(message)
    finally:
        publisher.close()
    with Connection(rabbit_config["AMQP_URI"]) as connection:
        declared = INGEST_QUEUE.bind(connection.default_channel).queue_declare(passive=True)
    assert declared.message_count == 3


class CountingPool(RpcPool):
    """Counts the proxies out at once."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.out = self.most_out = 0

    def _borrow(self):
        borrowed = super()._borrow()
        self.out += 1
        self.most_out = max(self.most_out, self.out)
        return borrowed

    def _give_back(self, proxy, cluster):
        self.out -= 1
        super()._give_back(proxy, cluster)


def test_a_connection_idle_too_long_is_replaced_not_trusted(platform):
    publisher = AlertPublisher(platform["AMQP_URI"], max_idle_seconds=0)
    try:
        publisher.publish({"kind": "acknowledge", "dedup_key": "a", "integration_id": None, "actor": "test"})
        [(first, _, _)] = list(publisher.idle.queue)
        publisher.publish({"kind": "acknowledge", "dedup_key": "b", "integration_id": None, "actor": "test"})
        [(second, _, _)] = list(publisher.idle.queue)
        assert second is not first and not first.connected
    finally:
        publisher.close()


def test_rpc_pool_lends_at_most_its_size_however_many_ask(platform):
    pool = CountingPool(platform["AMQP_URI"], timeout=10, size=2)
    try:
        callers = [
            eventlet.spawn(lambda: [pool.call("incidents", "stats") for _ in range(3)]) for _ in range(8)
        ]
        answers = [caller.wait() for caller in callers]
        assert all(len(three) == 3 and "incidents" in three[0] for three in answers)
        assert pool.most_out == 2
        assert pool.idle.qsize() == 2
    finally:
        pool.close()


def reply_connection(queue_api):
    """The name of the connection consuming a queue, once the management API's statistics show it."""
    for consumer in requests.get(queue_api, timeout=10).json().get("consumer_details") or []:
        if isinstance(consumer.get("channel_details"), dict):
            return consumer["channel_details"].get("connection_name")
    return None


def test_a_reply_queue_the_broker_closed_is_listened_again_at_the_next_synchronous_alert(platform):
    replies = ReplyListener(platform["AMQP_URI"])
    pool = RpcPool(platform["AMQP_URI"], timeout=10)
    settings = EdgeSettings(amqp_uri=platform["AMQP_URI"], keyless_ingest=True)
    edge = falcon.testing.TestClient(
        create_app(settings, pool, replies=replies, authenticator=StandInAuthenticator())
    )
    try:
        assert post(edge, "/api/v1/alerts", GENERIC).status_code == 201
        vhost = quote(platform["AMQP_URI"].rsplit("/", 1)[1], safe="")
        queue_api = f"{RABBIT_API}/queues/{vhost}/{replies.address}"
        name = quote(eventually(lambda: reply_connection(queue_api), timeout=30), safe="")
        requests.delete(f"{RABBIT_API}/connections/{name}", timeout=10).raise_for_status()
        eventually(lambda: replies.connection is None)

        again = post(edge, "/api/v1/alerts", {**GENERIC, "message": "after the reply queue was lost"})
        assert again.status_code == 201 and again.json["incident_id"] is not None
    finally:
        replies.close()
        pool.close()


def test_a_key_made_for_one_sender_fits_no_other(edge):
    key = post(edge, "/api/v1/integrations", {"name": "am-only", "kind": "alertmanager"}).json["key"]
    refused = post(edge, "/api/v1/alerts", GENERIC, {"Authorization": f"Bearer {key}"})
    assert refused.status_code == 403 and "alertmanager" in refused.json["detail"]
    accepted = post(
        edge,
        f"/api/v1/integrations/alertmanager?integration_key={key}",
        example("alertmanager-webhook-firing.json"),
    )
    assert accepted.status_code == 202
