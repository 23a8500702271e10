"""IncidentStore on real SQLite and PostgreSQL: correlation, lifecycle, timeline, lists, stats."""

import datetime as dt
import uuid

import eventlet
import psycopg2
import pytest

from services.incidents.requests import IncidentChange, NewIncident
from services.incidents.store import IncidentStore
from services.shared import config
from services.shared.db import scoped_advisory_key
from services.shared.errors import Conflict, NotFound, ValidationFailed

UTC = dt.UTC
T0 = dt.datetime(2026, 11, 20, 3, 0, 0, tzinfo=UTC)
WINDOW = 300


def seconds(n):
    return dt.timedelta(seconds=n)


def instant(text):
    return dt.datetime.fromisoformat(text)


@pytest.fixture
def store(incidents_db):
    with incidents_db.connection_context():
        yield IncidentStore(incidents_db, {})


def alert(alert_id, service="checkout-api", severity="critical", message="5xx above 5%"):
    return {
        "alert_id": alert_id,
        "service": service,
        "severity": severity,
        "message": message,
        "timestamp": T0.isoformat(),
    }


def manual(store, now, **fields):
    payload = {"title": "disk full", "service": "db", "severity": "high", **fields}
    return store.create(NewIncident(**payload), "alice", now)


def change(**fields):
    return IncidentChange(**fields)


def kinds(incident):
    return [entry["kind"] for entry in incident["timeline"]]


# -- correlation -----------------------------------------------------------------------


def test_first_alert_opens_an_incident_and_second_with_same_key_attaches(store):
    first, action1 = store.correlate(alert("a-1"), WINDOW, T0)
    second, action2 = store.correlate(alert("a-2"), WINDOW, T0 + seconds(60))

    assert action1 == "new_incident"
    assert action2 == "attached_to_existing_incident"
    assert second["id"] == first["id"]
    assert first["alert_count"] == 1
    assert second["alert_count"] == 2
    assert first["status"] == "open"
    assert first["title"] == "5xx above 5%"
    assert (first["service"], first["severity"]) == ("checkout-api", "critical")
    assert instant(first["created_at"]) == T0
    assert instant(second["updated_at"]) == T0 + seconds(60)

    incident = store.get(first["id"])
    assert incident["alert_count"] == 2
    assert kinds(incident) == ["created", "alert_attached"]
    assert incident["timeline"][0]["detail"] == {"alert_id": "a-1"}
    assert incident["timeline"][1]["detail"] == {"alert_id": "a-2"}
    assert instant(incident["timeline"][1]["at"]) == T0 + seconds(60)


def test_one_batch_opening_many_incidents_gives_each_its_first_alert(store):
    services = [f"svc-{n % 7}" for n in range(30)]
    batch = [alert(f"a-{n}", service, message=f"alert {n}") for n, service in enumerate(services)]
    outcomes = store.correlate_many(batch, WINDOW, T0)

    first_of = {}
    for n, service in enumerate(services):
        first_of.setdefault(service, n)
    assert [action for _, action in outcomes] == [
        "new_incident" if first_of[service] == n else "attached_to_existing_incident"
        for n, service in enumerate(services)
    ]
    incident_of = {incident["service"]: incident["id"] for incident, _ in outcomes}
    assert len(set(incident_of.values())) == 7
    for (incident, _), service in zip(outcomes, services, strict=True):
        assert incident["id"] == incident_of[service]
    for service, incident_id in incident_of.items():
        incident = store.get(incident_id)
        mine = [n for n, s in enumerate(services) if s == service]
        assert incident["title"] == f"alert {first_of[service]}"
        assert incident["alert_count"] == len(mine)
        assert kinds(incident) == ["created"] + ["alert_attached"] * (len(mine) - 1)
        assert [entry["detail"]["alert_id"] for entry in incident["timeline"]] == [f"a-{n}" for n in mine]


def test_a_batch_joining_open_incidents_adds_each_its_own_count(store):
    """The count's UPDATE is compiled per padded shape (three incidents make four WHENs):
    each incident gains exactly the alerts it took, and is updated at the batch's instant."""
    opened = store.correlate_many([alert(f"o-{n}", f"svc-{n}") for n in range(3)], WINDOW, T0)
    joining = [alert(f"j-{n}", f"svc-{service}") for n, service in enumerate([0, 0, 0, 1, 2, 2])]
    store.correlate_many(joining, WINDOW, T0 + seconds(30))
    assert [store.get(incident["id"])["alert_count"] for incident, _ in opened] == [4, 2, 3]
    assert {store.get(incident["id"])["updated_at"] for incident, _ in opened} == {
        (T0 + seconds(30)).isoformat()
    }


def test_a_redelivered_batch_that_opened_incidents_opens_none(store):
    batch = [alert(f"a-{n}", f"svc-{n % 3}") for n in range(9)]
    first = store.correlate_many(batch, WINDOW, T0)
    again = store.correlate_many(batch, WINDOW, T0 + seconds(5))
    assert [(i["id"], a) for i, a in again] == [(i["id"], a) for i, a in first]
    assert store.stats()["incidents"]["open"] == 3


def test_resolve_if_quiet_waits_for_every_alert_the_incident_holds(store):
    incident, _ = store.correlate(alert("a-1"), WINDOW, T0)
    store.correlate(alert("a-2"), WINDOW, T0)
    note = "every alert of this incident has resolved"
    assert store.resolve_if_quiet(incident["id"], 1, "klaxon-alerts", note, T0 + seconds(60)) is None
    assert store.get(incident["id"])["status"] == "open"

    resolved, previous = store.resolve_if_quiet(incident["id"], 2, "klaxon-alerts", note, T0 + seconds(60))
    assert (resolved["status"], previous) == ("resolved", "open")
    assert resolved["mttr_seconds"] == 60
    assert kinds(store.get(incident["id"]))[-2:] == ["resolved", "note"]
    assert store.resolve_if_quiet(incident["id"], 2, "klaxon-alerts", note, T0 + seconds(90)) is None


def test_different_severity_opens_a_new_incident(store):
    first, _ = store.correlate(alert("a-1", severity="critical"), WINDOW, T0)
    other, action = store.correlate(alert("a-2", severity="low"), WINDOW, T0 + seconds(1))
    assert action == "new_incident"
    assert other["id"] != first["id"]
    assert store.get(first["id"])["alert_count"] == 1


def test_different_service_opens_a_new_incident(store):
    first, _ = store.correlate(alert("a-1", service="checkout-api"), WINDOW, T0)
    other, action = store.correlate(alert("a-2", service="search-api"), WINDOW, T0 + seconds(1))
    assert action == "new_incident"
    assert other["id"] != first["id"]


def test_alert_at_the_end_of_the_window_still_attaches(store):
    first, _ = store.correlate(alert("a-1"), WINDOW, T0)
    same, action = store.correlate(alert("a-2"), WINDOW, T0 + seconds(WINDOW))
    assert action == "attached_to_existing_incident"
    assert same["id"] == first["id"]


def test_alert_after_the_window_opens_a_new_incident(store):
    first, _ = store.correlate(alert("a-1"), WINDOW, T0)
    late, action = store.correlate(alert("a-2"), WINDOW, T0 + seconds(WINDOW + 1))
    assert action == "new_incident"
    assert late["id"] != first["id"]
    assert late["alert_count"] == 1
    assert store.get(first["id"])["alert_count"] == 1


def test_resolved_incident_never_takes_alerts(store):
    first, _ = store.correlate(alert("a-1"), WINDOW, T0)
    store.update(first["id"], change(status="resolved"), "alice", T0 + seconds(10))
    fresh, action = store.correlate(alert("a-2"), WINDOW, T0 + seconds(20))
    assert action == "new_incident"
    assert fresh["id"] != first["id"]
    resolved = store.get(first["id"])
    assert resolved["alert_count"] == 1
    assert "alert_attached" not in kinds(resolved)


def test_acknowledged_incident_still_takes_alerts(store):
    first, _ = store.correlate(alert("a-1"), WINDOW, T0)
    store.update(first["id"], change(status="acknowledged"), "alice", T0 + seconds(10))
    same, action = store.correlate(alert("a-2"), WINDOW, T0 + seconds(20))
    assert action == "attached_to_existing_incident"
    assert same["id"] == first["id"]


def test_correlating_the_same_alert_twice_is_idempotent(store):
    first, action1 = store.correlate(alert("a-1"), WINDOW, T0)
    second, action2 = store.correlate(alert("a-2"), WINDOW, T0 + seconds(5))
    again, action_again = store.correlate(alert("a-2"), WINDOW, T0 + seconds(10))
    again_first, action_first = store.correlate(alert("a-1"), WINDOW, T0 + seconds(15))

    assert again["id"] == second["id"] == first["id"]
    assert action_again == action2 == "attached_to_existing_incident"
    assert action_first == action1 == "new_incident"
    assert again_first["id"] == first["id"]
    incident = store.get(first["id"])
    assert incident["alert_count"] == 2
    assert kinds(incident) == ["created", "alert_attached"]


def test_redelivered_alert_after_the_window_stays_in_its_incident(store):
    first, _ = store.correlate(alert("a-1"), WINDOW, T0)
    again, action = store.correlate(alert("a-1"), WINDOW, T0 + seconds(WINDOW * 10))
    assert (again["id"], action) == (first["id"], "new_incident")
    assert len(store.list({})["items"]) == 1


# -- lifecycle -------------------------------------------------------------------------


def test_legal_transitions_record_mtta_and_mttr_exactly(store):
    incident, _ = store.correlate(alert("a-1"), WINDOW, T0)
    iid = incident["id"]

    acked, previous = store.update(iid, change(status="acknowledged"), "alice", T0 + seconds(42))
    assert previous == "open"
    assert acked["status"] == "acknowledged"
    assert instant(acked["acknowledged_at"]) == T0 + seconds(42)
    assert acked["mtta_seconds"] == 42.0
    assert acked["resolved_at"] is None and acked["mttr_seconds"] is None

    working, previous = store.update(iid, change(status="in_progress"), "alice", T0 + seconds(100))
    assert previous == "acknowledged"
    assert working["status"] == "in_progress"
    assert instant(working["acknowledged_at"]) == T0 + seconds(42)
    assert working["mtta_seconds"] == 42.0

    done, previous = store.update(iid, change(status="resolved"), "bob", T0 + seconds(3600.5))
    assert previous == "in_progress"
    assert done["status"] == "resolved"
    assert instant(done["resolved_at"]) == T0 + seconds(3600.5)
    assert done["mttr_seconds"] == 3600.5
    assert done["mtta_seconds"] == 42.0
    assert instant(done["updated_at"]) == T0 + seconds(3600.5)

    assert kinds(done) == ["created", "acknowledged", "in_progress", "resolved"]
    resolved_entry = done["timeline"][-1]
    assert resolved_entry["actor"] == "bob"
    assert resolved_entry["detail"] == {"from": "in_progress", "to": "resolved"}
    assert instant(resolved_entry["at"]) == T0 + seconds(3600.5)

    metrics = store.metrics(iid)
    assert metrics["mtta_seconds"] == 42.0 and metrics["mttr_seconds"] == 3600.5
    assert metrics["status"] == "resolved"


def test_resolve_may_skip_acknowledge(store):
    incident = manual(store, T0)
    resolve = change(status="resolved")
    done, previous = store.update(incident["id"], resolve, "alice", T0 + seconds(90))
    assert previous == "open"
    assert done["acknowledged_at"] is None and done["mtta_seconds"] is None
    assert instant(done["resolved_at"]) == T0 + seconds(90)
    assert done["mttr_seconds"] == 90.0


def test_reopen_clears_resolution_and_is_on_the_timeline(store):
    incident = manual(store, T0)
    iid = incident["id"]
    store.update(iid, change(status="acknowledged"), "alice", T0 + seconds(10))
    store.update(iid, change(status="resolved"), "alice", T0 + seconds(20))
    reopened, previous = store.update(iid, change(status="open"), "alice", T0 + seconds(30))
    assert previous == "resolved"
    assert reopened["status"] == "open"
    assert reopened["resolved_at"] is None and reopened["mttr_seconds"] is None
    assert reopened["mtta_seconds"] == 10.0
    assert kinds(reopened)[-1] == "reopened"


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ([], "in_progress"),
        ([], "open"),
        (["acknowledged"], "open"),
        (["acknowledged"], "acknowledged"),
        (["acknowledged", "in_progress"], "acknowledged"),
        (["resolved"], "acknowledged"),
        (["resolved"], "resolved"),
    ],
)
def test_illegal_transition_raises_conflict_and_changes_nothing(store, path, illegal):
    incident = manual(store, T0)
    iid = incident["id"]
    for step, status in enumerate(path, start=1):
        store.update(iid, change(status=status), "alice", T0 + seconds(step))
    before = store.get(iid)

    with pytest.raises(Conflict):
        store.update(
            iid,
            change(status=illegal, assignee="mallory", note="should not stick"),
            "mallory",
            T0 + seconds(999),
        )

    after = store.get(iid)
    assert after["status"] == before["status"]
    assert len(after["timeline"]) == len(before["timeline"])
    assert after == before


def test_update_of_unknown_incident_is_not_found(store):
    with pytest.raises(NotFound):
        store.update(999_999, change(status="acknowledged"), "alice", T0)
    with pytest.raises(NotFound):
        store.get(999_999)


# -- notes, assignment, timeline -------------------------------------------------------


def test_notes_appear_in_notes_and_timeline(store):
    incident = manual(store, T0, note="first look")
    iid = incident["id"]
    updated, previous = store.update(iid, change(note="rolled back"), "bob", T0 + seconds(60))
    assert previous == "open"
    assert updated["status"] == "open"
    assert [n["note"] for n in updated["notes"]] == ["first look", "rolled back"]
    assert updated["notes"][1]["actor"] == "bob"
    assert instant(updated["notes"][1]["at"]) == T0 + seconds(60)
    note_entries = [e for e in updated["timeline"] if e["kind"] == "note"]
    assert [e["detail"]["note"] for e in note_entries] == ["first look", "rolled back"]
    assert kinds(updated) == ["created", "note", "note"]


def test_routing_sets_team_assignee_and_timeline(store):
    incident = manual(store, T0)
    note = {"kind": "note", "detail": {"note": "routed to the default team"}, "ref": "route-default"}
    routed_at = T0 + seconds(5)
    assert store.route(incident["id"], "platform", "carol", "klaxon", routed_at, T0 + seconds(6), [note])
    assigned = store.get(incident["id"])
    assert (assigned["team"], assigned["assignee"]) == ("platform", "carol")
    assert kinds(assigned)[-2:] == ["note", "assigned"]
    entry = assigned["timeline"][-1]
    assert entry["actor"] == "klaxon"
    assert entry["detail"] == {"team": "platform", "assignee": "carol"}
    assert instant(entry["at"]) == T0 + seconds(5), "the entry says when it was routed"
    with pytest.raises(NotFound):
        store.route(999_999, "platform", "carol", "klaxon", T0, T0)


def test_a_repeated_routing_adds_nothing_and_keeps_a_later_reassignment(store):
    incident = manual(store, T0)
    note = {"kind": "note", "detail": {"note": "n"}, "ref": "route-default"}
    routed_at = T0 + seconds(5)
    store.route(incident["id"], "platform", "carol", "klaxon", routed_at, routed_at, [note])
    store.update(incident["id"], IncidentChange(assignee="dave"), "bob", T0 + seconds(6))
    again = store.route(incident["id"], "platform", "carol", "klaxon", routed_at, T0 + seconds(7), [note])
    assert again is False
    incident = store.get(incident["id"])
    assert kinds(incident).count("assigned") == 2 and kinds(incident).count("note") == 1
    assert incident["assignee"] == "dave"


def test_an_unrouted_incident_gets_its_reason_and_no_team(store):
    incident = manual(store, T0)
    reason = {"kind": "unrouted", "detail": {"reason": "no team"}, "ref": "route"}
    assert store.route(incident["id"], None, None, "klaxon", T0, T0, [reason]) is False
    assert store.route(incident["id"], None, None, "klaxon", T0, T0, [reason]) is False
    incident = store.get(incident["id"])
    assert kinds(incident).count("unrouted") == 1 and incident["team"] is None


def test_record_with_the_same_ref_twice_creates_one_entry(store):
    incident = manual(store, T0)
    iid = incident["id"]
    detail = {"recipient": "alice@example.com", "channel": "log"}
    store.record(iid, "notified", "notifications", detail, T0 + seconds(1), ref="n-1")
    store.record(iid, "notified", "notifications", detail, T0 + seconds(2), ref="n-1")
    store.record(iid, "notified", "notifications", detail, T0 + seconds(3), ref="n-2")
    timeline = store.get(iid)["timeline"]
    notified = [e for e in timeline if e["kind"] == "notified"]
    assert len(notified) == 2
    assert notified[0]["detail"] == detail
    assert instant(notified[0]["at"]) == T0 + seconds(1)


def test_record_without_ref_is_not_deduplicated(store):
    incident = manual(store, T0)
    store.record(incident["id"], "escalated", "oncall", {"step": 1}, T0 + seconds(1))
    store.record(incident["id"], "escalated", "oncall", {"step": 1}, T0 + seconds(2))
    assert kinds(store.get(incident["id"])).count("escalated") == 2


def test_record_on_unknown_incident_is_not_found(store):
    with pytest.raises(NotFound):
        store.record(999_999, "notified", "x", {}, T0, ref="r")


# -- listing ---------------------------------------------------------------------------


@pytest.fixture
def catalogue(store):
    """Five incidents with distinct fields, an hour apart."""
    specs = [
        {"service": "checkout", "severity": "critical", "team": "payments", "assignee": "alice"},
        {"service": "checkout", "severity": "low", "team": "payments", "assignee": "bob"},
        {"service": "search", "severity": "critical", "team": "discovery", "assignee": "carol"},
        {"service": "search", "severity": "high"},
        {"service": "db", "severity": "medium", "team": "platform", "assignee": "alice"},
    ]
    made = [manual(store, T0 + dt.timedelta(hours=i), **spec) for i, spec in enumerate(specs)]
    store.update(made[1]["id"], change(status="acknowledged"), "bob", T0 + dt.timedelta(hours=6))
    store.update(made[4]["id"], change(status="resolved"), "alice", T0 + dt.timedelta(hours=6))
    return [m["id"] for m in made]


def listed(store, **filters):
    return [item["id"] for item in store.list(filters)["items"]]


def test_list_filters(store, catalogue):
    ids = catalogue
    assert listed(store) == ids[::-1]
    assert listed(store, status="open") == [ids[3], ids[2], ids[0]]
    assert listed(store, status="acknowledged") == [ids[1]]
    assert listed(store, status="resolved") == [ids[4]]
    assert listed(store, severity="critical") == [ids[2], ids[0]]
    assert listed(store, service="checkout") == [ids[1], ids[0]]
    assert listed(store, team="payments") == [ids[1], ids[0]]
    assert listed(store, assignee="alice") == [ids[4], ids[0]]
    assert listed(store, service="checkout", severity="critical") == [ids[0]]
    assert listed(store, service="nothing") == []
    assert listed(store, status="", team=None) == ids[::-1]


def test_list_time_range(store, catalogue):
    ids = catalogue
    since = (T0 + dt.timedelta(hours=1)).isoformat()
    until = (T0 + dt.timedelta(hours=3)).isoformat()
    assert listed(store, since=since) == [ids[4], ids[3], ids[2], ids[1]]
    assert listed(store, until=until) == [ids[2], ids[1], ids[0]]
    assert listed(store, since=since, until=until) == [ids[2], ids[1]]
    # RFC 3339 with Z and with another offset mean the same instants
    assert listed(store, since="2026-11-20T04:00:00Z") == [ids[4], ids[3], ids[2], ids[1]]
    assert listed(store, since="2026-11-20T05:00:00+01:00") == [ids[4], ids[3], ids[2], ids[1]]


@pytest.mark.parametrize(
    ("name", "value"),
    [("since", "yesterday"), ("until", "2026-13-01T00:00:00Z"), ("since", "2026-11-20T04:00:00")],
)
def test_invalid_time_range_is_a_validation_failure(store, name, value):
    with pytest.raises(ValidationFailed) as raised:
        store.list({name: value})
    assert raised.value.errors[0]["field"] == name


@pytest.mark.parametrize(("cursor", "limit"), [("garbage!!", None), (None, 0), (None, "x"), (None, 501)])
def test_invalid_cursor_or_limit_is_a_validation_failure(store, cursor, limit):
    with pytest.raises(ValidationFailed):
        store.list({}, cursor=cursor, limit=limit)


def test_keyset_pagination_newest_first_without_duplicates(store):
    # two incidents share an instant across the first page boundary
    offsets = [0, 1, 2, 3, 3, 4, 5]
    ids = [manual(store, T0 + dt.timedelta(minutes=m))["id"] for m in offsets]
    expected = sorted(zip(offsets, ids, strict=True), reverse=True)

    pages, cursor = [], None
    while True:
        page = store.list({}, cursor=cursor, limit=3)
        pages.append([item["id"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(pages) < 5, "pagination does not terminate"

    assert [len(p) for p in pages] == [3, 3, 1]
    flat = [i for p in pages for i in p]
    assert len(set(flat)) == 7
    assert flat == [i for _, i in expected]


def test_pagination_respects_filters(store):
    for m in range(5):
        manual(store, T0 + dt.timedelta(minutes=m), service="a")
        manual(store, T0 + dt.timedelta(minutes=m), service="b")
    first = store.list({"service": "a"}, limit=3)
    second = store.list({"service": "a"}, cursor=first["next_cursor"], limit=3)
    items = first["items"] + second["items"]
    assert len(items) == 5 and {i["service"] for i in items} == {"a"}
    assert second["next_cursor"] is None


def test_exact_page_size_ends_with_no_cursor(store):
    for m in range(3):
        manual(store, T0 + dt.timedelta(minutes=m))
    page = store.list({}, limit=3)
    assert len(page["items"]) == 3
    assert page["next_cursor"] is None


# -- stats and metrics -----------------------------------------------------------------


def test_stats_counts_and_means(store):
    empty = store.stats()
    assert empty == {
        "incidents": {"open": 0, "acknowledged": 0, "in_progress": 0, "resolved": 0},
        "mean_mtta_seconds": None,
        "mean_mttr_seconds": None,
    }
    a, b, c, d = (manual(store, T0)["id"] for _ in range(4))
    store.update(a, change(status="acknowledged"), "x", T0 + seconds(10))
    store.update(b, change(status="acknowledged"), "x", T0 + seconds(30))
    store.update(b, change(status="in_progress"), "x", T0 + seconds(40))
    store.update(c, change(status="acknowledged"), "x", T0 + seconds(50))
    store.update(c, change(status="resolved"), "x", T0 + seconds(100))
    store.update(d, change(status="resolved"), "x", T0 + seconds(300))

    stats = store.stats()
    assert stats["incidents"] == {"open": 0, "acknowledged": 1, "in_progress": 1, "resolved": 2}
    assert stats["mean_mtta_seconds"] == 30.0
    assert stats["mean_mttr_seconds"] == 200.0


def test_metric_families_count_by_status_severity_service_team(store):
    manual(store, T0, service="checkout", severity="critical", team="payments")
    manual(store, T0, service="checkout", severity="critical", team="payments")
    third = manual(store, T0, service="checkout", severity="critical", team="payments")
    manual(store, T0, service="search", severity="low")
    store.update(third["id"], change(status="resolved"), "x", T0 + seconds(5))

    (family,) = store.metric_families()
    assert family.name == "incidents_total"
    assert family.type == "gauge"
    samples = {
        (s.labels["status"], s.labels["severity"], s.labels["service"], s.labels["team"]): s.value
        for s in family.samples
    }
    assert samples == {
        ("open", "critical", "checkout", "payments"): 2,
        ("resolved", "critical", "checkout", "payments"): 1,
        ("open", "low", "search", ""): 1,
    }


# -- concurrency -----------------------------------------------------------------------


def test_concurrent_alerts_with_one_key_make_one_incident(incidents_db, database_url):
    if "sqlite" in database_url:
        pytest.skip("concurrent writers are a PostgreSQL concern; SQLite serialises in-process")
    db = incidents_db
    db.close()  # the green threads need every pooled connection

    def correlate(n):
        try:
            with db.connection_context():
                incident, action = IncidentStore(db, {}).correlate(
                    alert(f"c-{n}"), WINDOW, T0 + dt.timedelta(milliseconds=n)
                )
            return incident["id"], action
        finally:
            db.close()

    pool = eventlet.GreenPool(20)
    results = list(pool.imap(correlate, range(20)))

    assert len({incident_id for incident_id, _ in results}) == 1
    actions = [action for _, action in results]
    assert actions.count("new_incident") == 1
    assert actions.count("attached_to_existing_incident") == 19
    with db.connection_context():
        store = IncidentStore(db, {})
        items = store.list({})["items"]
        assert len(items) == 1
        assert items[0]["alert_count"] == 20
        assert kinds(store.get(items[0]["id"])).count("alert_attached") == 19


def blocked_by(monitor, backend_pid):
    """Whether any session waits for a lock held by the session `backend_pid`."""
    cursor = monitor.cursor()
    cursor.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
        (backend_pid,),
    )
    return cursor.fetchone()[0] > 0


def test_alert_racing_a_resolve_opens_a_new_incident(incidents_db, database_url):
    if "sqlite" in database_url:
        pytest.skip("concurrent writers are a PostgreSQL concern; SQLite serialises in-process")
    # a service name of its own: advisory locks are server-wide, other test runs may share it
    racing = dict(service=f"race-{uuid.uuid4().hex}")
    with incidents_db.connection_context():
        first, _ = IncidentStore(incidents_db, {}).correlate(alert("a-1", **racing), WINDOW, T0)
    table = f'"{config.schema_name("incidents")}".incidents'
    dbname = database_url.rsplit("/", 1)[1]
    resolver = psycopg2.connect(host="127.0.0.1", user="postgres", dbname=dbname)
    monitor = psycopg2.connect(host="127.0.0.1", user="postgres", dbname=dbname)
    monitor.autocommit = True

    def correlate():
        with incidents_db.connection_context():
            store = IncidentStore(incidents_db, {})
            return store.correlate(alert("a-2", **racing), WINDOW, T0 + seconds(5))

    racer = None
    try:
        # another replica is resolving the incident: it holds the incident's lock, uncommitted
        cursor = resolver.cursor()
        lock = scoped_advisory_key(incidents_db, f"incident:{first['id']}")
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
        cursor.execute(f"UPDATE {table} SET status = 'resolved' WHERE id = %s", (first["id"],))
        racer = eventlet.spawn(correlate)
        for _ in range(500):
            if blocked_by(monitor, resolver.get_backend_pid()):
                break
            eventlet.sleep(0.01)  # yield until the alert waits for the resolver
        else:
            pytest.fail("the alert never waited for the resolving transaction")
        resolver.commit()
        with eventlet.Timeout(10):
            incident, action = racer.wait()
    finally:
        resolver.close()
        monitor.close()
        if racer is not None and not racer.dead:
            with eventlet.Timeout(10, False):
                racer.wait()

    assert action == "new_incident"
    assert incident["id"] != first["id"]
    with incidents_db.connection_context():
        resolved = IncidentStore(incidents_db, {}).get(first["id"])
    assert resolved["status"] == "resolved"
    assert resolved["alert_count"] == 1


def test_search_on_title_is_case_insensitive_and_combines_with_filters(store):
    first = manual(store, T0, title="Checkout LATENCY above 2s", service="checkout", severity="high")
    manual(store, T0 + seconds(1), title="disk full on db-1", service="db", severity="high")
    third = manual(store, T0 + seconds(2), title="latency of search", service="search", severity="low")
    assert listed(store, q="latency") == [third["id"], first["id"]]
    assert listed(store, q="Latency", service="checkout") == [first["id"]]
    assert listed(store, q="nothing like it") == []


def test_oldest_first_pages_forward_through_everything_once(store):
    made = [manual(store, T0 + seconds(i))["id"] for i in range(7)]
    pages, cursor = [], None
    while True:
        page = store.list({"sort": "created_at"}, cursor=cursor, limit=3)
        pages.append([item["id"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == [made[0:3], made[3:6], made[6:7]]
    with pytest.raises(ValidationFailed) as raised:
        store.list({"sort": "severity"})
    assert raised.value.errors[0]["field"] == "sort"
