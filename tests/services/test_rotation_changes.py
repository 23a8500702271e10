"""Members joining and leaving a rotation: the person on call keeps the shift and the
others keep their order after them, on real SQLite and PostgreSQL and as a property."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.oncall.requests import parse_schedule
from services.oncall.rotation import holder, keep_turn
from services.oncall.store import OncallStore

UTC = dt.UTC
START = dt.date(2026, 11, 2)  # a Monday
NOW = dt.datetime(2026, 11, 10, 12, tzinfo=UTC)  # week 1 of the rotation: the second member's


def schedule(*names):
    members = [{"name": n, "email": f"{n.lower()}@example.com"} for n in names]
    return parse_schedule(
        {"team": "web", "rotation_type": "weekly", "start_date": START.isoformat(), "members": members}
    )


@pytest.fixture
def store(bound):
    db = bound("oncall")
    with db.connection_context():
        yield OncallStore(db, {})


def names(store, count=5):
    return [s["name"] for s in store.upcoming("web", NOW, count)["primary"]]


def test_a_newcomer_joins_after_the_others_and_nobody_on_call_changes(store):
    store.save_schedule(schedule("Ann", "Ben", "Cat"), NOW)
    assert names(store) == ["Ben", "Cat", "Ann", "Ben", "Cat"]
    store.save_schedule(schedule("Ann", "Ben", "Cat", "Dov"), NOW)
    assert names(store) == ["Ben", "Cat", "Dov", "Ann", "Ben"]


def test_someone_not_on_call_leaves_and_the_order_closes_up(store):
    store.save_schedule(schedule("Ann", "Ben", "Cat", "Dov"), NOW)
    store.save_schedule(schedule("Ann", "Ben", "Dov"), NOW)
    assert names(store, 4) == ["Ben", "Dov", "Ann", "Ben"]


def test_the_person_on_call_leaves_and_the_next_one_takes_over_now(store):
    store.save_schedule(schedule("Ann", "Ben", "Cat"), NOW)
    store.save_schedule(schedule("Ann", "Cat"), NOW)
    assert names(store, 3) == ["Cat", "Ann", "Cat"]


def test_saving_the_same_members_again_changes_nothing(store):
    store.save_schedule(schedule("Ann", "Ben", "Cat"), NOW)
    before = names(store, 9)
    store.save_schedule(schedule("Ann", "Ben", "Cat"), NOW + dt.timedelta(days=9))
    assert names(store, 9) == before


people = st.lists(st.sampled_from("ABCDEFGHIJ"), min_size=1, max_size=8, unique=True)


@given(old=people, new=people, holder_position=st.integers(0, 7), index=st.integers(-50, 50))
def test_the_holder_stays_and_the_others_keep_their_order(old, new, holder_position, index):
    holder_position %= len(old)
    turn = keep_turn(old, holder_position, new, index)
    on_call = holder(new, index, turn)
    if old[holder_position] in new:
        assert on_call == old[holder_position]
    kept = [m for m in old[holder_position:] + old[:holder_position] if m in new]
    if kept:
        assert on_call == kept[0], "the holder, or whoever was next among those who stay"
        upcoming = [holder(new, index + k, turn) for k in range(len(new))]
        assert [m for m in upcoming if m in kept] == [
            m for m in new[new.index(kept[0]) :] + new[: new.index(kept[0])] if m in kept
        ]
