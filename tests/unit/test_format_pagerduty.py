"""services/alerts/formats/pagerduty.py: PagerDuty Events API v2."""

import datetime as dt
import json
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nameko.exceptions import deserialize, serialize

from services.alerts.formats.generic import parse_generic
from services.alerts.formats.pagerduty import PagerDutyInvalid, pagerduty_success, parse_pagerduty
from services.shared.errors import ValidationFailed

NOW = dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)
KEY = "R0UT1NGKEYEXAMPLE0000000000000000"
SEVERITY_INVALID = "'payload.severity' is invalid (must be one of: critical, error, warning, info)"


@pytest.fixture
def trigger(example_payload):
    return example_payload("pagerduty-events-v2-trigger.json")


def event(action="trigger", **extra):
    found = {"routing_key": KEY, "event_action": action}
    if action == "trigger":
        found["payload"] = {"summary": "disk full", "source": "host-1", "severity": "error"}
    found.update(extra)
    return found


def trigger_with(**payload):
    found = event()
    found["payload"].update(payload)
    return found


def invalid(body):
    with pytest.raises(PagerDutyInvalid) as caught:
        parse_pagerduty(body, now=NOW)
    return caught.value


def over_the_wire(error):
    return deserialize(json.loads(json.dumps(serialize(error))))


# The examples


def test_trigger_example(trigger):
    result = parse_pagerduty(trigger, now=NOW)
    assert set(result) == {"routing_key", "event_action", "dedup_key", "alert"}
    assert result["routing_key"] == KEY
    assert result["event_action"] == "trigger"
    assert result["dedup_key"] == "payments-db/replication-lag"
    found = result["alert"]
    assert uuid.UUID(found["alert_id"]).version == 4
    assert {key: value for key, value in found.items() if key != "alert_id"} == {
        "source": "pagerduty",
        "service": "payments-db-replica-2",
        "severity": "critical",
        "message": "Replication lag above 30s on payments-db replica 2",
        "labels": {
            "source": "payments-db-replica-2",
            "component": "postgres",
            "group": "payments",
            "class": "replication",
        },
        "timestamp": "2026-11-20T04:01:00+00:00",
        "dedup_key": "payments-db/replication-lag",
        "status": "firing",
        "group_key": None,
        "details": {
            "custom_details": {"lag_seconds": 41.5, "primary": "payments-db-1"},
            "links": [{"href": "https://grafana.example.internal/d/pg", "text": "Postgres dashboard"}],
            "client": "Monitoring",
            "client_url": "https://monitoring.example.internal",
        },
    }


def test_trigger_example_passes_the_generic_check_again(trigger):
    found = parse_pagerduty(trigger, now=NOW)["alert"]
    again = parse_generic(found, alert_id=found["alert_id"])
    assert again == {key: found[key] for key in again} | {"source": "generic"}


def test_resolve_example(example_payload):
    result = parse_pagerduty(example_payload("pagerduty-events-v2-resolve.json"), now=NOW)
    assert result == {
        "routing_key": KEY,
        "event_action": "resolve",
        "dedup_key": "payments-db/replication-lag",
        "alert": None,
    }


def test_success_body_is_the_example_response(example_payload):
    expected = example_payload("pagerduty-events-v2-response.json")
    assert pagerduty_success("payments-db/replication-lag") == expected
    assert pagerduty_success("k") == {"status": "success", "message": "Event processed", "dedup_key": "k"}


# Valid events


def test_acknowledge():
    result = parse_pagerduty(event("acknowledge", dedup_key="k1"), now=NOW)
    assert (result["event_action"], result["dedup_key"], result["alert"]) == ("acknowledge", "k1", None)


def test_acknowledge_and_resolve_ignore_a_payload():
    result = parse_pagerduty(event("resolve", dedup_key="k1", payload={"severity": "bogus"}), now=NOW)
    assert result["alert"] is None


def test_trigger_without_dedup_key_gets_one():
    first = parse_pagerduty(event(), now=NOW)
    second = parse_pagerduty(event(dedup_key=""), now=NOW)
    for result in (first, second):
        assert uuid.UUID(hex=result["dedup_key"]).version == 4
        assert result["dedup_key"] == uuid.UUID(hex=result["dedup_key"]).hex
        assert result["alert"]["dedup_key"] == result["dedup_key"]
    assert first["dedup_key"] != second["dedup_key"]


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("critical", "critical"),
        ("error", "high"),
        ("warning", "medium"),
        ("info", "low"),
        ("Warning", "medium"),
    ],
)
def test_severity_is_mapped(severity, expected):
    assert parse_pagerduty(trigger_with(severity=severity), now=NOW)["alert"]["severity"] == expected


def test_default_service_wins_over_source():
    found = parse_pagerduty(event(), default_service="storage", now=NOW)["alert"]
    assert found["service"] == "storage"
    assert found["labels"] == {"source": "host-1"}


def test_minimal_trigger():
    found = parse_pagerduty(event(), now=NOW)["alert"]
    assert found["service"] == "host-1"
    assert found["message"] == "disk full"
    assert found["labels"] == {"source": "host-1"}
    assert found["details"] == {}
    assert found["timestamp"] == NOW.isoformat()
    assert found["status"] == "firing"


def test_without_now_uses_the_clock():
    before = dt.datetime.now(dt.UTC)
    found = parse_pagerduty(event())["alert"]
    assert before <= dt.datetime.fromisoformat(found["timestamp"]) <= dt.datetime.now(dt.UTC)


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        ("2026-11-20T05:01:00+01:00", "2026-11-20T04:01:00+00:00"),
        ("2026-11-20T04:01:00Z", "2026-11-20T04:01:00+00:00"),
        ("2026-11-20T04:01:00", "2026-11-20T04:01:00+00:00"),
    ],
)
def test_timestamp_is_utc(timestamp, expected):
    assert parse_pagerduty(trigger_with(timestamp=timestamp), now=NOW)["alert"]["timestamp"] == expected


def test_present_labels_only_and_as_text():
    found = parse_pagerduty(trigger_with(component=7, group="", **{"class": None}), now=NOW)["alert"]
    assert found["labels"] == {"source": "host-1", "component": "7"}


def test_images_and_odd_custom_details_are_kept():
    images = [{"src": "https://example.internal/chart.png"}]
    body = trigger_with(custom_details="plain text")
    body.update(images=images, links=[], client="")
    assert parse_pagerduty(body, now=NOW)["alert"]["details"] == {
        "custom_details": "plain text",
        "images": images,
    }


def test_summary_of_exactly_1024_characters_is_accepted():
    assert parse_pagerduty(trigger_with(summary="s" * 1024), now=NOW)["alert"]["message"] == "s" * 1024


@pytest.mark.parametrize("routing_key", ["k", "klx_" + "a" * 43, "r" * 200])
def test_routing_key_of_any_length_up_to_200(routing_key):
    assert parse_pagerduty(event(routing_key=routing_key), now=NOW)["routing_key"] == routing_key


def test_unknown_keys_are_ignored():
    body = trigger_with(extra="x")
    body["payment"] = {"unrelated": True}
    assert parse_pagerduty(body, now=NOW)["alert"]["message"] == "disk full"


# Invalid events: PagerDuty's strings, Klaxon's fields


@pytest.mark.parametrize(
    ("body", "message", "field"),
    [
        (trigger_with(summary=None), "'payload.summary' is missing or blank", "payload.summary"),
        (trigger_with(summary="   "), "'payload.summary' is missing or blank", "payload.summary"),
        (trigger_with(summary=5), "'payload.summary' is invalid (must be a string)", "payload.summary"),
        (trigger_with(source=""), "'payload.source' is missing or blank", "payload.source"),
        (trigger_with(severity=None), "'payload.severity' is missing or blank", "payload.severity"),
        (trigger_with(severity="high"), SEVERITY_INVALID, "payload.severity"),
        (trigger_with(severity=3), SEVERITY_INVALID, "payload.severity"),
        (
            trigger_with(timestamp="tomorrow"),
            "'payload.timestamp' is invalid (must be an ISO 8601 timestamp)",
            "payload.timestamp",
        ),
        (event(routing_key=None), "'routing_key' is missing or blank", "routing_key"),
        (event(routing_key=""), "'routing_key' is missing or blank", "routing_key"),
        (event(routing_key=12), "'routing_key' is invalid (must be a string)", "routing_key"),
        (event("page"), "'event_action' is invalid", "event_action"),
        (event("Trigger"), "'event_action' is invalid", "event_action"),
        (event(event_action=None), "'event_action' is missing or blank", "event_action"),
        (event("acknowledge"), "'dedup_key' is missing or blank", "dedup_key"),
        (event("resolve", dedup_key=" "), "'dedup_key' is missing or blank", "dedup_key"),
        (event(dedup_key=["k"]), "'dedup_key' is invalid (must be a string)", "dedup_key"),
        (event(payload=None), "'payload' is missing or blank", "payload"),
        (event(payload="disk full"), "'payload' is invalid (must be an object)", "payload"),
        (event(links={"href": "x"}), "'links' is invalid (must be an array)", "links"),
        (event(images="x.png"), "'images' is invalid (must be an array)", "images"),
        ([], "'body' is invalid (must be a JSON object)", "body"),
    ],
)
def test_one_invalid_field(body, message, field):
    error = invalid(body)
    assert error.messages == [message]
    assert [found["field"] for found in error.errors] == [field]
    assert error.pagerduty_body()["errors"] == [message]


@pytest.mark.parametrize(
    ("body", "message", "field"),
    [
        (
            trigger_with(summary="s" * 1025),
            "Length of 'payload.summary' is incorrect (should be at most 1024 characters)",
            "payload.summary",
        ),
        (
            event("resolve", dedup_key="d" * 256),
            "Length of 'dedup_key' is incorrect (should be at most 255 characters)",
            "dedup_key",
        ),
        (
            event(routing_key="r" * 201),
            "Length of 'routing_key' is incorrect (should be at most 200 characters)",
            "routing_key",
        ),
    ],
)
def test_too_long(body, message, field):
    error = invalid(body)
    assert error.messages == [message]
    assert error.errors == [{"field": field, "reason": message}]


def test_every_problem_is_reported_in_one_answer():
    body = {"event_action": "trigger", "payload": {"source": "h", "severity": "fatal"}}
    error = invalid(body)
    assert error.messages == [
        "'routing_key' is missing or blank",
        "'payload.summary' is missing or blank",
        SEVERITY_INVALID,
    ]
    assert error.errors == [
        {"field": "routing_key", "reason": "is missing or blank"},
        {"field": "payload.summary", "reason": "is missing or blank"},
        {
            "field": "payload.severity",
            "reason": "is invalid (must be one of: critical, error, warning, info)",
        },
    ]


def test_pagerduty_400_body():
    error = invalid(trigger_with(summary=""))
    assert error.pagerduty_body() == {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": ["'payload.summary' is missing or blank"],
    }
    json.dumps(error.pagerduty_body())


def test_is_a_validation_failure_with_klaxon_fields():
    error = invalid(event("acknowledge"))
    assert isinstance(error, ValidationFailed)
    assert error.errors == [{"field": "dedup_key", "reason": "is missing or blank"}]
    assert str(error) == "dedup_key: is missing or blank"
    assert error.args == (["'dedup_key' is missing or blank"],)


def test_a_message_without_a_quoted_field_names_the_body():
    error = PagerDutyInvalid(["Event object is invalid"])
    assert error.errors == [{"field": "body", "reason": "Event object is invalid"}]


# Across Nameko RPC


def test_round_trip():
    messages = ["'payload.summary' is missing or blank", SEVERITY_INVALID]
    original = PagerDutyInvalid(messages)
    data = serialize(original)
    assert data["exc_path"] == "services.alerts.formats.pagerduty.PagerDutyInvalid"
    assert data["exc_args"] == [messages]
    back = over_the_wire(original)
    assert type(back) is PagerDutyInvalid
    assert back.args == original.args
    assert back.messages == messages
    assert back.errors == original.errors
    assert back.pagerduty_body() == original.pagerduty_body()
    assert str(back) == str(original)


def test_round_trip_without_json_in_between():
    back = deserialize(serialize(invalid(event("resolve"))))
    assert type(back) is PagerDutyInvalid
    assert back.pagerduty_body()["errors"] == ["'dedup_key' is missing or blank"]


@settings(max_examples=100, deadline=None, database=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=5))
def test_any_messages_survive(messages):
    back = over_the_wire(PagerDutyInvalid(messages))
    assert type(back) is PagerDutyInvalid
    assert back.messages == messages
    assert back.errors == PagerDutyInvalid(messages).errors
    assert all(set(found) == {"field", "reason"} for found in back.errors)
