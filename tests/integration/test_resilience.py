"""Nothing accepted is lost, nothing is doubled: two replicas of every service racing on
one correlation key, and services killed with SIGKILL in the middle of a stream."""

import concurrent.futures
import uuid

import pytest
import requests

from tests.conftest import PG_URL, eventually
from tests.platform import platform_processes
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration
SERVICES = ("alerts", "incidents", "oncall", "notifications")


def post_alert(edge, alert, queued=True):
    headers = {"Prefer": "respond-async"} if queued else {}
    return requests.post(f"{edge}/api/v1/alerts", json=alert, headers=headers, timeout=30)


def all_alerts(platform, **filters):
    """Every alert matching `filters`, following the cursor."""
    found, cursor = [], None
    while True:
        params = {**filters, "limit": 500, **({"cursor": cursor} if cursor else {})}
        page = platform.api.get(f"{platform.url('edge')}/api/v1/alerts", params=params, timeout=30).json()
        found += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return found


def all_incidents(platform, **filters):
    found, cursor = [], None
    while True:
        params = {**filters, "limit": 500, **({"cursor": cursor} if cursor else {})}
        page = platform.api.get(f"{platform.url('edge')}/api/v1/incidents", params=params, timeout=30)
        page = page.json()
        found += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return found


def scrape_sum(url, metric):
    total = 0.0
    for line in requests.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith(metric + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.fixture
def cluster(tmp_path):
    with platform_processes(tmp_path, "postgresql") as processes:
        for name in SERVICES:
            processes.start(name)
        processes.start("edge")
        processes.wait_healthy()
        yield processes


@pytest.mark.parametrize("door", ["edge", "alerts port"])
def test_two_replicas_of_every_service_make_one_incident_of_200_concurrent_alerts(cluster, door):
    """Through the edge (the queue's batches), or straight to both alerts replicas' own
    ports (their rounds of synchronous alerts), 200 alerts with one key race."""
    for name in SERVICES:
        cluster.start(name, replica=2)
    cluster.wait_healthy()
    doors = [cluster.url("edge")] if door == "edge" else [cluster.url("alerts", r) for r in (1, 2)]
    service = f"race-{uuid.uuid4().hex[:8]}"
    alert = {"service": service, "severity": "critical", "message": "everything is on fire"}
    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        answers = list(pool.map(lambda n: post_alert(doors[n % len(doors)], alert, queued=False), range(200)))
    assert [a.status_code for a in answers] == [201] * 200
    incident_ids = {a.json()["incident_id"] for a in answers}
    assert len(incident_ids) == 1, f"200 alerts with one key made {len(incident_ids)} incidents"
    assert sorted(a.json()["action"] for a in answers).count("new_incident") == 1
    [incident] = all_incidents(cluster, service=service)
    assert incident["alert_count"] == 200
    per_replica = [scrape_sum(cluster.url("alerts", r), "alerts_received_total") for r in (1, 2)]
    assert sum(per_replica) == 200 and all(per_replica), f"both replicas took a share: {per_replica}"


def test_sigkill_of_the_alerts_service_in_a_synchronous_storm_loses_no_answered_alert(cluster):
    """Every alert answered 2xx (201 with its incident, or 202 queued when the answer was
    late) is stored and correlated once the service is back."""
    edge = cluster.url("edge")
    run = uuid.uuid4().hex[:8]

    def post(index):
        alert = {"service": f"storm-{run}-{index % 5}", "severity": "high", "message": f"m{index}"}
        if index == 60:
            cluster.kill("alerts")
        if index == 120:
            cluster.start("alerts")
        try:
            return post_alert(edge, alert, queued=False)
        except requests.RequestException:
            return None  # not answered: the sender retries, nothing was promised

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(post, range(200)))
    answered = [a.json()["alert_id"] for a in answers if a is not None and a.status_code in (201, 202)]
    assert len(answered) > 100

    def stored():
        found = [a for a in all_alerts(cluster) if a["service"].startswith(f"storm-{run}-")]
        return (
            found
            if {a["alert_id"] for a in found} >= set(answered) and all(a["incident_id"] for a in found)
            else None
        )

    found = eventually(stored, timeout=90)
    assert len({a["alert_id"] for a in found}) == len(found), "no alert stored twice"


@pytest.mark.parametrize("victim", ["alerts", "incidents"])
def test_sigkill_in_the_middle_of_a_stream_loses_and_doubles_nothing(cluster, victim):
    edge = cluster.url("edge")
    run = uuid.uuid4().hex[:8]
    keys = [(f"svc-{run}-{i % 10}", ("critical", "low")[(i // 10) % 2]) for i in range(400)]
    accepted = []
    for index, (service, severity) in enumerate(keys):
        answer = post_alert(edge, {"service": service, "severity": severity, "message": f"m{index}"})
        assert answer.status_code == 202
        accepted.append(answer.json()["alert_id"])
        if index == 150:
            cluster.kill(victim)
        if index == 250:
            cluster.start(victim)

    def processed():
        stored = [a for a in all_alerts(cluster) if a["service"].startswith(f"svc-{run}-")]
        return len(stored) == len(accepted) and all(a["incident_id"] for a in stored) and stored

    stored = eventually(processed, timeout=90)
    assert sorted(a["alert_id"] for a in stored) == sorted(accepted)
    incidents = [i for i in all_incidents(cluster) if i["service"].startswith(f"svc-{run}-")]
    by_key = {}
    for incident in incidents:
        by_key.setdefault((incident["service"], incident["severity"]), []).append(incident)
    assert len(by_key) == len(set(keys)) == 20
    assert all(len(found) == 1 for found in by_key.values()), "one incident per key, no duplicates"
    assert sum(i["alert_count"] for i in incidents) == len(accepted)


def test_database_down_messages_wait_then_complete(tmp_path):
    proxy = TcpProxy(5432).start()
    pg_through_proxy = f"postgresql://postgres@127.0.0.1:{proxy.port}/{PG_URL.rsplit('/', 1)[1]}"
    extra = {"KLAXON_DATABASE_URL": pg_through_proxy}
    with platform_processes(tmp_path, "postgresql", extra_env=extra) as processes:
        for name in (*SERVICES, "edge"):
            processes.start(name)
        processes.wait_healthy()
        edge = processes.url("edge")
        run = uuid.uuid4().hex[:8]
        warm = post_alert(edge, {"service": f"outage-{run}", "severity": "high", "message": "before"})
        assert warm.status_code == 202, "the edge has met this sender before the outage"

        proxy.cut()
        down = requests.get(f"{processes.url('alerts')}/health", timeout=10)
        assert down.status_code == 503 and down.json()["checks"]["database"] != "ok"
        accepted = [warm.json()["alert_id"]]
        for index in range(30):
            alert = {"service": f"outage-{run}", "severity": "high", "message": f"m{index}"}
            answer = post_alert(edge, alert)
            assert answer.status_code == 202, f"the broker is up, so alerts are still accepted: {answer.text}"
            accepted.append(answer.json()["alert_id"])

        proxy.restore()
        processes.wait_healthy()

        def processed():
            stored = all_alerts(processes, service=f"outage-{run}")
            return len(stored) == len(accepted) and all(a["incident_id"] for a in stored) and stored

        stored = eventually(processed, timeout=90)
        assert sorted(a["alert_id"] for a in stored) == sorted(accepted)
        [incident] = all_incidents(processes, service=f"outage-{run}")
        assert incident["alert_count"] == len(accepted)
