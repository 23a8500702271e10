"""services/alerts/formats/generic.py: Klaxon's own alert format."""

import datetime as dt
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.alerts.formats.generic import parse_generic
from services.shared.errors import ValidationFailed
from services.shared.severity import SEVERITIES

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 8, 16, 0, tzinfo=UTC)
REQUIRED = ("service", "severity", "message")
RESULT_KEYS = {
    "alert_id",
    "source",
    "service",
    "severity",
    "message",
    "labels",
    "timestamp",
    "dedup_key",
    "status",
}


@pytest.fixture
def example(example_payload):
    return example_payload("generic-alert.json")


def minimal(**extra):
    payload = {"service": "api", "severity": "high", "message": "down"}
    payload.update(extra)
    return payload


def fields(error):
    return [item["field"] for item in error.errors]


def rejected(payload):
    with pytest.raises(ValidationFailed) as caught:
        parse_generic(payload, now=NOW)
    return caught.value


def test_example_payload_parses(example):
    alert = parse_generic(example, alert_id="a-1")
    assert alert == {
        "alert_id": "a-1",
        "source": "generic",
        "service": "frontend-api",
        "severity": "high",
        "message": "HTTP 5xx error rate > 10%",
        "labels": {"environment": "production", "region": "us-east-1"},
        "timestamp": "2026-03-08T15:30:00+00:00",
        "dedup_key": None,
        "status": "firing",
    }


def test_alert_id_is_generated_when_not_given(example):
    first, second = parse_generic(example), parse_generic(example)
    assert str(uuid.UUID(first["alert_id"])) == first["alert_id"]
    assert first["alert_id"] != second["alert_id"]


@pytest.mark.parametrize("field", REQUIRED)
def test_missing_required_field_is_named(example, field):
    del example[field]
    error = rejected(example)
    assert fields(error) == [field]
    assert field in str(error)


@settings(max_examples=30, deadline=None, database=None)
@given(st.sets(st.sampled_from(REQUIRED), min_size=1))
def test_every_missing_required_field_is_named(missing):
    payload = {k: v for k, v in minimal().items() if k not in missing}
    assert set(fields(rejected(payload))) == missing


@pytest.mark.parametrize("field", ["service", "message"])
@pytest.mark.parametrize("value", ["", "   ", None, 42, ["x"]])
def test_blank_or_wrong_type_text_field(field, value):
    assert fields(rejected(minimal(**{field: value}))) == [field]


def test_overlong_service():
    assert fields(rejected(minimal(service="s" * 201))) == ["service"]
    assert parse_generic(minimal(service="s" * 200), now=NOW)["service"] == "s" * 200


@pytest.mark.parametrize("value", ["urgent", "", "P0", None, 3, ["high"]])
def test_unknown_severity(value):
    error = rejected(minimal(severity=value))
    assert fields(error) == ["severity"]
    assert "unknown severity" in error.errors[0]["reason"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("CRITICAL", "critical"),
        (" Warning ", "medium"),
        ("P1", "critical"),
        ("error", "high"),
        ("info", "low"),
        ("sev3", "medium"),
    ],
)
def test_severity_synonyms_are_normalised(value, expected):
    assert parse_generic(minimal(severity=value), now=NOW)["severity"] == expected


@pytest.mark.parametrize("value", ["2026-03-08T15:30:00", "2026-03-08 15:30:00", "2026-03-08T15:30:00.123"])
def test_timestamp_without_offset_is_rejected(value):
    error = rejected(minimal(timestamp=value))
    assert fields(error) == ["timestamp"]
    assert "time zone offset" in error.errors[0]["reason"]


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", "", [2026]])
def test_timestamp_that_is_no_date(value):
    assert fields(rejected(minimal(timestamp=value))) == ["timestamp"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-08T15:30:00Z", "2026-03-08T15:30:00+00:00"),
        ("2026-03-08T17:30:00+02:00", "2026-03-08T15:30:00+00:00"),
        ("2026-03-08T10:30:00.250-05:00", "2026-03-08T15:30:00.250000+00:00"),
    ],
)
def test_timestamp_is_stored_in_utc(value, expected):
    assert parse_generic(minimal(timestamp=value), now=NOW)["timestamp"] == expected


def test_timestamp_defaults_to_the_given_now():
    assert parse_generic(minimal(), now=NOW)["timestamp"] == NOW.isoformat()
    paris = dt.timezone(dt.timedelta(hours=1))
    assert parse_generic(minimal(), now=NOW.astimezone(paris))["timestamp"] == NOW.isoformat()


def test_timestamp_defaults_to_the_current_time():
    before = dt.datetime.now(UTC)
    stamp = dt.datetime.fromisoformat(parse_generic(minimal())["timestamp"])
    after = dt.datetime.now(UTC)
    assert stamp.utcoffset() == dt.timedelta(0)
    assert before <= stamp <= after


def test_fingerprint_is_the_dedup_key():
    assert parse_generic(minimal(fingerprint="fp-1"), now=NOW)["dedup_key"] == "fp-1"


def test_dedup_key_wins_over_fingerprint():
    alert = parse_generic(minimal(dedup_key="dk", fingerprint="fp"), now=NOW)
    assert alert["dedup_key"] == "dk"
    assert "fingerprint" not in alert


def test_overlong_dedup_key():
    assert fields(rejected(minimal(dedup_key="k" * 501))) == ["dedup_key"]
    assert fields(rejected(minimal(fingerprint="k" * 501))) == ["fingerprint"]


def test_resolved_without_dedup_key_is_rejected():
    error = rejected(minimal(status="resolved"))
    assert fields(error) == ["dedup_key"]
    assert "resolved" in error.errors[0]["reason"]
    assert fields(rejected(minimal(status="resolved", dedup_key=""))) == ["dedup_key"]


@pytest.mark.parametrize("key", ["dedup_key", "fingerprint"])
def test_resolved_with_a_key(key):
    alert = parse_generic(minimal(status="resolved", **{key: "k-1"}), now=NOW)
    assert alert["status"] == "resolved"
    assert alert["dedup_key"] == "k-1"


@pytest.mark.parametrize("status", ["closed", "FIRING", "", None, 1])
def test_unknown_status(status):
    assert fields(rejected(minimal(status=status))) == ["status"]


@pytest.mark.parametrize("body", [None, [], [minimal()], "alert", 42, 1.5, True])
def test_body_must_be_an_object(body):
    error = rejected(body)
    assert error.errors == [{"field": "body", "reason": "must be a JSON object"}]


@pytest.mark.parametrize(
    ("labels", "field"),
    [
        ({"env": 1}, "labels.env"),
        ({"env": None}, "labels.env"),
        ({"env": {"nested": "x"}}, "labels.env"),
        ({"env": ["prod"]}, "labels.env"),
        ({"env": True}, "labels.env"),
        (["env=prod"], "labels"),
        ("env=prod", "labels"),
    ],
)
def test_labels_must_map_strings_to_strings(labels, field):
    assert fields(rejected(minimal(labels=labels))) == [field]


def test_labels_default_to_empty():
    assert parse_generic(minimal(), now=NOW)["labels"] == {}


def test_extra_keys_are_ignored():
    alert = parse_generic(
        minimal(runbook="https://example.com", source="prometheus", alert_id="evil", extra={}),
        alert_id="a-2",
        now=NOW,
    )
    assert set(alert) == RESULT_KEYS
    assert alert["source"] == "generic"
    assert alert["alert_id"] == "a-2"


def test_several_errors_are_all_reported():
    error = rejected({"severity": "urgent", "labels": {"a": 1}})
    assert set(fields(error)) == {"service", "message", "severity", "labels.a"}


printable = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40)


@settings(max_examples=100, deadline=None, database=None)
@given(
    service=printable,
    severity=st.sampled_from(SEVERITIES),
    message=printable,
    labels=st.dictionaries(printable, printable, max_size=4),
    timestamp=st.datetimes(
        dt.datetime(2000, 1, 1),
        dt.datetime(2100, 1, 1),
        timezones=st.builds(
            dt.timezone, st.integers(-14 * 60, 14 * 60).map(lambda minutes: dt.timedelta(minutes=minutes))
        ),
    ),
    key=st.one_of(st.none(), printable),
    status=st.sampled_from(["firing", "resolved"]),
)
def test_valid_payloads_round_trip(service, severity, message, labels, timestamp, key, status):
    payload = {
        "service": f" {service} ",
        "severity": severity.upper(),
        "message": message,
        "labels": labels,
        "timestamp": timestamp.isoformat(),
        "dedup_key": key,
        "status": status,
    }
    if status == "resolved" and key is None:
        assert fields(rejected(payload)) == ["dedup_key"]
        return
    alert = parse_generic(payload, alert_id="x", now=NOW)
    assert alert["service"] == service
    assert alert["severity"] == severity
    assert alert["message"] == message
    assert alert["labels"] == labels
    assert alert["dedup_key"] == key
    assert alert["status"] == status
    stored = dt.datetime.fromisoformat(alert["timestamp"])
    assert stored == timestamp
    assert stored.utcoffset() == dt.timedelta(0)
