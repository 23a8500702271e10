"""The incidents service in a real Nameko container on RabbitMQ, on both databases."""

from nameko.testing.services import entrypoint_hook

from services.incidents.service import IncidentsService


def alert(alert_id, service="checkout-api", severity="critical"):
    return {
        "alert_id": alert_id,
        "service": service,
        "severity": severity,
        "message": "5xx above 5%",
        "timestamp": "2026-11-20T03:12:45+00:00",
    }


def test_second_alert_with_same_key_joins_the_first_incident(service_config, container_factory):
    container = container_factory(IncidentsService, service_config)
    container.start()
    with entrypoint_hook(container, "correlate") as correlate:
        first = correlate(alert("a-1"))
        second = correlate(alert("a-2"))
        other = correlate(alert("a-3", severity="low"))
    assert first["action"] == "new_incident"
    assert second == {"incident_id": first["incident_id"], "action": "attached_to_existing_incident"}
    assert other["action"] == "new_incident" and other["incident_id"] != first["incident_id"]
