"""Klaxon watches itself: a real Prometheus scrapes the platform's processes and evaluates
Klaxon's own KlaxonServiceDown rule (observability/prometheus/rules/klaxon.yml), a real
Alertmanager with Klaxon's own routing (observability/alertmanager/alertmanager.yml) posts
it to the edge, and the demo team `platform` is paged when one Klaxon process dies."""

import contextlib
import shutil
import signal
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import yaml

from tests.conftest import eventually
from tests.platform import free_port, platform_processes

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "observability" / "prometheus" / "rules" / "klaxon.yml"
PROMETHEUS_CONFIG = ROOT / "observability" / "prometheus" / "prometheus.yml"
ALERTMANAGER_CONFIG = ROOT / "observability" / "alertmanager" / "alertmanager.yml"
PROMETHEUS = shutil.which("prometheus")
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
SERVICES = ("alerts", "incidents", "oncall", "notifications")
VICTIM = ("incidents", 2)  # a second replica: the first keeps the alert -> page path whole
TEAM = "platform"  # services/oncall/demo.yaml: owns service `klaxon`
ALERT = "KlaxonServiceDown"


def service_down_rule(for_="2s"):
    """The real KlaxonServiceDown rule, only its `for:` shortened to suit a test."""
    groups = yaml.safe_load(RULES.read_text())["groups"]
    [rule] = [r for g in groups for r in g["rules"] if r.get("alert") == ALERT]
    return {"groups": [{"name": "klaxon-dogfood", "rules": [{**rule, "for": for_}]}]}


def alertmanager_config(edge):
    """The real alertmanager.yml, every webhook pointed at this platform's edge (same path),
    and no waiting before a group's first notification."""
    config = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())
    routes = [config["route"]]
    while routes:
        route = routes.pop()
        route.update({key: "1s" for key in ("group_wait", "group_interval") if key in route})
        routes += route.get("routes", [])
    for receiver in config["receivers"]:
        for webhook in receiver.get("webhook_configs", []):
            webhook["url"] = edge + urlsplit(webhook["url"]).path
    return config


def prometheus_config(targets, rules_file, alertmanager):
    """The real `klaxon` scrape job, aimed at this platform's processes, scraped every second."""
    real = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    [job] = [j for j in real["scrape_configs"] if j["job_name"] == "klaxon"]
    job = {**job, "static_configs": [{"targets": [t], "labels": {"component": c}} for c, t in targets]}
    return {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules_file)],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
        "scrape_configs": [job],
    }


@contextlib.contextmanager
def binary(tmp_path, name, args, url):
    """Run a monitoring binary until the block ends; yields once `url`/-/ready answers 200."""
    log_path = tmp_path / f"{name}.log"
    log = open(log_path, "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)

    def ready():
        if process.poll() is not None:
            raise AssertionError(f"{name} exited with {process.returncode}: {log_path.read_text()}")
        try:
            return requests.get(f"{url}/-/ready", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    ready.__doc__ = f"{name} answers /-/ready"
    try:
        eventually(ready, timeout=30)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


@pytest.fixture
def cluster(tmp_path):
    if PROMETHEUS is None or ALERTMANAGER is None:
        pytest.skip("needs the prometheus and prometheus-alertmanager binaries (Debian packages)")
    with platform_processes(tmp_path, "postgresql") as processes:
        for name in SERVICES:
            processes.start(name)
        processes.start(*VICTIM)
        processes.start("edge")
        processes.wait_healthy()
        yield processes


@pytest.fixture
def monitoring(cluster, tmp_path):
    """Alertmanager, then Prometheus watching every running Klaxon process; yields Prometheus' URL."""
    am_port, prom_port = free_port(), free_port()
    am_dir, prom_dir = tmp_path / "alertmanager", tmp_path / "prometheus"
    am_dir.mkdir()
    prom_dir.mkdir()
    (am_dir / "alertmanager.yml").write_text(yaml.safe_dump(alertmanager_config(cluster.url("edge"))))
    (prom_dir / "rules.yml").write_text(yaml.safe_dump(service_down_rule()))
    targets = [(name, urlsplit(cluster.url(name, r)).netloc) for name, r in sorted(cluster.running)]
    config = prometheus_config(targets, prom_dir / "rules.yml", f"127.0.0.1:{am_port}")
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
    ]
    with (
        binary(tmp_path, "alertmanager", am_args, f"http://127.0.0.1:{am_port}"),
        binary(tmp_path, "prometheus", prom_args, f"http://127.0.0.1:{prom_port}") as prometheus,
    ):
        yield prometheus


def query(prometheus, path, **params):
    answer = requests.get(f"{prometheus}/api/v1/{path}", params=params, timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def get(cluster, path, **params):
    answer = cluster.api.get(f"{cluster.url('edge')}{path}", params=params, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_dead_klaxon_process_pages_the_platform_team_through_prometheus_and_alertmanager(
    cluster, monitoring
):
    victim = urlsplit(cluster.url(*VICTIM)).netloc
    expected_targets = len(cluster.running)

    def all_up():
        """Prometheus scraped every Klaxon process, each up"""
        samples = query(monitoring, "query", query='up{job="klaxon"}')["result"]
        return len(samples) == expected_targets and all(s["value"][1] == "1" for s in samples)

    eventually(all_up, timeout=30)
    assert not [a for a in query(monitoring, "alerts")["alerts"] if a["labels"]["alertname"] == ALERT]
    assert get(cluster, "/api/v1/incidents", service="klaxon")["items"] == []

    cluster.kill(*VICTIM, sig=signal.SIGKILL)

    def firing():
        """Prometheus fires KlaxonServiceDown for the killed replica"""
        return [
            a
            for a in query(monitoring, "alerts")["alerts"]
            if a["labels"]["alertname"] == ALERT and a["state"] == "firing"
        ]

    [alert] = eventually(firing, timeout=60)
    assert alert["labels"]["instance"] == victim
    assert (alert["labels"]["service"], alert["labels"]["component"]) == ("klaxon", "incidents")
    assert alert["labels"]["severity"] == "critical"

    def opened():
        """Klaxon opened an incident for service klaxon, routed to the platform team"""
        items = get(cluster, "/api/v1/incidents", service="klaxon")["items"]
        return items if items and items[0].get("assignee") else None

    [incident] = eventually(opened, timeout=60)
    assert incident["team"] == TEAM
    assert incident["severity"] == "critical"
    schedule = next(s for s in get(cluster, "/api/v1/schedules")["items"] if s["team"] == TEAM)
    members = {m["email"]: m["name"] for m in schedule["members"]}
    primary = get(cluster, "/api/v1/oncall/current", team=TEAM)["primary"]
    assert primary["email"] in members and incident["assignee"] == primary["name"]

    def paged():
        """the platform team's primary was paged for the incident"""
        items = get(cluster, "/api/v1/notifications", incident_id=incident["id"])["items"]
        return [n for n in items if n["status"] == "sent"]

    sent = eventually(paged, timeout=60)
    assert {n["recipient"] for n in sent} == {primary["email"]}

    detail = get(cluster, f"/api/v1/incidents/{incident['id']}")
    [fired] = detail["alerts"]
    assert fired["source"] == "alertmanager" and fired["status"] == "firing"
    assert fired["labels"]["alertname"] == ALERT and fired["labels"]["instance"] == victim
    kinds = [entry["kind"] for entry in detail["timeline"]]
    assert {"created", "assigned", "notified"} <= set(kinds), kinds
