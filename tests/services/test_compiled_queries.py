"""Queries compiled once per shape give what peewee gives, on real SQLite and PostgreSQL."""

import datetime as dt

import pytest

from services.incidents.models import Incident
from services.shared.compiled import CompiledQuery, Slot, padded, slots

UTC = dt.UTC
T0 = dt.datetime(2026, 11, 20, 3, 0, 0, tzinfo=UTC)


@pytest.fixture
def incidents(incidents_db):
    with incidents_db.connection_context():
        rows = [
            Incident.create(
                title=f"disk full {n}",
                service="checkout-api",
                severity="critical",
                status="resolved" if n % 3 == 0 else "open",
                correlation_key=f"key-{n}",
                created_at=T0 + dt.timedelta(minutes=n),
                updated_at=T0,
            )
            for n in range(10)
        ]
        yield rows


def test_padded_lists_have_a_power_of_two_items_and_mean_the_same():
    assert padded([]) == []
    assert padded(["a"]) == ["a"]
    assert padded(["a", "b", "c"]) == ["a", "b", "c", "c"]
    assert padded(range(5)) == [0, 1, 2, 3, 4, 4, 4, 4]
    assert len(padded(range(257))) == 512


def test_rows_are_those_of_the_plain_query_with_fields_converted(incidents):
    built = []

    def open_by_key(count):
        built.append(count)
        return Incident.select().where(
            Incident.correlation_key.in_(slots("items", count)) & (Incident.status != "resolved")
        )

    query = CompiledQuery(open_by_key)
    for keys in (["key-1", "key-2", "key-3"], ["key-4", "key-5", "key-6"], ["key-0", "key-7"], ["nothing"]):
        expected = Incident.select().where(
            Incident.correlation_key.in_(keys) & (Incident.status != "resolved")
        )
        got = list(query.rows_in(Incident, keys))
        assert sorted(row.id for row in got) == sorted(row.id for row in expected)
        for row in got:
            assert row.status == "open"
            assert row.created_at.tzinfo is not None
            assert row.created_at == T0 + dt.timedelta(minutes=int(row.correlation_key.split("-")[1]))
    # Three and three keys share the shape of four; two and one have their own.
    assert built == [4, 2, 1]


def test_a_slot_takes_a_converted_instant(incidents):
    def created_since():
        return Incident.select().where(Incident.created_at >= Slot("since")).order_by(Incident.id)

    query = CompiledQuery(created_since)
    since = T0 + dt.timedelta(minutes=7)
    got = query.rows(Incident, (), {"since": Incident.created_at.db_value(since)})
    assert [row.correlation_key for row in got] == ["key-7", "key-8", "key-9"]
    later = query.rows(Incident, (), {"since": Incident.created_at.db_value(T0 + dt.timedelta(minutes=9))})
    assert [row.correlation_key for row in later] == ["key-9"]
