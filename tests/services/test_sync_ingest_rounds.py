"""Alerts posted at once to the alerts service's own port share batches (one admit
transaction, one correlation RPC, one link transaction per round), and every sender gets
its own incident, as one at a time would."""

import eventlet
import pytest

from services.alerts import ingest
from services.alerts.service import AlertsService
from services.incidents.service import IncidentsService


@pytest.fixture
def web_service_config(service_config, web_config):
    return {**service_config, **web_config, "KEYLESS_INGEST": True}


def test_alerts_posted_at_once_share_rounds_and_each_gets_its_incident(
    web_service_config, container_factory, web_session, monkeypatch
):
    rounds = []
    real = ingest.ingest_many

    def counted(store, incidents, alerts, quiet=None):
        rounds.append(len(alerts))
        return real(store, incidents, alerts, quiet)

    monkeypatch.setattr(ingest, "ingest_many", counted)
    container_factory(AlertsService, web_service_config).start()
    # The incidents service's own port elsewhere: the session talks to the alerts service.
    container_factory(IncidentsService, {**web_service_config, "WEB_SERVER_ADDRESS": "127.0.0.1:0"}).start()

    def post(n):
        body = {
            "service": f"rounds-{n % 4}",
            "severity": "high",
            "message": "queue full",
            "dedup_key": f"k{n}",
        }
        return web_session.post("/api/v1/alerts", json=body)

    answers = list(eventlet.GreenPool(40).imap(post, range(40)))
    assert [answer.status_code for answer in answers] == [201] * 40, answers[0].text
    incidents = {}
    for n, answer in enumerate(answers):
        incidents.setdefault(f"rounds-{n % 4}", set()).add(answer.json()["incident_id"])
    assert all(len(ids) == 1 and None not in ids for ids in incidents.values()), incidents
    assert sum(rounds) == 40 and len(rounds) < 40, rounds  # shared, yet every alert once
