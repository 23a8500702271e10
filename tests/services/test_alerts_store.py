"""AlertStore on real SQLite and PostgreSQL: the record of every alert received."""

import datetime as dt

import pytest

from services.alerts.models import Alert
from services.alerts.store import AlertStore
from services.shared.errors import NotFound, ValidationFailed
from tests.conftest import close_pool

UTC = dt.UTC
T0 = dt.datetime(2026, 11, 20, 3, 12, 45, tzinfo=UTC)


@pytest.fixture
def store(bound):
    db = bound("alerts")
    with db.connection_context():
        yield AlertStore(db, {})


def normalised(alert_id, **fields):
    alert = {
        "alert_id": alert_id,
        "source": "generic",
        "service": "checkout-api",
        "severity": "critical",
        "message": "5xx above 5%",
        "labels": {"region": "eu-west-1"},
        "timestamp": T0.isoformat(),
        "dedup_key": None,
        "status": "firing",
    }
    alert.update(fields)
    return alert


def test_record_then_find_and_get(store):
    row = store.record(normalised("a-1", dedup_key="k-1"))
    assert row.alert_id == "a-1"
    found = store.find("a-1")
    assert found is not None and found.dedup_key == "k-1"
    assert store.find("missing") is None

    body = store.get("a-1")
    assert body["alert_id"] == "a-1"
    assert body["service"] == "checkout-api"
    assert body["severity"] == "critical"
    assert body["labels"] == {"region": "eu-west-1"}
    assert dt.datetime.fromisoformat(body["timestamp"]) == T0
    assert dt.datetime.fromisoformat(body["received_at"]).tzinfo is not None
    assert body["status"] == "firing"
    assert body["incident_id"] is None and body["action"] is None
    assert body["duplicate_of"] is None and body["duplicate_count"] == 0
    assert body["resolved_at"] is None


def test_record_keeps_extra_fields(store):
    store.record(normalised("a-1"))
    store.record(normalised("a-2"), duplicate_of="a-1", incident_id=7, action="deduplicated")
    body = store.get("a-2")
    assert (body["duplicate_of"], body["incident_id"], body["action"]) == ("a-1", 7, "deduplicated")


def test_recording_the_same_alert_id_twice_leaves_the_first(store):
    first = store.record(normalised("a-1", message="first", dedup_key="k-1"))
    second = store.record(normalised("a-1", message="second", severity="low", dedup_key="k-2"))
    assert second.message == "first"
    assert second.severity == "critical"
    assert second.dedup_key == "k-1"
    assert second.received_at == first.received_at
    assert Alert.select().count() == 1


def test_get_unknown_alert_is_not_found(store):
    with pytest.raises(NotFound) as raised:
        store.get("nope")
    assert raised.value.kind == "alert" and raised.value.identifier == "nope"


def test_firing_with_key(store):
    assert store.firing_with_key(None) is None
    assert store.firing_with_key("") is None
    assert store.firing_with_key("k-1") is None

    store.record(normalised("a-1", dedup_key="k-1"))
    store.record(normalised("a-2", dedup_key="k-2"))
    # a duplicate of a-1 is never the original itself
    store.record(normalised("a-3", dedup_key="k-1"), duplicate_of="a-1", action="deduplicated")

    assert store.firing_with_key("k-1").alert_id == "a-1"
    assert store.firing_with_key("k-2").alert_id == "a-2"
    assert store.firing_with_key("k-3") is None


def test_admit_new_then_known(store):
    assert store.admit(normalised("a-1", dedup_key="k-1")) == ("new", None)
    outcome, row = store.admit(normalised("a-1", dedup_key="k-1"))
    assert outcome == "known" and row.alert_id == "a-1"
    assert store.get("a-1")["status"] == "firing"


def test_admit_same_key_while_firing_is_a_duplicate(store):
    store.admit(normalised("a-1", dedup_key="k-1"))
    store.link("a-1", 7, "new_incident")
    for n in (2, 3):
        outcome, original = store.admit(normalised(f"a-{n}", dedup_key="k-1"))
        assert (outcome, original.alert_id) == ("duplicate", "a-1")
    duplicate = store.get("a-3")
    assert duplicate["status"] == "duplicate" and duplicate["duplicate_of"] == "a-1"
    assert duplicate["incident_id"] == 7 and duplicate["action"] == "deduplicated"
    assert store.get("a-1")["duplicate_count"] == 2


def test_admit_keys_are_scoped_to_their_integration(store):
    store.admit(normalised("a-1", dedup_key="k-1", integration_id=1))
    assert store.admit(normalised("a-2", dedup_key="k-1", integration_id=2)) == ("new", None)
    assert store.admit(normalised("a-3", dedup_key="k-1"))[0] == "new"


def test_admit_resolve_stops_every_firing_alert_with_the_key(store):
    store.admit(normalised("a-1", dedup_key="k-1"))
    store.record(normalised("a-2", dedup_key="k-1"))  # e.g. a second sender of a HA pair
    store.link("a-2", 9, "attached_to_existing_incident")
    outcome, newest = store.admit(normalised("r-1", dedup_key="k-1", status="resolved"))
    assert outcome == "resolved" and newest.alert_id in {"a-1", "a-2"}
    for alert_id in ("a-1", "a-2"):
        body = store.get(alert_id)
        assert body["status"] == "resolved"
        assert dt.datetime.fromisoformat(body["resolved_at"]).tzinfo is not None
    assert store.get("r-1")["action"] == "resolved"
    assert store.firing_with_key("k-1") is None
    assert store.admit(normalised("a-3", dedup_key="k-1")) == ("new", None), "firing again is new"


def test_admit_resolve_of_an_unknown_key(store):
    assert store.admit(normalised("r-1", dedup_key="never", status="resolved")) == ("resolved", None)
    assert store.get("r-1")["incident_id"] is None


def test_concurrent_alerts_with_one_dedup_key_admit_one_original(bound, database_url):
    if "sqlite" in database_url:
        pytest.skip("concurrent writers are a PostgreSQL concern; SQLite serialises in-process")
    import uuid

    import eventlet

    db = bound("alerts")
    key = f"k-{uuid.uuid4().hex}"

    def admit(n):
        try:
            with db.connection_context():
                return AlertStore(db, {}).admit(normalised(f"c-{n}", dedup_key=key))[0]
        finally:
            db.close()

    outcomes = list(eventlet.GreenPool(10).imap(admit, range(10)))
    assert sorted(outcomes) == ["duplicate"] * 9 + ["new"]
    close_pool(db)


def test_resolved_alert_record_is_not_a_firing_original(store):
    store.record(normalised("a-1", dedup_key="k-1", status="resolved"))
    assert store.firing_with_key("k-1") is None


def test_link(store):
    store.record(normalised("a-1"))
    store.link("a-1", 42, "new_incident")
    body = store.get("a-1")
    assert (body["incident_id"], body["action"]) == (42, "new_incident")


def test_list_filters(store):
    store.record(normalised("a-1", service="checkout", severity="critical", dedup_key="k-1"))
    store.record(normalised("a-2", service="checkout", severity="low", source="alertmanager"))
    store.record(normalised("a-3", service="search", severity="critical"))
    store.record(
        normalised(
            "a-4", service="search", severity="low", status="resolved", dedup_key="k-1", source="pagerduty"
        )
    )
    store.link("a-1", 1, "new_incident")
    store.link("a-3", 1, "attached_to_existing_incident")
    store.link("a-2", 2, "new_incident")

    def ids(**filters):
        return sorted(item["alert_id"] for item in store.list(filters)["items"])

    assert ids() == ["a-1", "a-2", "a-3", "a-4"]
    assert ids(service="checkout") == ["a-1", "a-2"]
    assert ids(severity="critical") == ["a-1", "a-3"]
    assert ids(status="resolved") == ["a-4"]
    assert ids(status="firing") == ["a-1", "a-2", "a-3"]
    assert ids(incident_id=1) == ["a-1", "a-3"]
    assert ids(dedup_key="k-1") == ["a-1", "a-4"]
    assert ids(source="alertmanager") == ["a-2"]
    assert ids(service="search", severity="low") == ["a-4"]
    assert ids(service="nothing") == []
    assert ids(service="", severity=None) == ["a-1", "a-2", "a-3", "a-4"]


def test_list_pagination_newest_first_without_duplicates(store):
    for n in range(7):
        store.record(normalised(f"a-{n}"))
    everything = store.list({})["items"]
    order = [(dt.datetime.fromisoformat(i["received_at"]), i["alert_id"]) for i in everything]
    assert order == sorted(order, reverse=True)

    pages, cursor = [], None
    while True:
        page = store.list({}, cursor=cursor, limit=3)
        pages.append([item["alert_id"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(pages) < 5, "pagination does not terminate"
    assert [len(p) for p in pages] == [3, 3, 1]
    flat = [i for p in pages for i in p]
    assert flat == [alert_id for _, alert_id in order]
    assert len(set(flat)) == 7


def test_list_rejects_bad_cursor_and_limit(store):
    with pytest.raises(ValidationFailed):
        store.list({}, cursor="not-a-cursor")
    with pytest.raises(ValidationFailed):
        store.list({}, limit=0)


def test_list_by_incident_id_accepts_the_query_string_form(store):
    store.record(normalised("a-1"))
    store.link("a-1", 5, "new_incident")
    assert [i["alert_id"] for i in store.list({"incident_id": "5"})["items"]] == ["a-1"]


def test_list_with_a_non_numeric_incident_id_is_a_validation_failure(store):
    with pytest.raises(ValidationFailed) as raised:
        store.list({"incident_id": "abc"})
    assert raised.value.errors[0]["field"] == "incident_id"
