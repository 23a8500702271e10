"""services/incidents/domain.py: the incident lifecycle and the MTTA/MTTR it records."""

import datetime as dt
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.incidents import contracts as c
from services.incidents.domain import (
    EVENT_OF_STATUS,
    TIMELINE_KIND,
    check_status,
    check_transition,
    seconds_between,
    transition_changes,
)
from services.shared.errors import Conflict, ValidationFailed

UTC = dt.UTC
CREATED = dt.datetime(2026, 3, 8, 10, 0, tzinfo=UTC)
STATUSES = ("open", "acknowledged", "in_progress", "resolved")
# open → acknowledged → in_progress → resolved; resolve may skip ahead; reopen explicitly.
LEGAL = {
    ("open", "acknowledged"),
    ("acknowledged", "in_progress"),
    ("in_progress", "resolved"),
    ("open", "resolved"),
    ("acknowledged", "resolved"),
    ("resolved", "open"),
}
ALL_PAIRS = [(current, target) for current in STATUSES for target in STATUSES]
ILLEGAL = sorted(set(ALL_PAIRS) - LEGAL)


def incident(status="open", acknowledged_at=None, resolved_at=None, created_at=CREATED):
    return SimpleNamespace(
        status=status,
        created_at=created_at,
        acknowledged_at=acknowledged_at,
        resolved_at=resolved_at,
        mtta_seconds=None,
        mttr_seconds=None,
        updated_at=created_at,
    )


def test_statuses_match_the_contract():
    assert c.STATUSES == STATUSES


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL))
def test_legal_transition(current, target):
    check_transition(current, target)
    acknowledged = CREATED if current != "open" else None
    now = CREATED + dt.timedelta(minutes=5)
    changes = transition_changes(incident(current, acknowledged_at=acknowledged), target, now)
    assert changes["status"] == target
    assert changes["updated_at"] == now


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_illegal_transition_is_a_conflict(current, target):
    with pytest.raises(Conflict) as caught:
        check_transition(current, target)
    assert current in str(caught.value)
    assert target in str(caught.value)
    before = incident(current, acknowledged_at=CREATED if current != "open" else None)
    snapshot = dict(vars(before))
    with pytest.raises(Conflict):
        transition_changes(before, target, CREATED + dt.timedelta(hours=1))
    assert vars(before) == snapshot


@pytest.mark.parametrize("current", STATUSES)
def test_staying_in_the_same_status_is_a_conflict(current):
    with pytest.raises(Conflict):
        check_transition(current, current)


def test_acknowledge_cannot_be_skipped_to_in_progress():
    with pytest.raises(Conflict, match="allowed: acknowledged, resolved"):
        check_transition("open", "in_progress")


@pytest.mark.parametrize("target", ["closed", "OPEN", "", None, "in progress", 1])
@pytest.mark.parametrize("current", STATUSES)
def test_unknown_target_status_is_invalid(current, target):
    with pytest.raises(ValidationFailed) as caught:
        check_transition(current, target)
    assert [e["field"] for e in caught.value.errors] == ["status"]


@pytest.mark.parametrize("status", STATUSES)
def test_check_status_accepts_known(status):
    assert check_status(status) == status


def test_timeline_kinds_and_events():
    assert TIMELINE_KIND == {
        "acknowledged": c.ACKNOWLEDGED,
        "in_progress": c.IN_PROGRESS,
        "resolved": c.RESOLVED,
        "open": c.REOPENED,
    }
    assert EVENT_OF_STATUS["acknowledged"] == c.INCIDENT_ACKNOWLEDGED
    assert EVENT_OF_STATUS["resolved"] == c.INCIDENT_RESOLVED
    assert EVENT_OF_STATUS["open"] == c.INCIDENT_REOPENED


# -- MTTA and MTTR ----------------------------------------------------------------------------


def test_acknowledge_records_mtta():
    now = CREATED + dt.timedelta(minutes=4, seconds=30, microseconds=123456)
    changes = transition_changes(incident("open"), "acknowledged", now)
    assert changes == {
        "status": "acknowledged",
        "updated_at": now,
        "acknowledged_at": now,
        "mtta_seconds": 270.123,
    }


def test_in_progress_keeps_the_first_acknowledgement():
    acknowledged = CREATED + dt.timedelta(minutes=2)
    now = CREATED + dt.timedelta(minutes=10)
    changes = transition_changes(incident("acknowledged", acknowledged), "in_progress", now)
    assert changes == {"status": "in_progress", "updated_at": now}


def test_in_progress_without_acknowledgement_time_records_it():
    now = CREATED + dt.timedelta(seconds=90)
    changes = transition_changes(incident("acknowledged", None), "in_progress", now)
    assert changes["acknowledged_at"] == now
    assert changes["mtta_seconds"] == 90.0


def test_resolve_records_mttr():
    now = CREATED + dt.timedelta(hours=1, milliseconds=500)
    changes = transition_changes(incident("in_progress", CREATED), "resolved", now)
    assert changes == {
        "status": "resolved",
        "updated_at": now,
        "resolved_at": now,
        "mttr_seconds": 3600.5,
    }


def test_resolve_straight_from_open_has_no_mtta():
    now = CREATED + dt.timedelta(minutes=7)
    changes = transition_changes(incident("open"), "resolved", now)
    assert changes["mttr_seconds"] == 420.0
    assert "acknowledged_at" not in changes
    assert "mtta_seconds" not in changes


def test_reopen_clears_resolution_and_keeps_acknowledgement():
    resolved = CREATED + dt.timedelta(hours=2)
    now = CREATED + dt.timedelta(hours=3)
    changes = transition_changes(incident("resolved", CREATED, resolved), "open", now)
    assert changes == {
        "status": "open",
        "updated_at": now,
        "resolved_at": None,
        "mttr_seconds": None,
    }


def test_mttr_after_reopen_counts_from_creation():
    again = incident("open", acknowledged_at=CREATED + dt.timedelta(minutes=1))
    now = CREATED + dt.timedelta(days=1)
    assert transition_changes(again, "resolved", now)["mttr_seconds"] == 86400.0
    assert "mtta_seconds" not in transition_changes(again, "acknowledged", now)


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (dt.timedelta(0), 0.0),
        (dt.timedelta(microseconds=1499), 0.001),
        (dt.timedelta(microseconds=1600), 0.002),
        (dt.timedelta(days=400), 34560000.0),
        (dt.timedelta(seconds=-5), -5.0),
    ],
)
def test_seconds_between_rounds_to_milliseconds(delta, expected):
    assert seconds_between(CREATED, CREATED + delta) == expected


def test_seconds_between_mixed_offsets():
    later = dt.datetime(2026, 3, 8, 11, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert seconds_between(CREATED, later) == 0.0


# -- random walks through the lifecycle -------------------------------------------------------


@settings(max_examples=150, deadline=None, database=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(STATUSES),
            st.timedeltas(dt.timedelta(0), dt.timedelta(hours=6)),
        ),
        max_size=15,
    )
)
def test_random_walk_keeps_mtta_and_mttr_consistent(steps):
    state = incident()
    now = CREATED
    first_ack = None
    for target, gap in steps:
        now += gap
        legal = (state.status, target) in LEGAL
        before = dict(vars(state))
        if not legal:
            with pytest.raises(Conflict):
                transition_changes(state, target, now)
            assert vars(state) == before
            continue
        changes = transition_changes(state, target, now)
        for name, value in changes.items():
            setattr(state, name, value)
        assert state.status == target
        assert state.updated_at == now
        if target == "acknowledged" and first_ack is None:
            first_ack = now
        assert state.acknowledged_at == first_ack
        if first_ack is not None:
            assert state.mtta_seconds == round((first_ack - CREATED).total_seconds(), 3)
        if target == "resolved":
            assert state.resolved_at == now
            assert state.mttr_seconds == round((now - CREATED).total_seconds(), 3)
        else:
            assert state.resolved_at is None
            assert state.mttr_seconds is None
