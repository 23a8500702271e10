"""Two on-call replicas on RabbitMQ and PostgreSQL run one escalation engine between them:
every step fires exactly once. Time moves through KLAXON_CLOCK_OFFSET_FILE, never by sleeping."""

import uuid

import psycopg2
import pytest

from tests.conftest import PG_URL, eventually
from tests.integration.test_resilience import scrape_sum
from tests.platform import platform_processes

TEAM = "platform-engineering"  # from the demo data: Alice and Bob primary, Carol secondary
POLICY = {
    "team": TEAM,
    "steps": [
        {"delay_minutes": 10, "targets": [{"type": "layer", "layer": "primary"}]},
        {"delay_minutes": 10, "targets": [{"type": "layer", "layer": "secondary"}]},
    ],
}


@pytest.fixture
def cluster(tmp_path):
    offset = tmp_path / "clock-offset"
    offset.write_text("0")
    extra = {"KLAXON_CLOCK_OFFSET_FILE": str(offset), "KLAXON_ESCALATION_TICK_SECONDS": "0.1"}
    with platform_processes(tmp_path, "postgresql", extra_env=extra) as processes:
        for name in ("alerts", "incidents", "notifications", "edge"):
            processes.start(name)
        processes.start("oncall")
        processes.start("oncall", replica=2)
        processes.wait_healthy()
        processes.offset = offset
        yield processes


def sql(cluster, statement, *params):
    prefix = cluster.env["KLAXON_SCHEMA_PREFIX"]
    connection = psycopg2.connect(PG_URL)
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement.replace("{schema}", prefix), params)
            return cursor.fetchall()
    finally:
        connection.close()


def pages(cluster, incident_ids):
    rows = sql(
        cluster,
        'SELECT incident_id, step, recipient FROM "{schema}notifications".notifications'
        " WHERE incident_id = ANY(%s)",
        list(incident_ids),
    )
    return sorted(rows)


def open_incidents(cluster, service, count):
    edge = cluster.url("edge")
    ids = []
    for n in range(count):
        body = {"title": f"disk {n} full", "service": service, "severity": "high", "team": TEAM}
        answer = cluster.api.post(f"{edge}/api/v1/incidents", json=body, timeout=10)
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
    return ids


def test_two_replicas_fire_every_step_exactly_once_and_acknowledging_cancels_the_rest(cluster):
    edge = cluster.url("edge")
    assert cluster.api.post(f"{edge}/api/v1/escalation_policies", json=POLICY, timeout=10).status_code == 201
    run = uuid.uuid4().hex[:8]
    ignored = open_incidents(cluster, f"ignored-{run}", 50)
    answered = open_incidents(cluster, f"answered-{run}", 50)
    everyone = ignored + answered
    eventually(lambda: len(pages(cluster, everyone)) == 100, timeout=60)  # step 0 at routing

    acknowledged = answered[:25]
    for incident_id in acknowledged:
        change = cluster.api.patch(
            f"{edge}/api/v1/incidents/{incident_id}", json={"status": "acknowledged"}, timeout=10
        )
        assert change.status_code == 200, change.text
    settled = 'SELECT count(*) FROM "{schema}oncall".escalations WHERE state = %s AND incident_id = ANY(%s)'
    eventually(lambda: sql(cluster, settled, "acknowledged", acknowledged)[0][0] == 25, timeout=30)

    cluster.offset.write_text(str(11 * 60))  # step 1 is due for everyone not acknowledged
    eventually(lambda: len(pages(cluster, everyone)) == 175, timeout=60)
    left = (
        'SELECT count(*) FROM "{schema}oncall".escalations'
        " WHERE next_at IS NOT NULL AND incident_id = ANY(%s)"
    )
    # A step's page can reach the ledger before the engine's transaction that sent it commits.
    still_to_come = lambda: sql(cluster, left, everyone)[0][0]  # noqa: E731
    eventually(lambda: still_to_come() == 25, timeout=30)  # only the acknowledged ones had a step left

    found = pages(cluster, everyone)
    assert len(found) == len(set(found)) == 175
    assert len(pages(cluster, ignored)) == 100 and len(pages(cluster, answered)) == 75
    assert {step for _, step, _ in pages(cluster, acknowledged)} == {0}
    fired = [scrape_sum(cluster.url("oncall", replica), "escalations_total") for replica in (1, 2)]
    assert sum(fired) == 75, f"each timed step fired once across both replicas: {fired}"
    timeline = cluster.api.get(f"{edge}/api/v1/incidents/{ignored[0]}", timeout=10).json()["timeline"]
    assert [entry["detail"]["step"] for entry in timeline if entry["kind"] == "escalated"] == [1]


def test_a_restart_in_the_middle_of_a_policy_resumes_it(cluster):
    edge = cluster.url("edge")
    assert cluster.api.post(f"{edge}/api/v1/escalation_policies", json=POLICY, timeout=10).status_code == 201
    incidents = open_incidents(cluster, f"restart-{uuid.uuid4().hex[:8]}", 5)
    eventually(lambda: len(pages(cluster, incidents)) == 5, timeout=60)
    cluster.kill("oncall", 1)
    cluster.kill("oncall", 2)

    cluster.offset.write_text(str(11 * 60))  # step 1 fell due while no engine ran
    cluster.start("oncall")
    cluster.wait_healthy()
    eventually(lambda: len(pages(cluster, incidents)) == 10, timeout=60)
    assert {step for _, step, _ in pages(cluster, incidents)} == {0, 1}
    assert scrape_sum(cluster.url("oncall"), "escalations_total") == 5
