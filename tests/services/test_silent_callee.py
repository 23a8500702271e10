"""When a service does not answer in time (services.shared.rpc): what the caller does so
that nothing a user sent or followed is lost. The callee here is stopped after it started
once: its queue stays, and calls to it wait there, unanswered, until their timeout."""

import datetime as dt

import pytest
from nameko.exceptions import RpcTimeout
from nameko.testing.services import entrypoint_hook

from services.alerts.service import AlertsService
from services.incidents.service import IncidentsService
from services.notifications.acklinks import AckLinks
from services.notifications.service import NotificationsService
from tests.conftest import eventually

ALERT = {"service": "silent-callee", "severity": "high", "message": "p99 above 2s"}
SECRET_KEY = "s" * 32


@pytest.fixture
def incidents(service_config, web_config, container_factory):
    """start() runs an incidents service; the first one's stop leaves its queue behind."""
    config = {**service_config, **web_config, "WEB_SERVER_ADDRESS": "127.0.0.1:0"}

    def start():
        container = container_factory(IncidentsService, config)
        container.start()
        return container

    return start


def test_an_alert_the_port_cannot_correlate_in_time_is_queued_then_correlated(
    service_config, web_config, container_factory, web_session, incidents
):
    incidents().stop()
    config = {**service_config, **web_config, "KEYLESS_INGEST": True, "RPC_TIMEOUT_SECONDS": 0.5}
    alerts = container_factory(AlertsService, config)
    alerts.start()

    posted = web_session.post("/api/v1/alerts", json=ALERT)
    assert posted.status_code == 202, posted.text
    assert posted.json()["status"] == "queued"
    incidents()  # back: the queued alert is correlated

    def correlated():
        with entrypoint_hook(alerts, "get_alert") as get_alert:
            alert = get_alert(posted.json()["alert_id"])
        return alert if alert["incident_id"] is not None else None

    alert = eventually(correlated, timeout=30)
    assert alert["action"] == "new_incident"


def test_a_followed_acknowledge_link_that_could_not_acknowledge_still_works(
    service_config, container_factory, incidents
):
    first = incidents()
    with entrypoint_hook(first, "create_incident") as create:
        incident = create({"title": "disk full", "service": "silent-callee", "severity": "high"})
    first.stop()
    config = {**service_config, "SECRET_KEY": SECRET_KEY, "RPC_TIMEOUT_SECONDS": 0.5}
    notifications = container_factory(NotificationsService, config)
    notifications.start()
    link = AckLinks(SECRET_KEY, "http://x").url(incident["id"], "ada@example.com", dt.datetime.now(dt.UTC))
    token = link.rsplit("/", 1)[1]

    with entrypoint_hook(notifications, "redeem_ack") as redeem, pytest.raises(RpcTimeout):
        redeem(token)
    incidents()  # back: the same link acknowledges
    with entrypoint_hook(notifications, "redeem_ack") as redeem:
        assert redeem(token) == {
            "incident_id": incident["id"],
            "status": "acknowledged",
            "by": "ada@example.com",
        }
