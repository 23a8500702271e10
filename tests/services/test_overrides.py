"""Overrides on real SQLite and PostgreSQL: who covers, when, and which one wins."""

import datetime as dt
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.oncall import engine, paging
from services.oncall.policy import parse_policy
from services.oncall.requests import parse_override, parse_schedule
from services.oncall.rotation import covering
from services.oncall.store import OncallStore
from services.shared.errors import NotFound, ValidationFailed
from tests.services.test_escalation_engine import Recorder

UTC = dt.UTC
TEAM = "storefront"
# A weekly rotation with Alice alone as primary and Carol as secondary.
MEMBERS = [
    {"name": "Alice", "email": "alice@example.com", "role": "primary"},
    {"name": "Carol", "email": "carol@example.com", "role": "secondary"},
]
SATURDAY = dt.datetime(2026, 11, 28, tzinfo=dt.timezone(dt.timedelta(hours=1)))  # Paris, winter


def at(hour, minute=0):
    return SATURDAY.replace(hour=hour, minute=minute)


@pytest.fixture
def store(bound):
    db = bound("oncall")
    with db.connection_context():
        oncall = OncallStore(db, {})
        schedule = {"team": TEAM, "rotation_type": "weekly", "members": MEMBERS, "services": ["shop"]}
        oncall.save_schedule(parse_schedule(schedule), at(0))
        yield oncall


def cover(store, email, start, end, layer="primary", name=None):
    payload = {"team": TEAM, "layer": layer, "email": email, "name": name, "start": start.isoformat()}
    return store.add_override(parse_override({**payload, "end": end.isoformat()}), at(0))


def primary(store, when):
    return store.current(TEAM, when)["primary"]["name"]


def test_bob_covers_alice_on_saturday_from_eight_to_eight(store):
    added = cover(store, "bob@example.com", at(8), at(20), name="Bob")
    assert (added["name"], added["layer"]) == ("Bob", "primary")
    assert [primary(store, at(h, m)) for h, m in ((7, 59), (8, 0), (19, 59), (20, 0))] == [
        "Alice",
        "Bob",
        "Bob",
        "Alice",
    ]
    assert store.current(TEAM, at(12))["secondary"]["name"] == "Carol", "another layer is untouched"


def test_stacked_overrides_the_latest_wins_within_its_window(store):
    cover(store, "bob@example.com", at(8), at(20), name="Bob")
    cover(store, "dan@example.com", at(12), at(14), name="Dan")
    assert [primary(store, at(h)) for h in (11, 12, 13, 14, 19)] == ["Bob", "Dan", "Dan", "Bob", "Bob"]
    cover(store, "bob@example.com", at(13), at(15))
    assert [primary(store, at(h)) for h in (12, 13, 14)] == ["Dan", "Bob", "Bob"]


def test_the_engine_pages_whoever_covers_the_layer(store):
    steps = [{"delay_minutes": 5, "targets": [{"type": "layer", "layer": "primary"}]}] * 2
    store.save_policy(parse_policy({"team": TEAM, "steps": steps}), at(0))
    cover(store, "bob@example.com", at(8), at(20), name="Bob")
    recorder = Recorder()
    incident = {"id": 1, "service": "shop", "severity": "high", "title": "checkout down"}
    paging.route_incident(store, recorder, incident, at(7, 58))
    engine.tick(store, recorder, at(8, 3))
    assert recorder.pages() == [(1, 0, "alice@example.com"), (1, 1, "bob@example.com")]


def test_list_and_delete(store):
    first = cover(store, "bob@example.com", at(8), at(20), name="Bob")
    cover(store, "dan@example.com", at(1), at(2), name="Dan")
    assert [o["name"] for o in store.overrides(TEAM, at(0))] == ["Dan", "Bob"]
    assert [o["name"] for o in store.overrides(TEAM, at(3))] == ["Bob"], "ended ones are left out"
    store.delete_override(first["id"])
    assert primary(store, at(12)) == "Alice"
    with pytest.raises(NotFound):
        store.delete_override(first["id"])


def test_an_override_for_a_team_without_a_schedule_is_not_found(store):
    request = parse_override(
        {
            "team": "nobody",
            "email": "bob@example.com",
            "start": "2026-11-28T08:00:00Z",
            "end": "2026-11-28T09:00:00Z",
        }
    )
    with pytest.raises(NotFound):
        store.add_override(request, at(0))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end": "2026-11-28T07:00:00+01:00"}, "end"),
        ({"end": "2026-11-28T08:00:00+01:00"}, "end"),
        ({"start": "2026-11-28T08:00:00"}, "start"),
        ({"layer": "tertiary"}, "layer"),
        ({"email": "not-an-address"}, "email"),
    ],
)
def test_bad_overrides_are_refused_naming_the_field(change, field):
    payload = {"team": TEAM, "email": "bob@example.com", "start": "2026-11-28T08:00:00+01:00"}
    payload.update({"end": "2026-11-28T20:00:00+01:00", **change})
    with pytest.raises(ValidationFailed) as refused:
        parse_override(payload)
    assert field in [error["field"] for error in refused.value.errors], refused.value.errors


BASE = dt.datetime(2026, 3, 29, tzinfo=UTC)
windows = st.lists(st.tuples(st.integers(0, 96), st.integers(1, 48)), max_size=6)


@given(windows=windows, probe=st.integers(-4, 150))
def test_overrides_win_exactly_within_their_windows_and_the_newest_one_wins(windows, probe):
    overrides = [
        SimpleNamespace(
            id=n,
            starts_at=BASE + dt.timedelta(hours=start),
            ends_at=BASE + dt.timedelta(hours=start + length),
        )
        for n, (start, length) in enumerate(windows)
    ]
    instant = BASE + dt.timedelta(hours=probe, minutes=30)
    holding = [o for o in overrides if o.starts_at <= instant < o.ends_at]
    chosen = covering(overrides, instant)
    if not holding:
        assert chosen is None
    else:
        assert chosen in holding and all(o.id <= chosen.id for o in holding)
