"""Batch ingestion on real SQLite and PostgreSQL: AlertStore.admit_many, ingest_many with the real
IncidentStore behind it, and AlertsService.on_queued falling back to one message at a time."""

import datetime as dt
from collections import Counter

import peewee
import pytest
from nameko.exceptions import RpcTimeout
from nameko.testing.services import worker_factory

from services.alerts import ingest, queue
from services.alerts import store as store_module
from services.alerts.models import Alert
from services.alerts.service import AlertsService
from services.alerts.store import REORDER_WINDOW, AlertStore
from services.incidents.models import Incident
from services.incidents.requests import parse_change
from services.incidents.store import IncidentStore
from services.shared.clock import SystemClock
from services.shared.db import is_sqlite, utcnow
from services.shared.errors import ValidationFailed
from tests.services.test_connection_pool import StatementLog

UTC = dt.UTC
T0 = dt.datetime(2026, 11, 20, 3, 0, 0, tzinfo=UTC)
WINDOW = 300


@pytest.fixture
def stores(alerts_db, incidents_db):
    with alerts_db.connection_context(), incidents_db.connection_context():
        yield AlertStore(alerts_db, {}), IncidentStore(incidents_db, {})


@pytest.fixture
def alert_store(stores):
    return stores[0]


@pytest.fixture
def incident_store(stores):
    return stores[1]


@pytest.fixture
def incidents(incident_store):
    return Incidents(incident_store)


class Incidents:
    """What the incidents service's RPC gives ingest_many, on the real IncidentStore."""

    def __init__(self, store):
        self.store = store

    def correlate_many(self, requests):
        outcomes = self.store.correlate_many(requests, WINDOW, T0)
        return [{"incident_id": incident["id"], "action": action} for incident, action in outcomes]

    def update_incident(self, incident_id, payload, actor):
        incident, _ = self.store.update(incident_id, parse_change(payload), actor, T0)
        return incident

    def resolve_if_quiet(self, incident_id, settled_alerts, actor, note, resolved_alerts=()):
        self.store.record_resolved_alerts(incident_id, resolved_alerts, actor, T0)
        if settled_alerts is None:
            return None
        resolved = self.store.resolve_if_quiet(incident_id, settled_alerts, actor, note, T0)
        return resolved and resolved[0]


class PoisonedIncidents(Incidents):
    """Refuses any batch holding an alert whose message is "poison"."""

    def correlate_many(self, requests):
        if any(request["message"] == "poison" for request in requests):
            raise ValidationFailed([{"field": "message", "reason": "poison"}])
        return super().correlate_many(requests)


def payload(alert_id, service="checkout-api", **fields):
    return {
        "alert_id": alert_id,
        "service": service,
        "severity": "critical",
        "message": "5xx above 5%",
        "timestamp": T0.isoformat(),
        **fields,
    }


def alert(alert_id, service="checkout-api", **fields):
    return ingest.normalise(payload(alert_id, service, **fields))


def fire_dup_resolve():
    return [
        alert("a-1", dedup_key="K"),
        alert("a-2", dedup_key="K"),
        alert("a-3", dedup_key="K", status="resolved"),
    ]


def alert_counts():
    return {incident.id: incident.alert_count for incident in Incident.select()}


class CrashAtFirstLink(AlertStore):
    """Dies after the incidents service correlated, before this service recorded the links."""

    def link_many(self, links, lock_keys=(), held=None, resolvable=None):
        raise ConnectionError("the worker died here")


ASYNC_COMMIT = "SET LOCAL synchronous_commit TO OFF"


def transactions_of(database, monkeypatch):
    """The statements `database` runs from now on, one list per committed transaction
    (as the code issues them: on PostgreSQL several may share one round trip)."""
    database = getattr(database, "obj", database)  # the database behind a DatabaseProxy
    done, current = [], []
    execute_sql, commit = database.execute_sql, database.commit

    def logged_sql(sql, params=None, *args, **kwargs):
        current.append(sql)
        return execute_sql(sql, params, *args, **kwargs)

    def logged_commit(*args, **kwargs):
        done.append(list(current))
        current.clear()
        return commit(*args, **kwargs)

    monkeypatch.setattr(database, "execute_sql", logged_sql)
    monkeypatch.setattr(database, "commit", logged_commit)
    if hasattr(database, "send_with_next"):  # PostgreSQL: statements held for the next one
        send_with_next = database.send_with_next

        def logged_held(sql, params=None):
            current.append(sql)
            return send_with_next(sql, params)

        monkeypatch.setattr(database, "send_with_next", logged_held)
    return done


def writing(transactions, verb):
    return [tx for tx in transactions if any(sql.lstrip().upper().startswith(verb) for sql in tx)]


def test_only_the_last_commit_before_an_answer_waits_for_the_disk(alert_store, incidents, monkeypatch):
    """The admit is made durable by the link's commit in the same database (WAL is flushed
    in order); a batch with nothing to link makes its admit wait for the disk itself."""
    transactions = transactions_of(alert_store.db, monkeypatch)
    [first] = ingest.ingest_many(alert_store, incidents, [alert("a-1", dedup_key="K")])
    assert first["action"] == "new_incident"
    [admit], [link] = writing(transactions, "INSERT"), writing(transactions, "UPDATE")
    assert ASYNC_COMMIT not in link, "the link's commit is the one the answer waits for"
    assert (ASYNC_COMMIT in admit) is (not is_sqlite(alert_store.db))
    assert transactions.index(admit) < transactions.index(link)

    transactions.clear()
    [duplicate] = ingest.ingest_many(alert_store, incidents, [alert("a-2", dedup_key="K")])
    assert duplicate["action"] == "deduplicated"
    assert writing(transactions, "INSERT"), "the duplicate is stored"
    assert not any(ASYNC_COMMIT in tx for tx in transactions), "nothing links it later: its admit waits"


# -- ingest_many -----------------------------------------------------------------------


def test_fire_duplicate_and_resolve_in_one_batch_share_one_incident(alert_store, incident_store, incidents):
    first, duplicate, resolve = ingest.ingest_many(alert_store, incidents, fire_dup_resolve())
    incident_id = first["incident_id"]
    assert first["action"] == "new_incident" and incident_id is not None
    assert (duplicate["incident_id"], duplicate["action"]) == (incident_id, "deduplicated")
    assert (resolve["incident_id"], resolve["action"]) == (incident_id, "resolved")
    assert resolve["resolved_alert_id"] == "a-1"
    assert Incident.select().count() == 1


def test_fire_duplicate_and_resolve_rows_and_incident(alert_store, incident_store, incidents):
    incident_id = ingest.ingest_many(alert_store, incidents, fire_dup_resolve())[0]["incident_id"]
    original, duplicate = alert_store.get("a-1"), alert_store.get("a-2")
    assert (original["status"], original["duplicate_count"]) == ("resolved", 1)
    assert (duplicate["incident_id"], duplicate["action"]) == (incident_id, "deduplicated")
    assert (duplicate["status"], duplicate["duplicate_of"]) == ("duplicate", "a-1")
    assert alert_store.get("a-3")["incident_id"] == incident_id
    assert incident_store.get(incident_id)["status"] == "resolved"


def test_same_alert_id_twice_in_a_batch_is_stored_once(alert_store, incident_store, incidents):
    answers = ingest.ingest_many(alert_store, incidents, [alert("a-1"), alert("a-1")])
    assert answers[0] == answers[1]
    assert answers[0]["action"] == "new_incident"
    assert Alert.select().count() == 1
    assert incident_store.get(answers[0]["incident_id"])["alert_count"] == 1


def test_redelivered_batch_gets_the_same_answers_and_changes_nothing(alert_store, incident_store, incidents):
    ingest.ingest_many(alert_store, incidents, [alert("o-1", dedup_key="K")])
    batch = [alert("a-1"), alert("a-2"), alert("b-1", service="search"), alert("d-1", dedup_key="K")]
    first = ingest.ingest_many(alert_store, incidents, batch)
    counts = alert_counts()
    assert ingest.ingest_many(alert_store, incidents, batch) == first
    assert Alert.select().count() == 1 + len(batch)
    assert alert_counts() == counts and sorted(counts.values()) == [1, 3]
    assert alert_store.get("o-1")["duplicate_count"] == 1


def test_redelivered_batch_with_followers_of_a_new_original(alert_store, incident_store, incidents):
    batch = [*fire_dup_resolve(), alert("b-1", service="search")]
    first = ingest.ingest_many(alert_store, incidents, batch)
    counts = alert_counts()
    again = ingest.ingest_many(alert_store, incidents, batch)
    assert again == first
    assert Alert.select().count() == len(batch)
    assert alert_counts() == counts


def test_redelivered_resolve_names_the_alert_it_resolved(alert_store, incident_store, incidents):
    ingest.ingest_many(alert_store, incidents, [alert("a-1", dedup_key="K")])
    resolve = [alert("a-2", dedup_key="K", status="resolved")]
    first = ingest.ingest_many(alert_store, incidents, resolve)
    assert first[0]["resolved_alert_id"] == "a-1"
    assert ingest.ingest_many(alert_store, incidents, resolve) == first


class CountingIncidents(Incidents):
    def __init__(self, store):
        super().__init__(store)
        self.resolves = []

    def resolve_if_quiet(self, incident_id, settled_alerts, actor, note, resolved_alerts=()):
        self.resolves.append((incident_id, settled_alerts, [a["alert_id"] for a in resolved_alerts]))
        return super().resolve_if_quiet(incident_id, settled_alerts, actor, note, resolved_alerts)


def test_a_resolve_reaches_the_incident_once_and_a_redelivered_one_changes_nothing(
    alert_store, incident_store
):
    incidents = CountingIncidents(incident_store)
    incident_id = ingest.ingest_many(
        alert_store, incidents, [alert("a-1", dedup_key="K"), alert("a-2", dedup_key="L")]
    )[0]["incident_id"]
    ingest.ingest_many(alert_store, incidents, [alert("a-3", dedup_key="K", status="resolved")])
    assert incidents.resolves == [(incident_id, None, ["a-3"])], "a-2 still fires: noted, not resolved"
    resolve = [alert("a-4", dedup_key="L", status="resolved")]
    ingest.ingest_many(alert_store, incidents, resolve)
    ingest.ingest_many(alert_store, incidents, resolve)  # redelivered
    assert incidents.resolves[1:] == [(incident_id, 2, ["a-4"])] * 2
    incident = incident_store.get(incident_id)
    kinds = [entry["kind"] for entry in incident["timeline"]]
    assert incident["status"] == "resolved"
    assert (kinds.count("alert_resolved"), kinds.count("resolved"), kinds.count("note")) == (2, 1, 1)


def test_redelivery_after_a_crash_links_every_follower(alert_store, incident_store, incidents):
    with pytest.raises(ConnectionError):
        ingest.ingest_many(CrashAtFirstLink(alert_store.db, {}), incidents, fire_dup_resolve())
    first = ingest.ingest_many(alert_store, incidents, fire_dup_resolve())[0]
    assert alert_store.get("a-2")["incident_id"] == first["incident_id"]
    assert incident_store.get(first["incident_id"])["status"] == "resolved"


def test_a_repeat_that_came_before_its_original_was_linked_gets_the_original_s_incident(
    alert_store, incident_store, incidents
):
    """The original's round stopped after admitting it (the incidents service silent: the
    round went to the queue); a repeat with its dedup key came meanwhile. When the queue's
    batch links the original, the repeat is linked with it."""
    with pytest.raises(ConnectionError):
        ingest.ingest_many(CrashAtFirstLink(alert_store.db, {}), incidents, [alert("a-1", dedup_key="K")])
    [repeat] = ingest.ingest_many(alert_store, incidents, [alert("a-2", dedup_key="K")])
    assert (repeat["action"], repeat["incident_id"]) == ("deduplicated", None)
    [original] = ingest.ingest_many(alert_store, incidents, [alert("a-1", dedup_key="K")])
    assert original["incident_id"] is not None
    assert (alert_store.get("a-2")["incident_id"], alert_store.get("a-2")["action"]) == (
        original["incident_id"],
        "deduplicated",
    )
    assert alert_counts() == {original["incident_id"]: 1}


def test_a_link_gives_only_unlinked_duplicates_of_its_originals_their_incident(alert_store):
    alert_store.admit_many([alert("a-1", dedup_key="K"), alert("b-1", dedup_key="L")])
    alert_store.admit_many([alert("a-2", dedup_key="K"), alert("b-2", dedup_key="L")])
    alert_store.link_many([("a-1", 7, "new_incident"), ("b-1", None, "suppressed")])
    alert_store.link_many([("a-1", 8, None)])  # a later link moves the original, not its repeats
    incident_of = {
        alert_id: alert_store.get(alert_id)["incident_id"] for alert_id in ("a-1", "a-2", "b-1", "b-2")
    }
    assert incident_of == {"a-1": 8, "a-2": 7, "b-1": None, "b-2": None}


def test_fifty_alerts_over_five_services_make_five_incidents_in_order(alert_store, incident_store, incidents):
    services = [f"svc-{n % 5}" for n in range(50)]
    batch = [alert(f"a-{n}", service) for n, service in enumerate(services)]
    answers = ingest.ingest_many(alert_store, incidents, batch)
    assert [a["alert_id"] for a in answers] == [f"a-{n}" for n in range(50)]
    expected = ["new_incident"] * 5 + ["attached_to_existing_incident"] * 45
    assert [a["action"] for a in answers] == expected
    incident_of = {service: a["incident_id"] for service, a in zip(services, answers, strict=True)}
    assert all(a["incident_id"] == incident_of[s] for s, a in zip(services, answers, strict=True))
    assert sorted(alert_counts().values()) == [10] * 5
    assert {i.id: i.service for i in Incident.select()} == {v: k for k, v in incident_of.items()}


class CountingStore(AlertStore):
    def __init__(self, *args):
        super().__init__(*args)
        self.admitted = []

    def admit_many(self, alerts, **options):
        self.admitted.append(len(alerts))
        return super().admit_many(alerts, **options)


def test_a_batch_larger_than_the_segment_limit_goes_in_several_transactions(alert_store, incidents):
    store = CountingStore(alert_store.db, {})
    batch = [
        alert(f"a-{n}", f"svc-{n % 3}", dedup_key=f"k-{n}") for n in range(ingest.SEGMENT_LIMIT * 2 + 10)
    ]
    answers = ingest.ingest_many(store, incidents, batch)
    assert store.admitted == [ingest.SEGMENT_LIMIT, ingest.SEGMENT_LIMIT, 10]
    assert [a["action"] for a in answers] == ["new_incident"] * 3 + ["attached_to_existing_incident"] * (
        len(batch) - 3
    )
    assert sorted(alert_counts().values()) == sorted(Counter(n % 3 for n in range(len(batch))).values())


def test_a_backlog_with_thousands_of_dedup_keys_in_one_batch_is_taken(alert_store, incidents, database_url):
    """PostgreSQL's lock table is bounded: one transaction cannot lock 30,000 dedup keys."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the lock table is PostgreSQL's")
    batch = [alert(f"a-{n}", f"svc-{n % 50}", dedup_key=f"k-{n}") for n in range(30_000)]
    answers = ingest.ingest_many(alert_store, incidents, batch)
    assert len(answers) == len(batch) and all(a["incident_id"] is not None for a in answers)
    assert sum(alert_counts().values()) == len(batch)


class ResolvedWhileCorrelating(Incidents):
    """Another batch resolves the alert while this one is having it correlated."""

    def __init__(self, store, alert_store, resolve):
        super().__init__(store)
        self.alert_store, self.resolve = alert_store, resolve

    def correlate_many(self, requests):
        if self.resolve is not None:
            resolve, self.resolve = self.resolve, None
            ingest.ingest_many(self.alert_store, Incidents(self.store), [resolve])
        return super().correlate_many(requests)


def test_an_alert_resolved_while_it_was_being_correlated_leaves_no_incident_open(alert_store, incident_store):
    resolve = alert("r-1", dedup_key="K", status="resolved")
    incidents = ResolvedWhileCorrelating(incident_store, alert_store, resolve)
    [fired] = ingest.ingest_many(alert_store, incidents, [alert("a-1", dedup_key="K")])
    assert fired["action"] == "new_incident"
    assert alert_store.get("a-1")["status"] == "resolved"
    incident = incident_store.get(fired["incident_id"])
    assert incident["status"] == "resolved"
    assert "every alert of this incident has resolved" in [n["note"] for n in incident["notes"]]


class FiringAlertJoinsWhileAnotherResolves(Incidents):
    """Once this batch's alert is correlated into the incident, and before it is linked, a
    concurrent batch resolves the incident's only other alert."""

    def __init__(self, store, alert_store, resolve):
        super().__init__(store)
        self.alert_store, self.resolve = alert_store, resolve

    def correlate_many(self, requests):
        outcomes = super().correlate_many(requests)
        if self.resolve is not None:
            resolve, self.resolve = self.resolve, None
            ingest.ingest_many(self.alert_store, Incidents(self.store), [resolve])
        return outcomes


def test_an_incident_stays_open_while_an_alert_just_correlated_into_it_fires(alert_store, incident_store):
    [first] = ingest.ingest_many(alert_store, Incidents(incident_store), [alert("a-1", dedup_key="K1")])
    racing = FiringAlertJoinsWhileAnotherResolves(
        incident_store, alert_store, alert("r-1", dedup_key="K1", status="resolved")
    )
    [joined] = ingest.ingest_many(alert_store, racing, [alert("g-1", dedup_key="K2")])
    assert joined["incident_id"] == first["incident_id"]
    assert alert_store.get("a-1")["status"] == "resolved"
    assert incident_store.get(first["incident_id"])["status"] == "open", "g-1 still fires"

    ingest.ingest_many(
        alert_store, Incidents(incident_store), [alert("r-2", dedup_key="K2", status="resolved")]
    )
    assert incident_store.get(first["incident_id"])["status"] == "resolved"


def at(seconds):
    return (T0 + dt.timedelta(seconds=seconds)).isoformat()


def test_a_trigger_arriving_after_its_resolve_is_stored_resolved_and_opens_nothing(alert_store, incidents):
    [resolve] = ingest.ingest_many(
        alert_store, incidents, [alert("r-1", dedup_key="K", status="resolved", timestamp=at(60))]
    )
    assert (resolve["incident_id"], resolve["resolved_alert_id"]) == (None, None)
    stale = ingest.ingest_many(alert_store, incidents, [alert("a-1", dedup_key="K", timestamp=at(0))])
    expected = {"alert_id": "a-1", "incident_id": None, "status": "resolved", "action": "resolved"}
    assert stale == [{**expected, "resolved_alert_id": None}]
    assert alert_store.get("a-1")["status"] == "resolved"
    assert Incident.select().count() == 0
    assert ingest.ingest_many(alert_store, incidents, [alert("a-1", dedup_key="K", timestamp=at(0))]) == stale

    [later] = ingest.ingest_many(alert_store, incidents, [alert("a-2", dedup_key="K", timestamp=at(120))])
    assert later["action"] == "new_incident"


def test_a_resolve_holds_back_triggers_only_within_the_reorder_window(alert_store, incidents):
    ingest.ingest_many(
        alert_store, incidents, [alert("r-1", dedup_key="K", status="resolved", timestamp=at(60))]
    )
    long_ago = utcnow() - REORDER_WINDOW - dt.timedelta(seconds=1)
    Alert.update(received_at=long_ago).where(Alert.alert_id == "r-1").execute()
    [late] = ingest.ingest_many(alert_store, incidents, [alert("a-1", dedup_key="K", timestamp=at(0))])
    assert late["action"] == "new_incident", "a resolve that old is a repeat, not one ahead of its trigger"


def test_resolve_then_older_trigger_in_one_batch(alert_store, incidents):
    batch = [
        alert("r-1", dedup_key="K", status="resolved", timestamp=at(60)),
        alert("a-1", dedup_key="K", timestamp=at(0)),
        alert("b-1", dedup_key="other", timestamp=at(0)),
    ]
    answers = ingest.ingest_many(alert_store, incidents, batch)
    assert [a["action"] for a in answers] == ["resolved", "resolved", "new_incident"]
    assert answers[1]["incident_id"] is None
    assert Incident.select().count() == 1


def test_a_resolve_that_found_its_alert_holds_back_no_later_trigger(alert_store, incidents):
    ingest.ingest_many(alert_store, incidents, [alert("a-1", dedup_key="K", timestamp=at(0))])
    ingest.ingest_many(
        alert_store, incidents, [alert("r-1", dedup_key="K", status="resolved", timestamp=at(60))]
    )
    [again] = ingest.ingest_many(alert_store, incidents, [alert("a-2", dedup_key="K", timestamp=at(30))])
    assert again["action"] == "new_incident"


# -- admit_many ------------------------------------------------------------------------


def test_an_alert_whose_id_was_just_minted_is_admitted_in_one_round_trip(alerts_db, alert_store, monkeypatch):
    log = None if is_sqlite(alerts_db) else StatementLog(alerts_db.obj, monkeypatch)
    [(outcome, _)] = alert_store.admit_many([{**alert("n-1"), store_module.MINTED: True}])
    if log is not None:  # no read for an earlier delivery: the INSERT goes with BEGIN and COMMIT
        [sent] = log.sent
        assert [part.strip()[:6] for part in sent.split(";")] == ["BEGIN", "INSERT", "COMMIT"]
    assert outcome == "new" and alert_store.get("n-1")["status"] == "firing"
    if log is not None:
        log.sent.clear()
    [(again, _)] = alert_store.admit_many([alert("n-1")])  # not minted: looked for, and found
    assert again == "known"
    if log is not None:
        assert [sent.split(";")[-1].strip()[:6] for sent in log.sent] == ["SELECT", "COMMIT"]


def test_link_many_without_an_action_keeps_the_action(alert_store):
    alert_store.admit_many([alert("a-1"), alert("a-2")])
    alert_store.link_many([("a-1", 7, "new_incident")])
    alert_store.link_many([("a-1", 8, None), ("a-2", 8, None)])
    assert [(alert_store.get(a)["incident_id"], alert_store.get(a)["action"]) for a in ("a-1", "a-2")] == [
        (8, "new_incident"),
        (8, None),
    ]


def test_a_link_of_any_size_sets_each_alert_its_own_incident_and_action(alert_store, monkeypatch):
    """The link's UPDATE is compiled once per padded shape; each link must still land on
    its own alert, whatever the padding repeats, and shapes must be reused."""
    compiled = []
    original = store_module.link_update
    monkeypatch.setattr(
        store_module.LINK_UPDATE, "build", lambda *shape: compiled.append(shape) or original(*shape)
    )
    monkeypatch.setattr(store_module.LINK_UPDATE, "compiled", {})
    alert_store.admit_many([alert(f"a-{n}") for n in range(7)])
    alert_store.link_many([("a-0", 1, "new_incident"), ("a-1", 1, None), ("a-2", 2, "new_incident")])
    alert_store.link_many(
        [("a-3", 3, "attached_to_existing_incident"), ("a-4", None, "suppressed"), ("a-5", 3, None)]
    )
    alert_store.link_many([("a-6", 6, None)])
    assert [
        (alert_store.get(f"a-{n}")["incident_id"], alert_store.get(f"a-{n}")["action"]) for n in range(7)
    ] == [
        (1, "new_incident"),
        (1, None),
        (2, "new_incident"),
        (3, "attached_to_existing_incident"),
        (None, "suppressed"),
        (3, None),
        (6, None),
    ]
    assert compiled == [(4, 2), (1, 0)]


def test_a_link_checks_for_resolves_before_its_commit(alerts_db, alert_store, monkeypatch):
    alert_store.admit_many([alert("a-1", dedup_key="K"), alert("a-2")])
    alert_store.admit_many([alert("r-1", dedup_key="K", status="resolved")])  # resolves a-1 before the link
    log = None if is_sqlite(alerts_db) else StatementLog(alerts_db.obj, monkeypatch)
    links = [("a-1", 7, "new_incident"), ("a-2", 7, "attached_to_existing_incident")]
    assert alert_store.link_many(links) == {"a-1"}
    if log is not None:  # the check travels with the link's writes, and the COMMIT after it
        assert [sent.split(";")[-1].strip()[:6] for sent in log.sent] == ["SELECT", "COMMIT"]


def test_a_link_of_alerts_a_resolve_cannot_reach_reads_nothing_and_commits_with_its_writes(
    alerts_db, alert_store, monkeypatch
):
    """A resolve finds its alert by dedup key: alerts without one skip the check."""
    alert_store.admit_many([alert("a-1", dedup_key="K"), alert("a-2")])
    alert_store.admit_many([alert("r-1", dedup_key="K", status="resolved")])  # resolves a-1 before the link
    log = None if is_sqlite(alerts_db) else StatementLog(alerts_db.obj, monkeypatch)
    links = [("a-1", 7, "new_incident"), ("a-2", 7, "attached_to_existing_incident")]
    assert alert_store.link_many(links, resolvable=["a-2"]) == set()
    assert alert_store.link_many(links, resolvable=[]) == set()
    assert alert_store.link_many(links, resolvable=["a-1", "a-2"]) == {"a-1"}
    if log is not None:  # with nothing to check (the second), one round trip: the writes and the COMMIT
        kinds = [sent.split(";")[-1].strip()[:6] for sent in log.sent]
        assert kinds == ["SELECT", "COMMIT", "COMMIT", "SELECT", "COMMIT"]
    assert [alert_store.get(alert_id)["incident_id"] for alert_id in ("a-1", "a-2")] == [7, 7]


def test_ingest_checks_for_resolves_only_alerts_with_a_dedup_key(alert_store, incidents, monkeypatch):
    checked = []
    real = store_module.resolved_among
    monkeypatch.setattr(store_module, "resolved_among", lambda ids: checked.append(sorted(ids)) or real(ids))
    ingest.ingest_many(alert_store, incidents, [alert("a-1"), alert("a-2", dedup_key="K")])
    ingest.ingest_many(alert_store, incidents, [alert("a-3"), alert("a-4")])
    assert checked == [["a-2"]]
    assert all(alert_store.get(f"a-{n}")["incident_id"] is not None for n in range(1, 5))


def test_a_link_whose_check_for_resolves_fails_is_undone(alert_store, monkeypatch):
    """Then the retry correlates the alerts again, and checks again: a resolve that came
    first is never lost."""
    alert_store.admit_many([alert("a-1", dedup_key="K")])

    def failing(alert_ids):
        raise peewee.OperationalError("canceling statement due to statement timeout")

    monkeypatch.setattr("services.alerts.store.resolved_among", failing)
    with pytest.raises(peewee.OperationalError):
        alert_store.link_many([("a-1", 7, "new_incident")])
    assert (alert_store.get("a-1")["incident_id"], alert_store.get("a-1")["action"]) == (None, None)


def test_admit_many_scopes_a_shared_dedup_key_per_integration(alert_store):
    outcomes = alert_store.admit_many(
        [
            {**alert("a-1", dedup_key="K"), "integration_id": 1},
            {**alert("a-2", dedup_key="K"), "integration_id": 2},
            {**alert("a-3", dedup_key="K"), "integration_id": 1},
        ]
    )
    assert outcomes[:2] == [("new", None), ("new", None)]
    assert (outcomes[2][0], outcomes[2][1].alert_id) == ("duplicate", "a-1")
    assert alert_store.get("a-2")["status"] == "firing"
    assert alert_store.get("a-1")["duplicate_count"] == 1


# -- AlertsService.on_queued -----------------------------------------------------------


def test_on_queued_drops_only_the_message_correlation_refuses(alert_store, incident_store):
    service = worker_factory(
        AlertsService, store=alert_store, incidents=PoisonedIncidents(incident_store), clock=SystemClock()
    )
    messages = [
        queue.alerts_message([payload("g-1")]),
        queue.alerts_message([payload("p-1", service="poisoned", message="poison")]),
        queue.alerts_message([payload("g-2"), payload("g-3")]),
    ]
    service.on_queued(messages)
    good = [alert_store.get(alert_id) for alert_id in ("g-1", "g-2", "g-3")]
    assert [a["action"] for a in good] == ["new_incident"] + ["attached_to_existing_incident"] * 2
    assert len({a["incident_id"] for a in good}) == 1 and good[0]["incident_id"] is not None
    assert alert_store.get("p-1")["incident_id"] is None
    assert [i.service for i in Incident.select()] == ["checkout-api"]


def test_a_poison_alert_costs_nothing_to_the_alerts_grouped_with_it(alert_store, incident_store):
    service = worker_factory(
        AlertsService, store=alert_store, incidents=PoisonedIncidents(incident_store), clock=SystemClock()
    )
    grouped = [
        {**payload("g-1"), "reply_to": "edge-a"},
        {**payload("p-1", service="poisoned", message="poison"), "reply_to": "edge-b"},
        {**payload("g-2"), "reply_to": "edge-a"},
    ]
    service.on_queued([queue.alerts_message(grouped)])
    assert [alert_store.get(a)["action"] for a in ("g-1", "g-2")] == [
        "new_incident",
        "attached_to_existing_incident",
    ]
    sent = sent_replies(service)
    assert [(a["alert_id"], a["action"]) for a in sent["edge-a"]] == [
        ("g-1", "new_incident"),
        ("g-2", "attached_to_existing_incident"),
    ]
    [refused] = sent["edge-b"]
    assert refused["alert_id"] == "p-1" and refused["error"]["exc_type"] == "ValidationFailed"


def sent_replies(service):
    sent = {}
    for call in service.reply.call_args_list:
        sent.setdefault(call.kwargs["routing_key"], []).extend(call.args[0]["answers"])
    return sent


def test_on_queued_answers_each_waiting_sender_on_its_reply_queue(alert_store, incident_store):
    service = worker_factory(
        AlertsService, store=alert_store, incidents=Incidents(incident_store), clock=SystemClock()
    )
    service.on_queued(
        [
            queue.alerts_message([{**payload("s-1"), "reply_to": "edge-a"}, payload("q-1")]),
            queue.alerts_message(
                [{**payload("s-2"), "reply_to": "edge-b"}, {**payload("s-3"), "reply_to": "edge-a"}]
            ),
        ]
    )
    sent = sent_replies(service)
    assert {queue_name: [a["alert_id"] for a in answers] for queue_name, answers in sent.items()} == {
        "edge-a": ["s-1", "s-3"],
        "edge-b": ["s-2"],
    }
    for answer in sent["edge-a"] + sent["edge-b"]:
        assert answer["incident_id"] == alert_store.get(answer["alert_id"])["incident_id"] is not None


def test_a_sender_waiting_on_an_alert_correlation_refuses_gets_the_error(alert_store, incident_store):
    service = worker_factory(
        AlertsService, store=alert_store, incidents=PoisonedIncidents(incident_store), clock=SystemClock()
    )
    service.on_queued(
        [
            queue.alerts_message([{**payload("g-1"), "reply_to": "edge-a"}]),
            queue.alerts_message([{**payload("p-1", message="poison"), "reply_to": "edge-a"}]),
        ]
    )
    [good, refused] = sent_replies(service)["edge-a"]
    assert good["alert_id"] == "g-1" and good["action"] == "new_incident"
    assert refused["alert_id"] == "p-1"
    assert refused["error"]["exc_type"] == "ValidationFailed"


# -- AlertsService.ingest (RPC and this service's own port) ------------------------------


def test_alerts_posted_together_answer_alone_when_the_batch_refuses_one(alert_store, incident_store):
    service = worker_factory(
        AlertsService, store=alert_store, incidents=PoisonedIncidents(incident_store), clock=SystemClock()
    )
    together = [ingest.normalise(payload(a)) for a in ("t-1", "t-2")]
    together.insert(1, ingest.normalise(payload("t-p", service="poisoned", message="poison")))
    first, refused, second = service._ingest_together(together)
    assert (first["action"], second["action"]) == ("new_incident", "attached_to_existing_incident")
    assert isinstance(refused, ValidationFailed)
    assert alert_store.get("t-p")["incident_id"] is None


def minted(alert_id, **fields):
    """An alert as the service's own port admits it: its id was made there."""
    return {**alert(alert_id, **fields), store_module.MINTED: True}


def test_minted_alerts_answering_alone_are_looked_for_again(alert_store, incident_store):
    """The refused batch stored them: alone, each must find itself stored, not a firing
    original with its own dedup key to be a duplicate of."""
    service = worker_factory(
        AlertsService, store=alert_store, incidents=PoisonedIncidents(incident_store), clock=SystemClock()
    )
    together = [minted("m-1", dedup_key="K1"), minted("m-p", message="poison"), minted("m-2", dedup_key="K2")]
    first, refused, second = service._ingest_together(together)
    assert (first["action"], second["action"]) == ("new_incident", "attached_to_existing_incident")
    assert isinstance(refused, ValidationFailed)
    assert alert_store.get("m-1")["status"] == alert_store.get("m-2")["status"] == "firing"


def test_alerts_a_round_queues_are_looked_for_again(alert_store, incident_store):
    service = worker_factory(
        AlertsService, store=alert_store, incidents=SilentAfterPoison(incident_store), clock=SystemClock()
    )
    service._ingest_together([minted("m-1"), minted("m-p", message="poison"), minted("m-2")])
    [(message,), _] = service.later.call_args
    assert [a["alert_id"] for a in message["alerts"]] == ["m-2"]
    assert not any(store_module.MINTED in a for a in message["alerts"])


class SilentAfterPoison(PoisonedIncidents):
    """Refuses a batch with a poisoned alert; once it has answered one batch alone, stops answering."""

    def __init__(self, store):
        super().__init__(store)
        self.answered = 0

    def correlate_many(self, requests):
        if self.answered and not any(request["message"] == "poison" for request in requests):
            raise RpcTimeout()
        outcomes = super().correlate_many(requests)
        self.answered += 1
        return outcomes


def test_alerts_answering_alone_go_to_the_queue_from_an_outage_on(alert_store, incident_store):
    service = worker_factory(
        AlertsService, store=alert_store, incidents=SilentAfterPoison(incident_store), clock=SystemClock()
    )
    together = [ingest.normalise(payload(a)) for a in ("t-1", "t-2", "t-3")]
    together.insert(1, ingest.normalise(payload("t-p", service="poisoned", message="poison")))
    first, refused, second, third = service._ingest_together(together)
    assert first["action"] == "new_incident"
    assert isinstance(refused, ValidationFailed)
    assert (second, third) == (
        {"alert_id": "t-2", "status": "queued"},
        {"alert_id": "t-3", "status": "queued"},
    )
    [(message,), _] = service.later.call_args
    assert [a["alert_id"] for a in message["alerts"]] == ["t-2", "t-3"]
    assert service.later.call_count == 1
