"""/health and /metrics on a service's own port, served by a real Nameko container."""

import pytest
from nameko.testing.services import entrypoint_hook, worker_factory

from services.alerts.service import AlertsService
from services.incidents.service import IncidentsService
from services.shared.web import broker_reachable, status_of


@pytest.fixture
def web_service_config(service_config, web_config):
    return {**service_config, **web_config}


def test_health_reports_broker_and_database(web_service_config, container_factory, web_session):
    container_factory(AlertsService, web_service_config).start()
    answer = web_session.get("/health")
    assert answer.status_code == 200
    assert answer.json() == {
        "service": "alerts",
        "status": "ok",
        "checks": {"broker": "ok", "database": "ok"},
    }


def test_metrics_count_requests_and_carry_store_gauges(web_service_config, container_factory, web_session):
    container = container_factory(IncidentsService, web_service_config)
    container.start()
    with entrypoint_hook(container, "correlate") as correlate:
        correlate(
            {
                "alert_id": "m-1",
                "service": "metered-api",
                "severity": "low",
                "message": "disk 81%",
                "timestamp": "2026-11-20T03:12:45+00:00",
            }
        )
    web_session.get("/health")
    text = web_session.get("/metrics").text
    assert 'incidents_total{service="metered-api",severity="low",status="open",team=""} 1.0' in text
    assert 'http_requests_total{code="200",method="GET",route="/health",service="incidents"}' in text


class BrokenStore:
    def ping(self):
        raise ConnectionError("database is down")


def test_health_is_503_naming_what_is_down():
    service = worker_factory(AlertsService, store=BrokenStore())
    service.config = {"AMQP_URI": "amqp://guest:guest@127.0.0.1:1/"}  # pragma: allowlist secret
    answer = service.health(request=None)
    assert answer.status_code == 503
    body = answer.get_json()
    assert body["status"] == "unavailable"
    assert "database is down" in body["checks"]["database"]
    assert body["checks"]["broker"] != "ok"


def test_broker_reachable_on_the_real_broker(rabbit_config):
    assert broker_reachable(rabbit_config["AMQP_URI"]) == (True, "ok")


@pytest.mark.parametrize(("result", "code"), [((201, "x"), 201), ("text", 200), (None, 200)])
def test_status_of_entrypoint_results(result, code):
    assert status_of(result) == code
