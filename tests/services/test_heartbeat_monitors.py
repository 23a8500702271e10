"""Heartbeat monitors on real SQLite and PostgreSQL: silence raises one alert and one
incident however many replicas notice it; the next beat resolves it."""

import datetime as dt

import pytest

from services.alerts import ingest, monitoring
from services.alerts.heartbeats import parse_heartbeat, parse_heartbeat_change
from services.alerts.models import Alert
from services.alerts.store import AlertStore
from services.incidents.models import Incident
from services.incidents.store import IncidentStore
from services.shared.errors import Conflict, NotFound, Unauthorized, ValidationFailed

T0 = dt.datetime(2026, 11, 20, 3, 0, 0, tzinfo=dt.UTC)


class Platform:
    """The alerts store with the real incidents store behind it, at a clock the test moves."""

    def __init__(self, alerts, incidents):
        self.store, self.incident_store, self.now = alerts, incidents, T0

    def correlate_many(self, requests):
        outcomes = self.incident_store.correlate_many(requests, 300, self.now)
        return [{"incident_id": i["id"] if i else None, "action": action} for i, action in outcomes]

    def resolve_if_quiet(self, incident_id, settled_alerts, actor, note, resolved_alerts=()):
        self.incident_store.record_resolved_alerts(incident_id, resolved_alerts, actor, self.now)
        if settled_alerts is not None:
            self.incident_store.resolve_if_quiet(incident_id, settled_alerts, actor, note, self.now)

    def ingest_alerts(self, alerts):
        return ingest.ingest_many(self.store, self, [ingest.normalise(alert) for alert in alerts])

    def tick(self):
        return monitoring.check_heartbeats(self.store, self.ingest_alerts, self.now)

    def beat(self, monitor):
        return monitoring.beat(self.store, self.ingest_alerts, monitor["id"], monitor["key"], self.now)


@pytest.fixture
def platform(alerts_db, incidents_db):
    with alerts_db.connection_context(), incidents_db.connection_context():
        yield Platform(AlertStore(alerts_db, {}), IncidentStore(incidents_db, {}))


def monitor(platform, **fields):
    body = {
        "name": "nightly-backup",
        "service": "backups",
        "interval_seconds": 600,
        "grace_seconds": 60,
        **fields,
    }
    return platform.store.heartbeats.create(parse_heartbeat(body), platform.now)


def test_silence_after_interval_and_grace_opens_one_incident_and_a_beat_resolves_it(platform):
    created = monitor(platform)
    assert created["key"].startswith("klx_") and created["state"] == "up"
    platform.now += dt.timedelta(seconds=600)
    platform.beat(created)
    platform.now += dt.timedelta(seconds=660 - 1)
    assert platform.tick() == 0
    platform.now += dt.timedelta(seconds=1)
    assert platform.tick() == 1
    assert platform.tick() == 0  # another replica's tick, or the next: nothing more
    [incident] = Incident.select()
    assert (incident.service, incident.severity, incident.status) == ("backups", "critical", "open")
    assert platform.store.heartbeats.get(created["id"])["state"] == "down"
    assert platform.store.heartbeats.up_family().samples[0].value == 0

    platform.now += dt.timedelta(minutes=5)
    beaten = platform.beat(created)
    assert beaten["state"] == "up" and beaten["last_beat_at"] == platform.now.isoformat()
    assert Incident.get_by_id(incident.id).status == "resolved"


def test_two_replicas_noticing_the_same_silence_raise_one_alert(platform):
    created = monitor(platform)
    platform.now += dt.timedelta(seconds=661)
    [expired] = platform.store.heartbeats.expired(platform.now)
    for _ in range(2):  # both replicas read it before either marked it down
        monitoring.check_heartbeats(StaleReads(platform.store, expired), platform.ingest_alerts, platform.now)
    assert Alert.select().where(Alert.source == "heartbeat").count() == 1
    assert Incident.select().count() == 1
    assert platform.store.heartbeats.get(created["id"])["state"] == "down"


class StaleReads:
    """A store whose replica read the expired monitor before the other acted on it."""

    def __init__(self, store, expired):
        self.store, self.expired_monitor = store, expired
        self.heartbeats = self

    def expired(self, now):
        return [self.expired_monitor]

    def __getattr__(self, name):
        return getattr(self.store.heartbeats, name)


def test_a_beat_that_comes_while_silence_is_being_raised_resolves_it(platform):
    created = monitor(platform)
    platform.now += dt.timedelta(seconds=661)
    [expired] = platform.store.heartbeats.expired(platform.now)
    platform.store.heartbeats.beat(created["id"], platform.now)  # lands before the mark
    monitoring.check_heartbeats(StaleReads(platform.store, expired), platform.ingest_alerts, platform.now)
    assert platform.store.heartbeats.get(created["id"])["state"] == "up"
    assert [i.status for i in Incident.select()] == ["resolved"]


def test_a_beat_needs_the_monitors_own_key(platform):
    first, second = monitor(platform), monitor(platform, name="other")
    with pytest.raises(Unauthorized):
        monitoring.beat(platform.store, platform.ingest_alerts, first["id"], second["key"], platform.now)
    with pytest.raises(Unauthorized):
        monitoring.beat(platform.store, platform.ingest_alerts, 999, first["key"], platform.now)
    assert "key" not in platform.store.heartbeats.get(first["id"])


def test_monitors_are_listed_changed_and_deleted(platform):
    created = monitor(platform)
    with pytest.raises(Conflict):
        monitor(platform)
    changed = platform.store.heartbeats.change(
        created["id"], parse_heartbeat_change({"interval_seconds": 60, "grace_seconds": 0}), platform.now
    )
    assert changed["expires_at"] == (T0 + dt.timedelta(seconds=60)).isoformat()
    assert [m["name"] for m in platform.store.heartbeats.list()] == ["nightly-backup"]
    platform.store.heartbeats.delete(created["id"])
    with pytest.raises(NotFound):
        platform.store.heartbeats.get(created["id"])


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "service": "s", "interval_seconds": 1},
        {"name": "bad name", "service": "s", "interval_seconds": 60},
        {"name": "x", "service": "s", "interval_seconds": 60, "severity": "apocalyptic"},
        {"name": "x", "interval_seconds": 60},
    ],
)
def test_bad_monitors_are_refused(body):
    with pytest.raises(ValidationFailed):
        parse_heartbeat(body)
