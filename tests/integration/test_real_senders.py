"""Real senders against the running platform: a Prometheus Alertmanager binary posting its
webhook, and PagerDuty's own Python client pointed at Klaxon by its base URL only (SPEC §1)."""

import datetime as dt
import shutil
import subprocess
import uuid
import warnings

import pytest
import requests

from tests.conftest import eventually
from tests.platform import free_port, running_platform

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pdpyras warns at import that `pagerduty` supersedes it
    import pdpyras

pytestmark = pytest.mark.integration
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
RESOLVED_NOTE = "every alert of this incident has resolved"

ALERTMANAGER_CONFIG = """\
route:
  receiver: klaxon
  group_by: [alertname, service]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: klaxon
    webhook_configs:
      - url: {edge}/api/v1/integrations/alertmanager
        send_resolved: true
"""


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    with running_platform(tmp_path_factory.mktemp("platform"), database="postgresql") as running:
        running.wait_healthy(timeout=60)
        yield running


@pytest.fixture
def alertmanager(platform, tmp_path):
    """A real Alertmanager, clustering off, whose only receiver is Klaxon's webhook; yields its URL."""
    if ALERTMANAGER is None:
        pytest.skip("prometheus-alertmanager is not installed (Debian package prometheus-alertmanager)")
    config = tmp_path / "alertmanager.yml"
    config.write_text(ALERTMANAGER_CONFIG.format(edge=platform.edge))
    (tmp_path / "storage").mkdir()
    port = free_port()
    log = open(tmp_path / "alertmanager.log", "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [
            ALERTMANAGER,
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'storage'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def ready():
        """Alertmanager answers /-/ready"""
        if process.poll() is not None:
            output = (tmp_path / "alertmanager.log").read_text()
            raise AssertionError(f"alertmanager exited with {process.returncode}: {output}")
        try:
            return requests.get(f"{url}/-/ready", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    try:
        eventually(ready, timeout=20)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def now():
    return dt.datetime.now(dt.UTC)


def iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def get(platform, url, **params):
    response = platform.api.get(url, params=params, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def originals(incident):
    """The alerts that fired into this incident: neither duplicates nor resolve events."""
    return [a for a in incident["alerts"] if a["duplicate_of"] is None and a["action"] != "resolved"]


def test_a_real_alertmanager_opens_one_incident_per_group_and_resolves_it(platform, alertmanager):
    service = f"checkout-{uuid.uuid4().hex[:8]}"
    alertname = "HighErrorRate"

    def alerts(ends_at):
        return [
            {
                "labels": {"alertname": alertname, "service": service, "severity": "critical", "instance": i},
                "annotations": {"summary": f"5xx rate above 10% on {i}"},
                "startsAt": iso(started),
                "endsAt": iso(ends_at),
            }
            for i in ("web-1:9100", "web-2:9100")
        ]

    started = now() - dt.timedelta(minutes=1)
    posted = requests.post(
        f"{alertmanager}/api/v2/alerts", json=alerts(started + dt.timedelta(hours=1)), timeout=10
    )
    assert posted.status_code == 200, posted.text
    fingerprints = {
        alert["labels"]["instance"]: alert["fingerprint"]
        for alert in get(platform, f"{alertmanager}/api/v2/alerts", filter=f'service="{service}"')
    }
    assert len(fingerprints) == 2

    def one_incident_with_both_alerts():
        """one incident for the service, holding both of Alertmanager's alerts"""
        incidents = get(platform, f"{platform.edge}/api/v1/incidents", service=service)["items"]
        if len(incidents) != 1:
            return None
        incident = get(platform, f"{platform.edge}/api/v1/incidents/{incidents[0]['id']}")
        # The edge reads the incident, then its alerts: wait for both reads to agree.
        return incident if len(originals(incident)) == 2 and incident["alert_count"] == 2 else None

    incident = eventually(one_incident_with_both_alerts, timeout=20)
    assert incident["status"] == "open", incident
    assert incident["alert_count"] == 2, incident
    assert incident["severity"] == "critical"
    fired = originals(incident)
    assert {a["dedup_key"] for a in fired} == set(fingerprints.values())
    assert {a["source"] for a in fired} == {"alertmanager"}
    assert {a["status"] for a in fired} == {"firing"}
    assert {a["labels"]["instance"]: a["dedup_key"] for a in fired} == fingerprints

    resolved_at = now()  # endsAt reached: Alertmanager sends the group as resolved
    posted = requests.post(f"{alertmanager}/api/v2/alerts", json=alerts(resolved_at), timeout=10)
    assert posted.status_code == 200, posted.text

    def resolved():
        """the incident resolved once both alerts did"""
        current = get(platform, f"{platform.edge}/api/v1/incidents/{incident['id']}")
        return current if current["status"] == "resolved" else None

    final = eventually(resolved, timeout=20)
    assert RESOLVED_NOTE in [note["note"] for note in final["notes"]]
    assert final["resolved_at"] is not None
    for fired_alert in fired:
        alert = get(platform, f"{platform.edge}/api/v1/alerts/{fired_alert['alert_id']}")
        assert alert["status"] == "resolved" and alert["resolved_at"] is not None
        assert alert["incident_id"] == incident["id"]
    # Still one incident: Alertmanager's resolved notification opened nothing new.
    assert len(get(platform, f"{platform.edge}/api/v1/incidents", service=service)["items"]) == 1


def test_pagerduty_python_client_pointed_at_klaxon_by_base_url(platform):
    created = platform.api.post(
        f"{platform.edge}/api/v1/integrations",
        json={"name": f"pdpyras-{uuid.uuid4().hex[:8]}", "kind": "pagerduty"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    session = pdpyras.EventsAPISession(created.json()["key"])
    session.url = platform.edge  # the only change from talking to PagerDuty itself
    service = f"payments-{uuid.uuid4().hex[:8]}"
    dedup_key = f"disk-full-{uuid.uuid4().hex[:8]}"

    assert (
        session.trigger("Disk 95% full on db-1", service, dedup_key=dedup_key, severity="critical")
        == dedup_key
    )

    def alert_with_incident():
        """the triggered alert, correlated into an incident"""
        items = get(platform, f"{platform.edge}/api/v1/alerts", dedup_key=dedup_key)["items"]
        return items[0] if len(items) == 1 and items[0]["incident_id"] else None

    alert = eventually(alert_with_incident, timeout=20)
    assert (alert["source"], alert["service"], alert["severity"]) == ("pagerduty", service, "critical")
    assert alert["message"] == "Disk 95% full on db-1"
    assert alert["integration_id"] == created.json()["id"]
    incident_url = f"{platform.edge}/api/v1/incidents/{alert['incident_id']}"
    assert get(platform, incident_url)["status"] == "open"

    def status_is(expected):
        def check():
            incident = get(platform, incident_url)
            return incident if incident["status"] == expected else None

        check.__doc__ = f"the incident is {expected}"
        return check

    assert session.acknowledge(dedup_key) == dedup_key
    acknowledged = eventually(status_is("acknowledged"), timeout=20)
    assert acknowledged["acknowledged_at"] is not None

    assert session.resolve(dedup_key) == dedup_key
    resolved = eventually(status_is("resolved"), timeout=20)
    assert RESOLVED_NOTE in [note["note"] for note in resolved["notes"]]
    assert get(platform, f"{platform.edge}/api/v1/alerts/{alert['alert_id']}")["status"] == "resolved"

    # Without a dedup_key the client gets back the one Klaxon made, and it names the alert.
    generated = session.trigger("Replication lag above 30s", service, severity="warning")
    assert generated

    def generated_alert():
        """an alert under the generated dedup key"""
        items = get(platform, f"{platform.edge}/api/v1/alerts", dedup_key=generated)["items"]
        return items[0] if items and items[0]["incident_id"] else None

    assert eventually(generated_alert, timeout=20)["severity"] == "medium"
