"""services/alerts/formats/alertmanager.py: Alertmanager's webhook v4."""

import copy
import datetime as dt
import hashlib
import json
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.alerts.formats.alertmanager import parse_alertmanager
from services.alerts.formats.generic import parse_generic
from services.shared.errors import ValidationFailed

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
GROUP_KEY = '{}/{team="platform"}:{alertname="HighErrorRate", service="checkout-api"}'
ALERT_KEYS = {
    "alert_id",
    "source",
    "service",
    "severity",
    "message",
    "labels",
    "timestamp",
    "dedup_key",
    "status",
    "group_key",
    "details",
}


@pytest.fixture
def firing(example_payload):
    return example_payload("alertmanager-webhook-firing.json")


@pytest.fixture
def resolved(example_payload):
    return example_payload("alertmanager-webhook-resolved.json")


def webhook(*alerts, **extra):
    payload = {"version": "4", "status": "firing", "alerts": list(alerts)}
    payload.update(extra)
    return payload


def alert(**extra):
    raw = {
        "status": "firing",
        "labels": {"alertname": "Down", "service": "api", "severity": "critical"},
        "annotations": {"summary": "api is down"},
        "startsAt": "2026-11-20T03:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": "0123456789abcdef",
    }
    raw.update(extra)
    return raw


def only(payload, **kwargs):
    """The single alert `payload` gives."""
    (found,) = parse_alertmanager(payload, now=NOW, **kwargs)["alerts"]
    return found


def without_ids(result):
    return [{k: v for k, v in found.items() if k != "alert_id"} for found in result["alerts"]]


def error_fields(payload):
    with pytest.raises(ValidationFailed) as caught:
        parse_alertmanager(payload, now=NOW)
    return [error["field"] for error in caught.value.errors]


# The examples


def test_firing_example(firing):
    result = parse_alertmanager(firing, now=NOW)
    assert result["group_key"] == firing["groupKey"] == GROUP_KEY
    assert result["truncated_alerts"] == 0
    assert result["receiver"] == "incident-platform"
    first, second = result["alerts"]
    assert [first["dedup_key"], second["dedup_key"]] == ["b5c1d3e0a9f27c41", "0e77a2c4d18b9f55"]
    for found, raw in zip(result["alerts"], firing["alerts"], strict=True):
        assert set(found) == ALERT_KEYS
        assert found["source"] == "alertmanager"
        assert found["service"] == "checkout-api"
        assert found["severity"] == "critical"
        assert found["status"] == "firing"
        assert found["message"] == "checkout-api 5xx ratio above 5%"
        assert found["labels"] == raw["labels"]
        assert found["group_key"] == GROUP_KEY
        assert uuid.UUID(found["alert_id"]).version == 4
    assert first["timestamp"] == "2026-11-20T03:12:45.123000+00:00"
    assert second["timestamp"] == "2026-11-20T03:13:01.004000+00:00"
    assert first["labels"]["instance"] == "checkout-1:8080"
    assert first["alert_id"] != second["alert_id"]


def test_firing_example_details(firing):
    first = parse_alertmanager(firing, now=NOW)["alerts"][0]
    assert first["details"] == {
        "annotations": {
            "summary": "checkout-api 5xx ratio above 5%",
            "description": "5xx ratio is 7.2% on checkout-1",
            "runbook_url": "https://runbooks.example.internal/checkout/5xx",
        },
        "generatorURL": "http://prometheus.example.internal:9090/graph?g0.expr=job%3Ahttp_5xx%3Aratio5m+%3E+0.05",
        "externalURL": "http://alertmanager.example.internal:9093",
    }
    json.dumps(first["details"])


def test_resolved_example(resolved):
    result = parse_alertmanager(resolved, now=NOW)
    assert [found["status"] for found in result["alerts"]] == ["resolved", "resolved"]
    assert [found["timestamp"] for found in result["alerts"]] == [
        "2026-11-20T03:41:10+00:00",
        "2026-11-20T03:40:55+00:00",
    ]
    assert [found["dedup_key"] for found in result["alerts"]] == ["b5c1d3e0a9f27c41", "0e77a2c4d18b9f55"]
    assert result["group_key"] == resolved["groupKey"]


def test_examples_pass_the_generic_check_again(firing, resolved):
    # The alerts service re-validates every alert with parse_generic (ingest.normalise),
    # which keeps its id and carries its source, group_key and details over.
    for payload in (firing, resolved):
        for found in parse_alertmanager(payload, now=NOW)["alerts"]:
            again = parse_generic(found, alert_id=found["alert_id"])
            assert again == {key: found[key] for key in again} | {"source": "generic"}


# Tolerance


def test_unknown_keys_anywhere_are_ignored(firing):
    noisy = copy.deepcopy(firing)
    noisy["version"] = "5"
    noisy["brandNewField"] = {"nested": [1, 2]}
    for raw in noisy["alerts"]:
        raw["someFutureKey"] = "x"
        raw["silencedBy"] = ["abc"]
    assert without_ids(parse_alertmanager(noisy, now=NOW)) == without_ids(parse_alertmanager(firing, now=NOW))


@pytest.mark.parametrize("version", ["4", "3", "5", 4, None])
def test_any_version_is_parsed(version):
    assert only(webhook(alert(), version=version))["dedup_key"] == "0123456789abcdef"


def test_missing_version_is_parsed():
    payload = webhook(alert())
    del payload["version"]
    assert only(payload)["service"] == "api"


def test_empty_alerts_list_is_valid():
    result = parse_alertmanager(webhook(groupKey="{}:{}", receiver="r"), now=NOW)
    assert result == {"alerts": [], "group_key": "{}:{}", "truncated_alerts": 0, "receiver": "r"}


def test_without_group_key_or_receiver():
    result = parse_alertmanager(webhook(alert()), now=NOW)
    assert result["group_key"] is None
    assert result["receiver"] is None
    assert result["alerts"][0]["group_key"] is None


def test_truncated_alerts_is_passed_on():
    assert parse_alertmanager(webhook(alert(), truncatedAlerts=7), now=NOW)["truncated_alerts"] == 7


@pytest.mark.parametrize("value", [None, "many", -1, True])
def test_odd_truncated_alerts_count_as_zero(value):
    assert parse_alertmanager(webhook(alert(), truncatedAlerts=value), now=NOW)["truncated_alerts"] == 0


# Errors name their field


@pytest.mark.parametrize("body", [[], "alerts", 42, None])
def test_body_must_be_an_object(body):
    assert error_fields(body) == ["body"]


def test_alerts_is_required():
    with pytest.raises(ValidationFailed) as caught:
        parse_alertmanager({"version": "4", "status": "firing"}, now=NOW)
    assert caught.value.errors == [{"field": "alerts", "reason": "is required"}]


@pytest.mark.parametrize("alerts", [{}, "x", 3])
def test_alerts_must_be_a_list(alerts):
    with pytest.raises(ValidationFailed) as caught:
        parse_alertmanager({"alerts": alerts}, now=NOW)
    assert caught.value.errors == [{"field": "alerts", "reason": "must be a list"}]


def test_an_alert_that_is_not_an_object_is_named_by_index():
    assert error_fields(webhook(alert(), alert(), alert(), "oops")) == ["alerts[3]"]


def test_unparseable_starts_at():
    with pytest.raises(ValidationFailed) as caught:
        parse_alertmanager(webhook(alert(startsAt="yesterday")), now=NOW)
    (error,) = caught.value.errors
    assert error["field"] == "alerts[0].startsAt"
    assert "yesterday" in error["reason"]


def test_unparseable_starts_at_of_a_resolved_alert():
    bad = alert(status="resolved", startsAt=12, endsAt="2026-11-20T04:00:00Z")
    assert error_fields(webhook(bad)) == ["alerts[0].startsAt"]


def test_unparseable_ends_at_of_a_resolved_alert():
    assert error_fields(webhook(alert(status="resolved", endsAt="soon"))) == ["alerts[0].endsAt"]


def test_ends_at_of_a_firing_alert_is_not_used():
    assert only(webhook(alert(endsAt="soon")))["timestamp"] == "2026-11-20T03:00:00+00:00"


@pytest.mark.parametrize("key", ["labels", "annotations"])
def test_labels_and_annotations_must_be_objects(key):
    assert error_fields(webhook(alert(**{key: ["a"]}))) == [f"alerts[0].{key}"]


def test_unknown_status():
    with pytest.raises(ValidationFailed) as caught:
        parse_alertmanager(webhook(alert(status="pending")), now=NOW)
    assert caught.value.errors == [{"field": "alerts[0].status", "reason": "must be one of firing, resolved"}]


def test_every_bad_alert_is_named():
    payload = webhook(alert(), 1, alert(startsAt="x"), alert(labels="y"))
    assert error_fields(payload) == ["alerts[1]", "alerts[2].startsAt", "alerts[3].labels"]


def test_too_long_fingerprint():
    assert error_fields(webhook(alert(fingerprint="f" * 501))) == ["alerts[0].fingerprint"]


# Fields, one by one


@pytest.mark.parametrize(
    ("labels", "common", "default", "expected"),
    [
        ({"service": "a", "job": "j"}, {"service": "c"}, "d", "a"),
        ({"job": "j"}, {"service": "c"}, "d", "c"),
        ({"job": "j"}, {}, "d", "j"),
        ({}, {}, "d", "d"),
        ({}, {}, None, "unknown"),
        ({"service": "  ", "job": ""}, {"service": ""}, "  ", "unknown"),
    ],
)
def test_service_fallbacks(labels, common, default, expected):
    payload = webhook(alert(labels=labels), commonLabels=common)
    assert only(payload, default_service=default)["service"] == expected


def test_long_service_is_cut_to_what_the_store_holds():
    assert only(webhook(alert(labels={"service": "s" * 300})))["service"] == "s" * 200


@pytest.mark.parametrize(
    ("severity", "expected"),
    [("critical", "critical"), ("warning", "medium"), ("ERROR", "high"), ("info", "low"), ("P1", "critical")],
)
def test_severity_is_normalised(severity, expected):
    assert only(webhook(alert(labels={"severity": severity})))["severity"] == expected


def test_severity_from_common_labels():
    payload = webhook(alert(labels={"alertname": "x"}), commonLabels={"severity": "low"})
    assert only(payload)["severity"] == "low"


def test_alert_severity_wins_over_common_labels():
    payload = webhook(alert(labels={"severity": "info"}), commonLabels={"severity": "critical"})
    assert only(payload)["severity"] == "low"


def test_missing_severity_is_high():
    assert only(webhook(alert(labels={"alertname": "x"})))["severity"] == "high"


def test_unknown_severity_is_high_and_kept_in_labels():
    found = only(webhook(alert(labels={"severity": "sev-purple"})))
    assert found["severity"] == "high"
    assert found["labels"]["severity"] == "sev-purple"


@pytest.mark.parametrize(
    ("annotations", "labels", "expected"),
    [
        ({"summary": "S", "description": "D"}, {"alertname": "A"}, "S"),
        ({"description": "D"}, {"alertname": "A"}, "D"),
        ({"summary": " ", "description": ""}, {"alertname": "A"}, "A"),
        ({}, {}, "alert"),
    ],
)
def test_message_fallbacks(annotations, labels, expected):
    assert only(webhook(alert(annotations=annotations, labels=labels)))["message"] == expected


def test_labels_values_become_text():
    labels = {"alertname": "x", "port": 8080, "ratio": 0.5, "on": True, "none": None}
    found = only(webhook(alert(labels=labels)))
    assert found["labels"] == {"alertname": "x", "port": "8080", "ratio": "0.5", "on": "true", "none": ""}


def test_missing_labels_and_annotations():
    raw = alert()
    del raw["labels"], raw["annotations"]
    found = only(webhook(raw))
    assert (found["labels"], found["message"], found["service"]) == ({}, "alert", "unknown")


def test_status_comes_from_each_alert():
    payload = webhook(alert(), alert(status="resolved", endsAt="2026-11-20T04:00:00Z"), status="firing")
    assert [found["status"] for found in parse_alertmanager(payload, now=NOW)["alerts"]] == [
        "firing",
        "resolved",
    ]


def test_status_falls_back_to_the_payload():
    raw = alert(endsAt="2026-11-20T04:00:00Z")
    del raw["status"]
    assert only(webhook(raw, status="resolved"))["status"] == "resolved"


# Timestamps


@pytest.mark.parametrize("ends", ["0001-01-01T00:00:00Z", None, ""])
def test_resolved_without_ends_at_uses_starts_at(ends):
    raw = alert(status="resolved", endsAt=ends)
    assert only(webhook(raw))["timestamp"] == "2026-11-20T03:00:00+00:00"


@pytest.mark.parametrize("starts", ["0001-01-01T00:00:00Z", None])
def test_without_any_time_uses_now(starts):
    raw = alert(status="resolved", startsAt=starts, endsAt="0001-01-01T00:00:00Z")
    assert only(webhook(raw))["timestamp"] == NOW.isoformat()
    assert only(webhook(alert(startsAt=starts)))["timestamp"] == NOW.isoformat()


def test_without_now_uses_the_clock():
    before = dt.datetime.now(UTC)
    found = parse_alertmanager(webhook(alert(startsAt=None)))["alerts"][0]
    assert before <= dt.datetime.fromisoformat(found["timestamp"]) <= dt.datetime.now(UTC)


def test_times_are_utc():
    found = only(webhook(alert(startsAt="2026-11-20T05:00:00.5+02:00")))
    assert found["timestamp"] == "2026-11-20T03:00:00.500000+00:00"


def test_nanoseconds_from_go_are_read():
    found = only(webhook(alert(startsAt="2026-11-20T03:00:00.123456789Z")))
    assert found["timestamp"] == "2026-11-20T03:00:00.123456+00:00"


def test_time_without_offset_is_utc():
    assert only(webhook(alert(startsAt="2026-11-20T03:00:00")))["timestamp"] == "2026-11-20T03:00:00+00:00"


# Dedup key without a fingerprint


def expected_fingerprint(labels):
    canonical = json.dumps(sorted(labels.items()), separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def test_missing_fingerprint_is_a_hash_of_the_sorted_labels():
    raw = alert(labels={"b": "2", "a": "1"})
    del raw["fingerprint"]
    key = only(webhook(raw))["dedup_key"]
    assert key == expected_fingerprint({"a": "1", "b": "2"})
    assert len(key) == 16
    int(key, 16)


def test_hash_ignores_label_order_and_tells_labels_apart():
    one = alert(labels={"a": "1", "b": "2"}, fingerprint="")
    same = alert(labels={"b": "2", "a": "1"}, fingerprint=None)
    other = alert(labels={"a": "1", "b": "3"}, fingerprint=None)
    keys = [found["dedup_key"] for found in parse_alertmanager(webhook(one, same, other), now=NOW)["alerts"]]
    assert keys[0] == keys[1] != keys[2]


# Details


def test_empty_details_are_omitted():
    raw = alert(annotations={}, generatorURL="")
    assert only(webhook(raw))["details"] == {}
    assert only(webhook(raw, externalURL="http://am:9093"))["details"] == {"externalURL": "http://am:9093"}


def test_group_key_is_on_every_alert():
    result = parse_alertmanager(webhook(alert(), alert(fingerprint="x"), groupKey="g"), now=NOW)
    assert [found["group_key"] for found in result["alerts"]] == ["g", "g"]


# Any payload of the right shape


label_maps = st.dictionaries(
    st.text(min_size=1, max_size=10),
    st.one_of(st.text(max_size=20), st.integers(), st.none(), st.booleans()),
    max_size=6,
)


@settings(max_examples=100, deadline=None, database=None)
@given(labels=label_maps, annotations=label_maps, status=st.sampled_from(["firing", "resolved"]))
def test_any_labels_give_an_alert_the_store_accepts(labels, annotations, status):
    raw = {"status": status, "labels": labels, "annotations": annotations, "startsAt": "2026-11-20T03:00:00Z"}
    found = only(webhook(raw))
    assert set(found) == ALERT_KEYS
    assert all(isinstance(value, str) for value in found["labels"].values())
    assert found["dedup_key"] == expected_fingerprint(found["labels"])
    json.dumps(found)
    again = parse_generic(found, alert_id=found["alert_id"])
    assert (again["service"], again["severity"], again["status"]) == (
        found["service"].strip(),
        found["severity"],
        status,
    )
