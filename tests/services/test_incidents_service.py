"""The incidents service in a real Nameko container on RabbitMQ, on both databases."""

from unittest.mock import call

from nameko.testing.services import entrypoint_hook, replace_dependencies
from prometheus_client import REGISTRY

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


def test_deliveries_sent_and_failed_are_written_in_the_timeline_once(service_config, container_factory):
    container = container_factory(IncidentsService, service_config)
    container.start()
    with entrypoint_hook(container, "correlate") as correlate:
        incident_id = correlate(alert("a-1"))["incident_id"]
    sent = {
        "incident_id": incident_id,
        "key": f"{incident_id}:0:alice@example.com:email",
        "recipient": "alice@example.com",
        "channel": "email",
        "step": 0,
        "status": "sent",
        "attempts": 1,
        "error": None,
    }
    failed = {
        **sent,
        "key": f"{incident_id}:0:alice@example.com:webhook",
        "channel": "webhook",
        "status": "failed",
        "attempts": 5,
        "error": "DeliveryFailed: https://hooks.example answered 500",
    }
    with entrypoint_hook(container, "on_notification_delivered") as delivered:
        delivered(sent)
        delivered(sent)  # a redelivered event changes nothing
    with entrypoint_hook(container, "on_notification_failed") as failed_hook:
        failed_hook(failed)
    with entrypoint_hook(container, "get_incident") as get_incident:
        timeline = get_incident(incident_id)["timeline"]
    entries = [
        (e["kind"], e["detail"]["channel"])
        for e in timeline
        if e["kind"] in ("notified", "notification_failed")
    ]
    assert entries == [("notified", "email"), ("notification_failed", "webhook")]
    [failure] = [e for e in timeline if e["kind"] == "notification_failed"]
    assert failure["detail"]["attempts"] == 5 and "answered 500" in failure["detail"]["error"]


def test_a_redelivered_routing_assigns_and_notes_once(service_config, container_factory):
    container = container_factory(IncidentsService, service_config)
    dispatch = replace_dependencies(container, "dispatch")
    container.start()
    with entrypoint_hook(container, "correlate") as correlate:
        incident_id = correlate(alert("a-1", service="no-such-team-api"))["incident_id"]
    routed = {
        "incident_id": incident_id,
        "service": "no-such-team-api",
        "team": "platform",
        "assignee": "Alice",
        "actor": "klaxon-oncall",
        "at": "2026-11-20T03:12:46+00:00",
        "timeline": [{"kind": "note", "detail": {"note": "to the default team"}, "ref": "route-default"}],
    }
    dispatch.reset_mock()
    with entrypoint_hook(container, "on_incident_routed") as on_routed:
        on_routed(routed)
        on_routed(routed)  # a redelivered event changes nothing
    with entrypoint_hook(container, "get_incident") as get_incident:
        incident = get_incident(incident_id)
    assert (incident["team"], incident["assignee"]) == ("platform", "Alice")
    routing = [(e["kind"], e["at"]) for e in incident["timeline"] if e["kind"] in ("note", "assigned")]
    assert routing == [("note", routed["at"]), ("assigned", routed["at"])]
    updated = {"incident_id": incident_id, "actor": "klaxon-oncall", "changed": ["assignee"]}
    assert dispatch.call_args_list == [call("incident_updated", updated)], "announced once"
    # The team's MTTA starts at 0 before anyone acknowledges, so the first one is an increase.
    assert (
        REGISTRY.get_sample_value(
            "incident_mtta_seconds_count", {"service": "no-such-team-api", "team": "platform"}
        )
        == 0
    )
