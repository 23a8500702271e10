"""services/alerts/formats/grafana.py: Grafana Alerting's webhook."""

import copy
import datetime as dt
import json

import pytest

from services.alerts.formats.generic import parse_generic
from services.alerts.formats.grafana import parse_grafana
from services.shared.errors import ValidationFailed

NOW = dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)


@pytest.fixture
def example(example_payload):
    return example_payload("grafana-alerting-webhook.json")


def first_alert(payload, **kwargs):
    return parse_grafana(payload, now=NOW, **kwargs)["alerts"][0]


def test_example(example):
    result = parse_grafana(example, now=NOW)
    assert result["group_key"] == example["groupKey"] == '{}:{alertname="DiskAlmostFull"}'
    assert result["receiver"] == "incident-platform"
    assert result["truncated_alerts"] == 0
    (found,) = result["alerts"]
    assert found["source"] == "grafana"
    assert found["dedup_key"] == "9a1f0c2e7d3b4a58"
    assert found["service"] == "storage-node"
    assert found["severity"] == "medium"
    assert found["status"] == "firing"
    assert found["message"] == "Disk usage above 90% on storage-node-3"
    assert found["timestamp"] == "2026-11-20T05:00:00+00:00"
    assert found["group_key"] == example["groupKey"]
    assert found["labels"] == example["alerts"][0]["labels"]


def test_example_details(example):
    details = first_alert(example)["details"]
    assert details == {
        "annotations": {"summary": "Disk usage above 90% on storage-node-3"},
        "generatorURL": "https://grafana.example.internal/alerting/grafana/abc123/view",
        "externalURL": "https://grafana.example.internal/",
        "silenceURL": "https://grafana.example.internal/alerting/silence/new?matcher=alertname%3DDiskAlmostFull",
        "valueString": "[ var='B' labels={} value=91.7 ]",
        "values": {"B": 91.7},
    }
    assert "dashboardURL" not in details and "panelURL" not in details  # empty in the example
    json.dumps(details)


def test_example_passes_the_generic_check_again(example):
    found = first_alert(example)
    again = parse_generic(found, alert_id=found["alert_id"])
    assert again == {key: found[key] for key in again} | {"source": "generic"}


def test_non_empty_dashboard_and_panel_links_are_kept(example):
    raw = example["alerts"][0]
    raw["dashboardURL"] = "https://grafana.example.internal/d/disk"
    raw["panelURL"] = "https://grafana.example.internal/d/disk?viewPanel=2"
    details = first_alert(example)["details"]
    assert details["dashboardURL"] == "https://grafana.example.internal/d/disk"
    assert details["panelURL"] == "https://grafana.example.internal/d/disk?viewPanel=2"


@pytest.mark.parametrize("values", [None, {}, "n/a"])
def test_values_may_be_null(example, values):
    example["alerts"][0]["values"] = values
    found = first_alert(example)
    assert "values" not in found["details"]
    assert found["dedup_key"] == "9a1f0c2e7d3b4a58"


def test_missing_grafana_keys(example):
    raw = example["alerts"][0]
    for key in ("silenceURL", "dashboardURL", "panelURL", "values", "valueString"):
        del raw[key]
    assert set(first_alert(example)["details"]) == {"annotations", "generatorURL", "externalURL"}


def test_grafana_and_unknown_top_level_keys_are_ignored(example):
    plain = copy.deepcopy(example)
    for key in ("orgId", "title", "state", "message"):
        del plain[key]
    example["somethingNew"] = [1]
    assert without_ids(parse_grafana(example, now=NOW)) == without_ids(parse_grafana(plain, now=NOW))


def without_ids(result):
    return [{key: value for key, value in found.items() if key != "alert_id"} for found in result["alerts"]]


def test_resolved(example):
    raw = example["alerts"][0]
    raw.update(status="resolved", endsAt="2026-11-20T05:20:00Z")
    found = first_alert(example)
    assert (found["status"], found["timestamp"]) == ("resolved", "2026-11-20T05:20:00+00:00")


def test_default_service(example):
    raw = example["alerts"][0]
    del raw["labels"]["service"]
    del example["commonLabels"]["service"]
    assert first_alert(example, default_service="disks")["service"] == "disks"


def test_errors_name_their_field(example):
    example["alerts"][0]["startsAt"] = "not a time"
    with pytest.raises(ValidationFailed) as caught:
        parse_grafana(example, now=NOW)
    assert [error["field"] for error in caught.value.errors] == ["alerts[0].startsAt"]


def test_legacy_grafana_payload_without_alerts_is_refused():
    legacy = {"title": "[Alerting] x", "ruleName": "x", "state": "alerting", "evalMatches": []}
    with pytest.raises(ValidationFailed) as caught:
        parse_grafana(legacy, now=NOW)
    assert caught.value.errors == [{"field": "alerts", "reason": "is required"}]
