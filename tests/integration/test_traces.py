"""One trace from the sender's request to the page, as a real OTLP receiver sees it.

The platform runs as processes exporting to a receiver on loopback that decodes the
protobuf; one alert that pages someone must leave one connected trace across the edge
and all four services, a batch span linked to it, and log records in the same trace.
"""

import json

import pytest
import requests

from tests.conftest import eventually
from tests.otlp_peer import otlp_receiver
from tests.platform import running_platform

pytestmark = pytest.mark.integration
SERVICES = {"klaxon-edge", "klaxon-alerts", "klaxon-incidents", "klaxon-oncall", "klaxon-notifications"}
ALERT = {"service": "checkout-api", "severity": "critical", "message": "traced: checkout is down"}


@pytest.fixture
def traced_platform(tmp_path):
    with otlp_receiver() as (endpoint, received):
        extra = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "OTEL_BLRP_SCHEDULE_DELAY": "100",
        }
        with running_platform(tmp_path, extra_env=extra) as platform:
            platform.wait_healthy()
            yield platform, received, tmp_path / "platform.log"


def test_one_alert_leaves_one_connected_trace_from_request_to_page(traced_platform):
    platform, received, log = traced_platform
    posted = platform.api.post(f"{platform.edge}/api/v1/alerts", json=ALERT, timeout=10)
    assert posted.status_code == 201, posted.text
    version, trace_id, _, _ = posted.headers["traceresponse"].split("-")
    assert version == "00" and len(trace_id) == 32
    incident_id = posted.json()["incident_id"]

    def page_delivered():
        # A parent span is exported when it ends, which may be after its children.
        spans = received.spans_of(trace_id)
        by_id = {span["span_id"]: span for span in spans}
        sends = [s for s in spans if s["name"].startswith("notifications.send")]
        return (spans, sends, by_id) if sends and arrived(parents_of(sends[0], by_id)) else None

    spans, sends, by_id = eventually(page_delivered, timeout=30)
    chain = parents_of(sends[0], by_id)
    assert arrived(chain), f"the parent of {chain[-1]['name']} never arrived"
    assert chain[-1]["service"] == "klaxon-edge" and chain[-1]["parent_span_id"] is None
    assert {span["service"] for span in chain} == SERVICES
    assert sends[0]["attributes"]["klaxon.incident_id"] == incident_id

    correlated = [s for s in spans if s["name"] == "incidents.correlate"]
    assert [s["attributes"]["klaxon.incident_id"] for s in correlated] == [incident_id]
    assert any(span["attributes"].get("klaxon.alert_id") for span in chain)
    # checkout-api belongs to the demo's platform-engineering team: the routing says so on its spans.
    assert {s["attributes"].get("klaxon.team") for s in spans} >= {"platform-engineering"}
    assert_batch_links_to(received, trace_id)
    assert_logs_in_trace(log, received, trace_id)
    assert_timeline_names(platform, incident_id, trace_id)
    assert_client_errors_are_info(platform, log)


def test_no_secret_of_a_request_url_reaches_a_span(traced_platform):
    platform, received, _ = traced_platform
    key = platform.integration_key(name="traced")
    posted = requests.post(f"{platform.edge}/api/v1/alerts?integration_key={key}", json=ALERT, timeout=10)
    assert posted.status_code == 201, posted.text
    calendar_secret = "calendar-secret-never-traced"
    requested = requests.get(f"{platform.edge}/api/v1/calendars/{calendar_secret}.ics", timeout=10)
    trace_ids = [answer.headers["traceresponse"].split("-")[1] for answer in (posted, requested)]

    def edge_spans():
        spans = [s for t in trace_ids for s in received.spans_of(t) if s["service"] == "klaxon-edge"]
        return (
            spans if {s["trace_id"] for s in spans if s["parent_span_id"] is None} == set(trace_ids) else None
        )

    roots = {s["trace_id"]: s for s in eventually(edge_spans, timeout=30) if s["parent_span_id"] is None}
    assert "integration_key=REDACTED" in roots[trace_ids[0]]["attributes"]["http.target"]
    assert roots[trace_ids[1]]["attributes"]["http.target"] == "/api/v1/calendars/{secret}.ics"
    exported = json.dumps(received.spans, default=str)
    assert key not in exported and calendar_secret not in exported


def parents_of(span, by_id):
    """`span` and its ancestors that have arrived, up to the root if it has."""
    chain = [span]
    while chain[-1]["parent_span_id"] in by_id:
        chain.append(by_id[chain[-1]["parent_span_id"]])
    return chain


def arrived(chain):
    """Whether the chain reaches its root (no span whose parent is missing)."""
    return chain[-1]["parent_span_id"] is None


def assert_batch_links_to(received, trace_id):
    """The queue consumer's batch span starts a trace of its own, linked to the alert's."""
    batches = [s for s in received.spans if s["name"] == "alerts.on_queued"]
    linked = [s for s in batches if trace_id in {linked_trace for linked_trace, _ in s["links"]}]
    assert linked, "no batch span links to the alert's trace"
    assert all(s["trace_id"] != trace_id for s in linked)


def assert_logs_in_trace(log, received, trace_id):
    def page_logged():
        return [r for r in received.logs if r["trace_id"] == trace_id and "traced: checkout" in r["body"]]

    [record] = eventually(page_logged, timeout=20)
    assert record["service"] == "klaxon-notifications"
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    printed = [line for line in lines if "traced: checkout" in line.get("message", "")]
    assert printed and all(line["trace_id"] == trace_id and line["span_id"] for line in printed)


def assert_timeline_names(platform, incident_id, trace_id):
    incident = platform.api.get(f"{platform.edge}/api/v1/incidents/{incident_id}", timeout=10).json()
    created = [entry for entry in incident["timeline"] if entry["kind"] == "created"]
    assert [entry["trace_id"] for entry in created] == [trace_id]


def assert_client_errors_are_info(platform, log):
    """A 404 answered by a service's worker is one info line, not an error with a traceback."""
    missing = platform.api.get(f"{platform.edge}/api/v1/incidents/987654", timeout=10)
    assert missing.status_code == 404

    def logged():
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        return [line for line in lines if "answered NotFound: incident 987654" in line["message"]]

    [line] = eventually(logged, timeout=10)
    assert line["level"] == "info" and "exception" not in line
    assert "Traceback" not in log.read_text()
