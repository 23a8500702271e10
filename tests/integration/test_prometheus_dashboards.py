"""Every Grafana panel and every recording rule, evaluated by a real Prometheus scraping a
running platform, returns data; MTTA, MTTR and page counts equal what the API reports.

The scenario: a 5xx (the edge asking a stopped service), alerts for two services of two
teams, acknowledge and resolve, a second incident left open, an escalation (the platform's
clock moved by KLAXON_CLOCK_OFFSET_FILE), and pages held back by the rate limit and sent
as one summary.
"""

import datetime as dt
import json
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests
import yaml

from tests.conftest import eventually
from tests.hooks import HookHandler, HookServer
from tests.platform import free_port, platform_processes

PROMETHEUS = shutil.which("prometheus")
ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "observability/grafana/dashboards").glob("*.json"))
RULES = ROOT / "observability/prometheus/rules/klaxon.yml"
COMPONENTS = ("edge", "alerts", "incidents", "oncall", "notifications")
# Grafana's own variables, for a 1 s scrape interval and a range covering the whole test.
GRAFANA = {"$__rate_interval": "20s", "$__interval": "5s", "$__range": "1h", "$window": "1h"}


class Hooks(HookServer):
    """A webhook receiver answering 200: where the test teams' pages go."""

    def __init__(self):
        super().__init__(Hook)

    def url(self, path):
        return f"http://127.0.0.1:{self.server_address[1]}/{path}"


class Hook(HookHandler):
    def answer(self, body):
        self.server.received.append(body)
        return 200, []


@pytest.fixture
def cluster(tmp_path):
    if PROMETHEUS is None:
        pytest.skip("prometheus is not installed (Debian package prometheus)")
    offset = tmp_path / "clock-offset"
    offset.write_text("0")
    extra = {
        "KLAXON_CLOCK_OFFSET_FILE": str(offset),
        "KLAXON_ESCALATION_TICK_SECONDS": "0.2",
        "KLAXON_NOTIFY_RATE_LIMIT": "1",
        "KLAXON_NOTIFY_RATE_WINDOW_SECONDS": "60",
    }
    with platform_processes(tmp_path, "sqlite", extra_env=extra) as processes:
        for name in COMPONENTS:
            processes.start(name)
        processes.wait_healthy()
        processes.offset = offset
        yield processes


@pytest.fixture
def prometheus(cluster, tmp_path):
    """Prometheus on a free port scraping every process each second, with Klaxon's rules."""
    port = free_port()
    klaxon_targets = [
        {"targets": [cluster.url(name).removeprefix("http://")], "labels": {"component": name}}
        for name in COMPONENTS
    ]
    scrape = [
        {"job_name": "klaxon", "static_configs": klaxon_targets},
        {"job_name": "prometheus", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]},
        # The broker's plugin (.ci/services-up enables it): per-queue depth.
        {
            "job_name": "rabbitmq",
            "metrics_path": "/metrics/per-object",
            "static_configs": [{"targets": ["127.0.0.1:15692"]}],
        },
    ]
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": scrape,
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    log = open(tmp_path / "prometheus.log", "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--enable-feature=exemplar-storage",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        eventually(lambda: scraping(url, process), timeout=60)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def scraping(url, process):
    """Whether Prometheus answers and has scraped every Klaxon process as up."""
    assert process.poll() is None, "prometheus exited"
    try:
        if requests.get(f"{url}/-/ready", timeout=5).status_code != 200:
            return False
        return len(query(url, 'up{job="klaxon"} == 1')) == len(COMPONENTS)
    except requests.ConnectionError:
        return False


def query(url, expr, at=None):
    params = {"query": expr, **({"time": f"{at:.3f}"} if at is not None else {})}
    answer = requests.get(f"{url}/api/v1/query", params=params, timeout=10)
    assert answer.status_code == 200, f"{expr}: {answer.text}"
    return answer.json()["data"]["result"]


def value(url, expr, at=None):
    (sample,) = query(url, expr, at)
    return float(sample["value"][1])


def scraped_at(url, component):
    """The time of `component`'s last scrape: an increase() evaluated then, over series
    that start at 0, is exact (no extrapolation at either end)."""
    return value(url, f'timestamp(up{{job="klaxon", component="{component}"}})')


def team_schedule(team, service, hook_url):
    return {
        "team": team,
        "rotation_type": "weekly",
        "members": [
            {"name": f"{team} one", "email": f"one@{team}.example.com", "role": "primary"},
            {"name": f"{team} two", "email": f"two@{team}.example.com", "role": "secondary"},
        ],
        "default_contact_methods": [{"type": "webhook", "address": hook_url}],
        "services": [service],
    }


def provoke_a_5xx(cluster):
    """The edge answers 503 while the alerts service it asks is stopped."""
    cluster.kill("alerts")
    answer = cluster.api.get(f"{cluster.url('edge')}/api/v1/alerts", timeout=30)
    assert answer.status_code >= 500, answer.text
    cluster.start("alerts")
    cluster.wait_healthy()


def send_alert(cluster, service, message):
    body = {"service": service, "severity": "high", "message": message}
    answer = requests.post(f"{cluster.url('edge')}/api/v1/alerts", json=body, timeout=10)
    assert answer.status_code in (200, 201, 202), answer.text

    def incident():
        found = cluster.api.get(
            f"{cluster.url('edge')}/api/v1/incidents", params={"service": service}, timeout=10
        ).json()["items"]
        open_ones = [i for i in found if i["status"] != "resolved"]
        return open_ones[0]["id"] if open_ones else None

    return eventually(incident, timeout=30)


def set_status(cluster, incident_id, status):
    url = f"{cluster.url('edge')}/api/v1/incidents/{incident_id}"
    answer = cluster.api.patch(url, json={"status": status}, timeout=10)
    assert answer.status_code == 200, answer.text


def notifications(cluster, incident_ids):
    items = cluster.api.get(f"{cluster.url('edge')}/api/v1/notifications", params={"limit": 200}, timeout=10)
    assert items.status_code == 200, items.text
    return [n for n in items.json()["items"] if n["incident_id"] in incident_ids]


def play(cluster, prometheus, teams):
    """The scenario; returns the ids of the incidents it opened."""
    opened = []
    for team, service in teams.items():
        first = send_alert(cluster, service, "latency above 1 s")
        opened.append(first)
        # Prometheus has seen the routed incident's MTTA and MTTR at 0 before anyone
        # answers, as it would in minutes of a real incident.
        matcher = f'{{service="{service}", team="{team}"}}'
        eventually(lambda m=matcher: query(prometheus, f"incident_mttr_seconds_count{m} == 0"), timeout=30)
        set_status(cluster, first, "acknowledged")
        set_status(cluster, first, "resolved")
        second = send_alert(cluster, service, "latency above 1 s again")  # a new incident, left open
        assert second != first
        opened.append(second)
    # Each team's second page came within the rate limit's window of its first: held.
    eventually(lambda: sum(n["status"] == "held" for n in notifications(cluster, opened)) >= 2, timeout=30)
    # 16 minutes later: the held pages go out as a summary, the open incidents escalate.
    cluster.offset.write_text(str(16 * 60))
    eventually(lambda: escalated_and_in_flight_done(notifications(cluster, opened)), timeout=60)
    cluster.offset.write_text(str(18 * 60))  # and the step's own held pages go too
    settled = {"sent", "failed", "cancelled"}
    eventually(lambda: all(n["status"] in settled for n in notifications(cluster, opened)), timeout=60)
    return opened


def escalated_and_in_flight_done(items):
    """Both steps have paged and no page is still being sent. A page is claimed with a
    lease of 60 s: moving the clock on by two minutes while one is on its way would hand it
    to the retry loop too, and it would go twice."""
    return len({n["step"] for n in items}) == 2 and not any(n["status"] == "pending" for n in items)


def expressions():
    """(where, PromQL) of every Prometheus panel target and every recording rule."""
    found = []
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                source = target.get("datasource") or panel.get("datasource") or {}
                if source.get("type") == "prometheus":
                    found.append(
                        (f"{dashboard['title']} / {panel['title']} / {target['refId']}", target["expr"])
                    )
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        found += [(f"rule {r['record']}", r["expr"]) for r in group["rules"] if "record" in r]
    return found


def substituted(expr, team, service):
    for name, replacement in GRAFANA.items():
        expr = expr.replace(name, replacement)
    return expr.replace("$team", team).replace("$service", service)


def test_every_panel_and_rule_has_data_and_the_figures_match_the_api(cluster, prometheus, tmp_path):
    hooks = Hooks()
    run = uuid.uuid4().hex[:6]
    teams = {f"payments-{run}": f"checkout-{run}", f"search-{run}": f"search-api-{run}"}
    try:
        for team, service in teams.items():
            schedule = team_schedule(team, service, hooks.url(team))
            answer = cluster.api.post(f"{cluster.url('edge')}/api/v1/schedules", json=schedule, timeout=10)
            assert answer.status_code in (200, 201), answer.text
        provoke_a_5xx(cluster)
        opened = play(cluster, prometheus, teams)
        check_figures(cluster, prometheus, teams, opened)
        check_every_expression(prometheus, teams)
    finally:
        hooks.shutdown()
        hooks.server_close()


def check_figures(cluster, prometheus, teams, opened):
    edge = cluster.url("edge")
    incidents = [cluster.api.get(f"{edge}/api/v1/incidents/{i}", timeout=10).json() for i in opened]

    # Once Prometheus has scraped the final state: the settled pages and both incidents.
    # Both sides are read again each time: a page still on its way when first read would
    # make a count taken once fall short of the metric forever.
    def pages_agree():
        sent = [n for n in notifications(cluster, opened) if n["status"] == "sent"]
        pages = f"sum(oncall_notifications_sent_total{{channel='webhook'}}) == {len(sent)}"
        return query(prometheus, pages) and sent

    sent = eventually(pages_agree, timeout=30, interval=0.5)
    assert any(n["step"] == 1 for n in sent), "the escalation's step paged"

    # 30 alerts would read 60 if the services wrote into the edge's multiprocess directory.
    # Read from a scrape of the alerts service made after every alert was counted: the
    # whole scenario can take less than a few scrape intervals.
    counted = time.time()
    eventually(lambda: scraped_at(prometheus, "alerts") > counted, timeout=30)
    at = scraped_at(prometheus, "alerts")
    received = value(prometheus, f'sum(alerts_received_total{{service=~"{"|".join(teams.values())}"}})', at)
    assert received == len(opened)
    edge_text = requests.get(f"{edge}/metrics", timeout=10).text
    assert "alerts_received_total" not in edge_text and "process_resident_memory_bytes" in edge_text

    for team, service in teams.items():
        # increase() needs two samples in its range: on a loaded machine a scrape can fail,
        # leaving a new series with one.
        matcher = f'{{team="{team}", service="{service}"}}'
        for name in ("mtta", "mttr"):
            sampled = f"count_over_time(incident_{name}_seconds_count{matcher}[1h]) >= 2"
            eventually(lambda e=sampled: query(prometheus, e), timeout=30)
    at = scraped_at(prometheus, "incidents")
    for team, service in [*teams.items(), (".*", "|".join(teams.values()))]:
        mine = [i for i in incidents if i["service"] in service.split("|")]
        for name, panel in (("mtta", "MTTA (mean, time range)"), ("mttr", "MTTR (mean, time range)")):
            expected = [i[f"{name}_seconds"] for i in mine if i[f"{name}_seconds"] is not None]
            expr = substituted(panel_expr("Live Incident Overview", panel), team, service)
            got = value(prometheus, expr, at)
            assert got == pytest.approx(sum(expected) / len(expected), rel=1e-6, abs=1e-3), (team, name)

    at = scraped_at(prometheus, "notifications")
    expr = substituted(panel_expr("SRE Performance", "Pages sent by channel (time range)"), ".*", ".*")
    by_channel = {s["metric"]["channel"]: float(s["value"][1]) for s in query(prometheus, expr, at)}
    assert by_channel["webhook"] == len(sent)
    assert by_channel["email"] == 0.0, "every channel is there, at 0 without pages"
    # The counter itself: a route's first 5xx starts its series, which increase() misses.
    assert value(prometheus, 'sum(http_requests_total{service="edge", code=~"5.."})') >= 1


def panel_expr(title, panel_title):
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        if dashboard["title"] == title:
            (panel,) = [p for p in dashboard["panels"] if p.get("title") == panel_title]
            return panel["targets"][0]["expr"]
    raise AssertionError(f"no dashboard {title}")


def check_every_expression(prometheus, teams):
    team, service = next(iter(teams.items()))
    todo = []
    for where, expr in expressions():
        # The System Health dashboard's $service is a Klaxon process, not a monitored one.
        real = (".*", "incidents") if where.startswith("System Health") else (team, service)
        todo += [(where, substituted(expr, t, s)) for t, s in ((".*", ".*"), real)]
    assert len(todo) > 60
    deadline = dt.datetime.now() + dt.timedelta(seconds=90)  # a subquery step of 1 minute
    empty = todo
    while empty and dt.datetime.now() < deadline:
        empty = [(where, expr) for where, expr in empty if not query(prometheus, expr)]
    assert not empty, "\n".join(f"{where}: {expr}" for where, expr in empty)
