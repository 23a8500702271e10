"""The dead man's switch: a real Prometheus fires an always-firing `Watchdog` rule, a real
Alertmanager posts it every couple of seconds to a Klaxon heartbeat monitor's beat URL
(with the monitor's key as its bearer), and once Alertmanager is gone the monitor's silence
opens an incident for its service. Time moves through KLAXON_CLOCK_OFFSET_FILE."""

import uuid

import pytest
import yaml

from tests.conftest import eventually
from tests.integration.test_dogfood_paging import ALERTMANAGER, PROMETHEUS, binary
from tests.integration.test_maintenance_replay import call, incidents_of, two_alerts_replicas
from tests.platform import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def cluster(tmp_path):
    if PROMETHEUS is None or ALERTMANAGER is None:
        pytest.skip("needs the prometheus and prometheus-alertmanager binaries (Debian packages)")
    with two_alerts_replicas(tmp_path) as processes:
        yield processes


def watchdog_rules():
    rule = {"alert": "Watchdog", "expr": "vector(1)", "labels": {"severity": "none"}}
    return {"groups": [{"name": "watchdog", "rules": [rule]}]}


def prometheus_config(rules_file, alertmanager):
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules_file)],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
        "scrape_configs": [],
    }


def alertmanager_config(beat_url, key):
    """Watchdog to the monitor's beat URL, again every 2 s; everything else nowhere."""
    webhook = {
        "url": beat_url,
        "send_resolved": False,
        "http_config": {"authorization": {"type": "Bearer", "credentials": key}},
    }
    return {
        "route": {
            "receiver": "null",
            "group_by": ["alertname"],
            "group_wait": "0s",
            "group_interval": "1s",
            "repeat_interval": "2s",
            "routes": [
                {
                    "matchers": ['alertname="Watchdog"'],
                    "receiver": "klaxon-heartbeat",
                    "group_wait": "0s",
                    "group_interval": "1s",
                    "repeat_interval": "2s",
                }
            ],
        },
        "receivers": [{"name": "null"}, {"name": "klaxon-heartbeat", "webhook_configs": [webhook]}],
    }


def monitor_of(cluster, monitor_id):
    return call(cluster, "GET", f"/api/v1/heartbeats/{monitor_id}")


def test_alertmanager_going_silent_opens_the_heartbeat_incident(cluster, tmp_path):
    run = uuid.uuid4().hex[:8]
    service = f"monitoring-{run}"
    body = {"name": f"watchdog-{run}", "service": service, "interval_seconds": 10, "grace_seconds": 5}
    monitor = call(cluster, "POST", "/api/v1/heartbeats", 201, json=body)
    beat_url = f"{cluster.url('edge')}/api/v1/heartbeats/{monitor['id']}/beat"

    am_port, prom_port = free_port(), free_port()
    am_dir, prom_dir = tmp_path / "alertmanager", tmp_path / "prometheus"
    am_dir.mkdir()
    prom_dir.mkdir()
    (am_dir / "alertmanager.yml").write_text(yaml.safe_dump(alertmanager_config(beat_url, monitor["key"])))
    (prom_dir / "rules.yml").write_text(yaml.safe_dump(watchdog_rules()))
    config = prometheus_config(prom_dir / "rules.yml", f"127.0.0.1:{am_port}")
    (prom_dir / "prometheus.yml").write_text(yaml.safe_dump(config))
    am_args = [
        ALERTMANAGER,
        f"--config.file={am_dir / 'alertmanager.yml'}",
        f"--storage.path={am_dir}",
        f"--web.listen-address=127.0.0.1:{am_port}",
        "--cluster.listen-address=",
    ]
    prom_args = [
        PROMETHEUS,
        f"--config.file={prom_dir / 'prometheus.yml'}",
        f"--storage.tsdb.path={prom_dir / 'data'}",
        f"--web.listen-address=127.0.0.1:{prom_port}",
        # Prometheus starts first (Alertmanager is the one stopped), so its first send may
        # find no Alertmanager yet: resend every second, not after the default minute.
        "--rules.alert.resend-delay=1s",
    ]
    with binary(tmp_path, "prometheus", prom_args, f"http://127.0.0.1:{prom_port}"):
        with binary(tmp_path, "alertmanager", am_args, f"http://127.0.0.1:{am_port}"):
            seen = set()

            def beats_arrive():
                """Alertmanager's Watchdog notifications beat the monitor, repeatedly"""
                last = monitor_of(cluster, monitor["id"])["last_beat_at"]
                if last is not None:
                    seen.add(last)
                return len(seen) >= 2

            eventually(beats_arrive, timeout=45)
            current = monitor_of(cluster, monitor["id"])
            assert current["state"] == "up"
            assert incidents_of(cluster, service) == []
        # Alertmanager is stopped (terminated and waited for): no beat comes any more.
        last_beat = monitor_of(cluster, monitor["id"])["last_beat_at"]
        cluster.move(60)  # well past interval + grace (15 s)

        def opened():
            """the silence opened an incident for the monitor's service"""
            return incidents_of(cluster, service, status="open")

        [incident] = eventually(opened, timeout=30)
    detail = call(cluster, "GET", f"/api/v1/incidents/{incident['id']}")
    [alert] = detail["alerts"]
    assert alert["source"] == "heartbeat" and alert["dedup_key"] == f"heartbeat:{monitor['id']}"
    assert incident["severity"] == "critical", "a monitor's default severity"
    down = monitor_of(cluster, monitor["id"])
    assert down["state"] == "down" and down["last_beat_at"] == last_beat
