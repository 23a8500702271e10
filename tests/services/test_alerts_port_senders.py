"""The alerts service's own port holds a sender to what the edge does: a key made for
another kind of sender is refused, and every integration (and the keyless sender) keeps
to its rate limit, answered 429 with Retry-After."""

import pytest
from nameko.testing.services import entrypoint_hook

from services.alerts.service import AlertsService
from services.incidents.service import IncidentsService

ALERT = {"service": "port-api", "severity": "high", "message": "5xx above 5%"}


@pytest.fixture
def port(service_config, web_config, container_factory, web_session):
    def start(**config):
        alerts = container_factory(AlertsService, {**service_config, **web_config, **config})
        alerts.start()
        incidents_config = {**service_config, **web_config, "WEB_SERVER_ADDRESS": "127.0.0.1:0"}
        container_factory(IncidentsService, incidents_config).start()
        return alerts

    return start


def integration(container, **payload):
    with entrypoint_hook(container, "create_integration") as create:
        return create(payload)["key"]


def posted(web_session, key=None):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return web_session.post("/api/v1/alerts", json=ALERT, headers=headers)


def test_a_key_made_for_another_kind_of_sender_is_refused(port, web_session):
    alerts = port()
    refused = posted(web_session, integration(alerts, name="am", kind="alertmanager"))
    assert refused.status_code == 403
    assert refused.json()["detail"] == "integration 'am' is for alertmanager senders, not generic"
    assert posted(web_session, integration(alerts, name="gen", kind="generic")).status_code == 201


def test_an_integration_over_its_rate_limit_is_answered_429_and_spares_the_others(port, web_session):
    alerts = port()
    chatty = integration(alerts, name="chatty", rate_limit_per_minute=6)  # a burst of one
    assert posted(web_session, chatty).status_code == 201
    limited = posted(web_session, chatty)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    body = limited.json()
    assert (body["integration"], body["limit_per_minute"]) == ("chatty", 6)
    assert posted(web_session, integration(alerts, name="quiet")).status_code == 201


def test_keyless_senders_share_the_keyless_limit(port, web_session):
    port(KEYLESS_INGEST=True, KEYLESS_RATE_LIMIT=6)
    assert posted(web_session).status_code == 201
    limited = posted(web_session)
    assert limited.status_code == 429 and limited.json()["integration"] == "default"


def test_without_keyless_ingest_a_key_is_required(port, web_session):
    port()
    refused = posted(web_session)
    assert refused.status_code == 401 and "X-Klaxon-Integration-Key" in refused.json()["detail"]
