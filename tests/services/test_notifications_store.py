"""NotificationStore on real SQLite and PostgreSQL: the delivery ledger."""

import datetime as dt
import uuid

import eventlet
import pytest

from services.notifications.models import Notification
from services.notifications.store import NotificationStore
from services.shared.errors import ValidationFailed
from tests.conftest import close_pool


@pytest.fixture
def store(bound):
    db = bound("notifications")
    with db.connection_context():
        yield NotificationStore(db, {})


T0 = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)


def page(incident_id=7, step=0, recipient="alice@example.com", channel="log", **fields):
    request = {
        "incident_id": incident_id,
        "step": step,
        "recipient": recipient,
        "channel": channel,
        "subject": "[critical] checkout-api",
        "message": "5xx above 5%",
        "request_id": fields.pop("request_id", "r-1"),
    }
    request.update(fields)
    return request


def test_claiming_the_same_request_twice_creates_one_row(store):
    row, created = store.claim(page(), T0)
    again, created_again = store.claim(page(request_id="r-2", message="redelivered"), T0)
    assert created is True
    assert created_again is False
    assert again.id == row.id
    assert again.message == "5xx above 5%"
    assert Notification.select().count() == 1
    assert row.status == "pending" and row.attempts == 0
    assert row.key == "7:0:alice@example.com:log"


@pytest.mark.parametrize(
    "other",
    [
        {"step": 1},
        {"recipient": "bob@example.com"},
        {"incident_id": 8},
    ],
)
def test_another_step_recipient_or_incident_is_another_page(store, other):
    _, first = store.claim(page(), T0)
    _, second = store.claim(page(**other), T0)
    assert first and second
    assert Notification.select().count() == 2


def test_adhoc_messages_key_on_their_request_id(store):
    _, a = store.claim(page(incident_id=None, request_id="x-1"), T0)
    _, b = store.claim(page(incident_id=None, request_id="x-1"), T0)
    _, c = store.claim(page(incident_id=None, request_id="x-2"), T0)
    assert (a, b, c) == (True, False, True)
    assert Notification.select().count() == 2


def test_record_attempt_sent(store):
    row, _ = store.claim(page(), T0)
    sent = store.record_attempt(row, None, 250.0, T0, None)
    assert sent.status == "sent"
    assert sent.attempts == 1
    assert sent.error is None
    assert sent.latency_ms == 250.0
    assert sent.delivered_at == T0 and sent.delivered_at.tzinfo is not None


def test_record_attempt_retrying_then_sent_then_every_attempt_listed(store):
    row, _ = store.claim(page(), T0)
    retry_at = T0 + dt.timedelta(seconds=5)
    failed = store.record_attempt(row, "connection refused", 100.0, T0, retry_at)
    assert (failed.status, failed.attempts, failed.error) == ("retrying", 1, "connection refused")
    assert failed.next_attempt_at == retry_at and failed.delivered_at is None

    later = T0 + dt.timedelta(seconds=6)
    sent = store.record_attempt(failed, None, 12.5, later, None)
    assert (sent.status, sent.attempts, sent.error, sent.next_attempt_at) == ("sent", 2, None, None)
    assert sent.delivered_at == later
    assert [(a["number"], a["status"], a["latency_ms"]) for a in store.attempts(row.id)] == [
        (1, "retrying", 100.0),
        (2, "sent", 12.5),
    ]


def test_the_last_failed_attempt_marks_the_delivery_failed(store):
    row, _ = store.claim(page(), T0)
    failed = store.record_attempt(row, "smtp 550", 3.0, T0, None)
    assert (failed.status, failed.next_attempt_at) == ("failed", None)


def test_due_are_the_pending_and_retrying_ones_whose_time_has_come(store):
    pending, _ = store.claim(page(incident_id=1), T0)  # leased for 60 s
    retrying, _ = store.claim(page(incident_id=2), T0)
    store.record_attempt(retrying, "500", 1.0, T0, T0 + dt.timedelta(seconds=10))
    done, _ = store.claim(page(incident_id=3), T0)
    store.record_attempt(done, None, 1.0, T0, None)
    due = store.lease_due(T0 + dt.timedelta(seconds=10), lease_seconds=60)
    assert [row.id for row in due] == [retrying.id]
    due = store.lease_due(T0 + dt.timedelta(seconds=61), lease_seconds=60)
    assert [row.id for row in due] == [pending.id], "the retrying one is leased until 70 s"
    due = store.lease_due(T0 + dt.timedelta(seconds=70), lease_seconds=60)
    assert [row.id for row in due] == [retrying.id], "its lease ran out: due again"


def test_a_leased_delivery_is_due_to_nobody_else_until_its_lease_ends(store):
    row, _ = store.claim(page(incident_id=1), T0)
    assert [r.id for r in store.lease_due(T0 + dt.timedelta(seconds=60), lease_seconds=60)] == [row.id]
    assert store.lease_due(T0 + dt.timedelta(seconds=119), lease_seconds=60) == []
    assert [r.id for r in store.lease_due(T0 + dt.timedelta(seconds=120), lease_seconds=60)] == [row.id]


def test_list_filters(store):
    a, _ = store.claim(page(incident_id=1, recipient="alice@example.com"), T0)
    b, _ = store.claim(page(incident_id=1, recipient="bob@example.com"), T0)
    c, _ = store.claim(page(incident_id=2, recipient="alice@example.com", step=1), T0)
    store.record_attempt(a, None, 1.0, T0, None)
    store.record_attempt(b, "smtp 550", 1.0, T0, None)

    def ids(**filters):
        return sorted(item["id"] for item in store.list(filters)["items"])

    assert ids() == sorted([a.id, b.id, c.id])
    assert ids(incident_id=1) == sorted([a.id, b.id])
    assert ids(recipient="alice@example.com") == sorted([a.id, c.id])
    assert ids(channel="log") == sorted([a.id, b.id, c.id])
    assert ids(channel="email") == []
    assert ids(status="sent") == [a.id]
    assert ids(status="failed") == [b.id]
    assert ids(status="pending") == [c.id]
    assert ids(incident_id=1, status="failed") == [b.id]

    item = next(i for i in store.list({"status": "failed"})["items"])
    assert item["error"] == "smtp 550" and item["attempts"] == 1
    assert item["key"] == "1:0:bob@example.com:log"


def test_list_pagination(store):
    rows = [store.claim(page(incident_id=n), T0)[0] for n in range(5)]
    first = store.list({}, limit=2)
    second = store.list({}, cursor=first["next_cursor"], limit=2)
    third = store.list({}, cursor=second["next_cursor"], limit=2)
    flat = [i["id"] for p in (first, second, third) for i in p["items"]]
    assert [len(p["items"]) for p in (first, second, third)] == [2, 2, 1]
    assert third["next_cursor"] is None
    assert flat == [r.id for r in reversed(rows)]  # newest first
    assert len(set(flat)) == 5
    with pytest.raises(ValidationFailed):
        store.list({}, cursor="garbage")


def test_concurrent_claims_of_one_page_send_it_once(bound, database_url):
    if "sqlite" in database_url:
        pytest.skip("concurrent writers are a PostgreSQL concern; SQLite serialises in-process")
    db = bound("notifications")
    # advisory locks are server-wide; a recipient of our own keeps other runs apart
    request = page(recipient=f"{uuid.uuid4().hex}@example.com")
    try:

        def claim(n):
            try:
                with db.connection_context():
                    row, created = NotificationStore(db, {}).claim(request, T0)
                return row.id, created
            finally:
                db.close()

        results = list(eventlet.GreenPool(10).imap(claim, range(10)))
        assert [created for _, created in results].count(True) == 1
        assert len({row_id for row_id, _ in results}) == 1
        with db.connection_context():
            assert Notification.select().count() == 1
    finally:
        close_pool(db)


def test_list_by_incident_id_accepts_the_query_string_form(store):
    row, _ = store.claim(page(incident_id=5), T0)
    assert [i["id"] for i in store.list({"incident_id": "5"})["items"]] == [row.id]


def test_list_with_a_non_numeric_incident_id_is_a_validation_failure(store):
    with pytest.raises(ValidationFailed) as raised:
        store.list({"incident_id": "abc"})
    assert raised.value.errors[0]["field"] == "incident_id"
