"""Maintenance windows on real SQLite and PostgreSQL: ingest_many holding alerts back with the
real IncidentStore behind it, the replay at the window's end, and the window store's API."""

import datetime as dt

import pytest

from services.alerts import ingest, quiet
from services.alerts.maintenance import parse_change, parse_window
from services.alerts.models import Alert
from services.alerts.store import AlertStore
from services.incidents.models import Incident
from services.incidents.store import IncidentStore
from services.shared.db import is_sqlite
from services.shared.errors import Conflict, NotFound, ValidationFailed
from tests.services.test_connection_pool import StatementLog

UTC = dt.UTC
T0 = dt.datetime(2026, 11, 20, 3, 0, 0, tzinfo=UTC)
HOUR = dt.timedelta(hours=1)


class Clock:
    def __init__(self, now):
        self.now = now


class Incidents:
    """The incidents service's correlation and resolve, on the real store, at the test's clock."""

    def __init__(self, store, clock):
        self.store, self.clock = store, clock

    def correlate_many(self, requests):
        outcomes = self.store.correlate_many(requests, 300, self.clock.now)
        return [{"incident_id": i["id"] if i else None, "action": action} for i, action in outcomes]

    def resolve_if_quiet(self, incident_id, settled_alerts, actor, note, resolved_alerts=()):
        self.store.record_resolved_alerts(incident_id, resolved_alerts, actor, self.clock.now)
        if settled_alerts is not None:
            self.store.resolve_if_quiet(incident_id, settled_alerts, actor, note, self.clock.now)


@pytest.fixture
def world(alerts_db, incidents_db):
    with alerts_db.connection_context(), incidents_db.connection_context():
        yield World(AlertStore(alerts_db, {}), IncidentStore(incidents_db, {}))


class World:
    def __init__(self, alerts, incidents):
        self.clock = Clock(T0)
        self.store = alerts
        self.incidents = Incidents(incidents, self.clock)
        self.teams = {"checkout-api": "payments", "search": "discovery"}

    def quiet(self):
        return quiet.Quiet(self.store.windows, self._teams_of, self.clock.now)

    def _teams_of(self, services):
        return {service: self.teams.get(service) for service in services}

    def post(self, alert_id, service="checkout-api", quiet_now=None, **fields):
        payload = {
            "alert_id": alert_id,
            "service": service,
            "severity": "critical",
            "message": "5xx above 5%",
            "timestamp": self.clock.now.isoformat(),
            **fields,
        }
        held_by = quiet_now or self.quiet()
        [answer] = ingest.ingest_many(self.store, self.incidents, [ingest.normalise(payload)], held_by)
        return answer

    def window(self, **fields):
        body = {"reason": "database upgrade", "matchers": ["service=checkout-api"], **fields}
        body.setdefault("starts_at", self.clock.now.isoformat())
        body.setdefault("ends_at", (self.clock.now + HOUR).isoformat())
        return self.store.windows.create(parse_window(body), "ops@example.com", self.clock.now)

    def replay(self):
        return quiet.replay_due(self.store, self.incidents, self.quiet(), self.clock.now)


def incidents_of(service="checkout-api"):
    return list(Incident.select().where(Incident.service == service))


def test_a_matching_alert_is_stored_suppressed_and_opens_nothing(world):
    window = world.window()
    answer = world.post("a-1", dedup_key="K")
    assert (answer["action"], answer["status"], answer["incident_id"]) == ("suppressed", "suppressed", None)
    assert answer["suppressed_by"] == window["id"]
    stored = world.store.get("a-1")
    assert (stored["status"], stored["action"], stored["suppressed_by"]) == (
        "firing",
        "suppressed",
        window["id"],
    )
    assert stored["suppressed_until"] == window["next_ends_at"]
    assert incidents_of() == []
    assert world.post("b-1", service="search")["action"] == "new_incident"  # not matched


def test_the_windows_in_force_are_read_with_the_admissions_commit_on_postgresql(
    world, alerts_db, monkeypatch
):
    if is_sqlite(alerts_db):
        pytest.skip("statements travel together on PostgreSQL only")
    window = world.window()
    log = StatementLog(alerts_db.obj, monkeypatch)
    assert world.post("b-1", service="search")["action"] == "new_incident"
    # The admission's read; its writes, COMMIT and windows; the link with its COMMIT (an
    # alert without a dedup key, which no resolve can reach: nothing to check before it).
    assert len(log.sent) == 3
    admission_commit = log.sent[1]
    assert admission_commit.index("COMMIT") < admission_commit.index('FROM "maintenance_windows"')
    held = world.post("a-1")
    assert held["suppressed_by"] == window["id"]  # what is read with the commit holds alerts back
    log.sent.clear()
    assert world.post("b-1", service="search")["action"] == "new_incident"  # a redelivery: known
    assert not [sent for sent in log.sent if "maintenance_windows" in sent]  # nothing to hold back, no read


def test_a_redelivered_suppressed_alert_answers_the_same(world):
    world.window()
    first = world.post("a-1")
    assert world.post("a-1") == first
    assert Alert.select().count() == 1


def test_an_incident_open_before_the_window_still_takes_its_alerts(world):
    opened = world.post("a-0")
    world.clock.now += dt.timedelta(minutes=1)
    world.window()
    world.clock.now += dt.timedelta(minutes=1)
    joined = world.post("a-1")
    assert (joined["action"], joined["incident_id"]) == (
        "attached_to_existing_incident",
        opened["incident_id"],
    )


def test_at_the_end_still_firing_alerts_open_one_incident_once_and_resolved_ones_nothing(world):
    world.window()
    world.post("fires", dedup_key="F")
    world.post("also-fires", dedup_key="G")
    world.post("ends", service="checkout-api", dedup_key="R", severity="low")
    world.post("ends-ok", service="checkout-api", dedup_key="R", status="resolved", severity="low")
    assert world.replay() == 0  # still in the window
    world.clock.now += HOUR
    assert world.replay() == 2
    assert world.replay() == 0  # a second replica, or the next tick, finds nothing left
    [incident] = incidents_of()
    assert (incident.severity, incident.alert_count) == ("critical", 2)
    actions = {world.store.get(a)["action"] for a in ("fires", "also-fires")}
    assert actions == {"new_incident", "attached_to_existing_incident"}
    assert world.store.get("fires")["suppressed_until"] is None
    assert world.store.get("ends")["incident_id"] is None


def test_a_replay_claimed_by_a_replica_that_died_is_replayed_once_its_lease_runs_out(world):
    world.window()
    world.post("fires")
    world.clock.now += HOUR
    due = world.store.suppressed_due(world.clock.now, 10)
    assert world.store.claim(due, world.clock.now + quiet.REPLAY_LEASE) == due  # then it died
    assert world.store.claim(due, world.clock.now + quiet.REPLAY_LEASE) == []  # no one else takes it
    assert world.replay() == 0
    world.clock.now += quiet.REPLAY_LEASE
    assert world.replay() == 1
    assert len(incidents_of()) == 1


def test_a_window_without_replay_keeps_its_alerts_suppressed_and_the_next_one_after_it_pages(world):
    world.window(replay=False)
    world.post("fires", dedup_key="K")
    assert world.post("again", dedup_key="K")["action"] == "deduplicated"  # during the window
    world.clock.now += HOUR
    assert world.replay() == 0
    assert incidents_of() == []
    stored = world.store.get("fires")
    assert (stored["status"], stored["action"], stored["suppressed_until"]) == (
        "suppressed",
        "suppressed",
        None,
    )
    world.clock.now += dt.timedelta(minutes=1)
    assert world.post("after", dedup_key="K")["action"] == "new_incident"


def test_an_extended_window_holds_its_alerts_until_its_new_end(world):
    window = world.window()
    world.post("fires")
    later = world.clock.now + 2 * HOUR
    changed = world.store.windows.change(
        window["id"], parse_change({"ends_at": later.isoformat()}), "ops@example.com", world.clock.now
    )
    assert changed["history"][-1]["action"] == "extended"
    world.clock.now += HOUR
    world.replay()
    assert incidents_of() == []
    assert world.store.get("fires")["suppressed_until"] == later.isoformat()
    world.clock.now += HOUR
    world.replay()
    assert len(incidents_of()) == 1


def test_ending_a_window_early_replays_at_once_and_is_on_its_audit_trail(world):
    window = world.window()
    world.post("fires")
    world.clock.now += dt.timedelta(minutes=10)
    ended = world.store.windows.change(
        window["id"], parse_change({"end_now": True}), "bob@example.com", world.clock.now
    )
    assert ended["state"] == "ended"
    assert [(c["actor"], c["action"]) for c in ended["history"]] == [
        ("ops@example.com", "created"),
        ("bob@example.com", "ended_early"),
    ]
    assert world.replay() == 1
    with pytest.raises(Conflict):
        world.store.windows.change(
            window["id"], parse_change({"reason": "x"}), "bob@example.com", world.clock.now
        )


def test_a_deleted_window_replays_and_leaves_the_lists(world):
    window = world.window()
    world.post("fires")
    world.store.windows.delete(window["id"], "ops@example.com", world.clock.now)
    assert world.store.windows.list(("active", "upcoming", "ended"), world.clock.now) == []
    with pytest.raises(NotFound):
        world.store.windows.get(window["id"], world.clock.now)
    assert world.replay() == 1


def test_a_window_deleted_while_its_alert_is_being_linked_replays_it_at_the_next_tick(world):
    window = world.window()
    world.clock.now += dt.timedelta(minutes=10)

    class DeletedMeanwhile(quiet.Quiet):
        """The window is deleted once the holds are decided, before the alert is linked."""

        def holds(self, alerts):
            decided = super().holds(alerts)
            world.store.windows.delete(window["id"], "ops@example.com", world.clock.now)
            return decided

    arriving = DeletedMeanwhile(world.store.windows, world._teams_of, world.clock.now)
    answer = world.post("fires", quiet_now=arriving)
    assert (answer["action"], answer["suppressed_by"]) == ("suppressed", window["id"])
    assert Alert.get_by_id("fires").suppressed_until == world.clock.now, "held no longer than its window"
    world.clock.now += dt.timedelta(seconds=1)
    assert world.replay() == 1
    assert [incident.service for incident in incidents_of()] == ["checkout-api"]


def test_team_and_label_matchers(world):
    world.window(matchers=["team=payments", 'env=~"prod|stage"', "region!=eu"])
    assert world.post("held", labels={"env": "prod", "region": "us"})["action"] == "suppressed"
    assert world.post("wrong-env", labels={"env": "dev"})["action"] != "suppressed"
    assert world.post("wrong-region", labels={"env": "stage", "region": "eu"})["action"] != "suppressed"
    assert world.post("other-team", service="search", labels={"env": "prod"})["action"] == "new_incident"


def test_windows_are_listed_active_then_upcoming(world):
    active = world.window()
    upcoming = world.window(starts_at=(T0 + 2 * HOUR).isoformat(), ends_at=(T0 + 3 * HOUR).isoformat())
    listed = world.store.windows.list(("active", "upcoming"), world.clock.now)
    assert [(w["id"], w["state"]) for w in listed] == [(active["id"], "active"), (upcoming["id"], "upcoming")]
    assert [w["id"] for w in world.store.windows.list(("upcoming",), world.clock.now)] == [upcoming["id"]]
    with pytest.raises(ValidationFailed):
        world.store.windows.list(("soon",), world.clock.now)


def test_the_author_is_told_once_before_the_end(world):
    window = world.window()
    assert quiet.expiring_soon(world.store, world.clock.now) == []
    world.clock.now += HOUR - quiet.EXPIRY_NOTICE
    [(told, end)] = quiet.expiring_soon(world.store, world.clock.now)
    assert (told["id"], told["author"], end.isoformat()) == (
        window["id"],
        "ops@example.com",
        window["next_ends_at"],
    )
    assert quiet.expiring_soon(world.store, world.clock.now) == []  # the other replica: already told
    notice = quiet.expiry_notice(told, end, "http://klaxon.example")
    assert notice["recipient"] == "ops@example.com" and "database upgrade" in notice["message"]


def test_a_recurring_window_holds_back_only_during_its_occurrences(world):
    sunday_night = dt.datetime(2026, 11, 22, 1, 30, tzinfo=UTC)  # 02:30 in Paris (CET)
    world.clock.now = sunday_night - dt.timedelta(days=7)
    recurrence = {
        "rrule": "FREQ=WEEKLY;BYDAY=SU",
        "timezone": "Europe/Paris",
        "start_time": "02:00",
        "end_time": "04:00",
    }
    world.window(recurrence=recurrence, ends_at=None)
    world.clock.now = sunday_night
    assert world.post("in-it")["action"] == "suppressed"
    assert world.store.get("in-it")["suppressed_until"] == "2026-11-22T03:00:00+00:00"
    world.clock.now = sunday_night + 3 * HOUR
    assert world.post("after-it")["action"] == "new_incident"


def test_a_short_window_is_announced_a_third_of_its_length_before_its_end(world):
    world.window(ends_at=(T0 + dt.timedelta(minutes=12)).isoformat())
    world.clock.now += dt.timedelta(minutes=7)
    assert quiet.expiring_soon(world.store, world.clock.now) == []
    world.clock.now += dt.timedelta(minutes=1)
    assert len(quiet.expiring_soon(world.store, world.clock.now)) == 1
