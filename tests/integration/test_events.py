"""The console's live stream on the platform as processes: an alert posted by API reaches
an open /api/v1/events stream as the incident it opened, and so does its acknowledgement."""

import json
import time

import pytest
import requests

from tests.platform import running_platform

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    with running_platform(tmp_path_factory.mktemp("events")) as running:
        running.wait_healthy(timeout=90)
        yield running


def events_of(stream):
    """The events of an open stream, as dicts, read as they come."""
    kind = None
    for line in stream.iter_lines(chunk_size=1, decode_unicode=True):  # no waiting for a full chunk
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            yield {**json.loads(line[6:]), "event": kind}


def first(events, wanted, within=15):
    """The first event of `events` that is `wanted`; keepalives every 15 s bound each wait."""
    deadline, seen = time.monotonic() + within, []
    for event in events:
        if wanted(event):
            return event
        seen.append(event)
        if time.monotonic() > deadline:
            break
    raise AssertionError(f"no such event within {within}s; the stream had {seen}")


def test_the_stream_needs_credentials(platform):
    assert requests.get(f"{platform.edge}/api/v1/events", timeout=10).status_code == 401


def test_a_new_incident_and_its_acknowledgement_are_pushed(platform):
    with platform.api.get(f"{platform.edge}/api/v1/events", stream=True, timeout=(5, 20)) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = events_of(stream)
        alert = {"service": "frontend-api", "severity": "critical", "message": "<b>not markup</b>"}
        posted = requests.post(f"{platform.edge}/api/v1/alerts", json=alert, timeout=10).json()
        incident_id = posted["incident_id"]
        opened = first(events, lambda e: e["event"] == "incident_opened" and e["incident_id"] == incident_id)
        assert "not markup" not in json.dumps(opened), "events carry ids, never alert text"
        changed = platform.api.patch(
            f"{platform.edge}/api/v1/incidents/{incident_id}", json={"status": "acknowledged"}, timeout=10
        )
        assert changed.status_code == 200
        acknowledged = first(events, lambda e: e["event"] == "incident_acknowledged")
        assert acknowledged["incident_id"] == incident_id
        last_id = acknowledged["id"]

    # Reconnecting with the last id seen gets a replay or a reset, never silence about a gap.
    headers = {"Last-Event-ID": last_id}
    with platform.api.get(
        f"{platform.edge}/api/v1/events", stream=True, timeout=(5, 20), headers=headers
    ) as again:
        note = platform.api.patch(
            f"{platform.edge}/api/v1/incidents/{incident_id}", json={"note": "looking"}, timeout=10
        )
        assert note.status_code == 200
        # A replay may first repeat what followed the acknowledgement; the note must come.
        noted = first(events_of(again), lambda e: e["event"] == "reset" or "note" in e.get("changed", ()))
        assert noted["event"] == "reset" or noted["incident_id"] == incident_id


def test_analytics_count_what_happened_and_who_was_paged(platform):
    alert = {"service": "analytics-api", "severity": "high", "message": "latency"}
    incident_id = requests.post(f"{platform.edge}/api/v1/alerts", json=alert, timeout=10).json()[
        "incident_id"
    ]
    url = f"{platform.edge}/api/v1/incidents/{incident_id}"
    assert platform.api.patch(url, json={"status": "acknowledged"}, timeout=10).status_code == 200

    def figures():
        answer = platform.api.get(
            f"{platform.edge}/api/v1/analytics", params={"service": "analytics-api"}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    found = figures()
    assert found["opened"] == 1 and found["mtta_seconds"] is not None
    assert found["by_service"] == [{"service": "analytics-api", "opened": 1}]
    assert sum(day["acknowledged"] for day in found["daily"]) == 1
    bad = platform.api.get(f"{platform.edge}/api/v1/analytics", params={"since": "yesterday"}, timeout=10)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "since"
    assert requests.get(f"{platform.edge}/api/v1/analytics", timeout=10).status_code == 401
