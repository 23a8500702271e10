"""services/oncall/rotation.py: who is on call, shift boundaries, DST behaviour."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.oncall.rotation import (
    KINDS,
    PERIOD_DAYS,
    Rotation,
    on_call,
    shift_index,
    shift_start,
    upcoming_shifts,
)

UTC = dt.UTC
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # 30-minute DST shift
DST_ZONES = [PARIS, NEW_YORK, LORD_HOWE]
FIXED_ZONES = [ZoneInfo("UTC"), ZoneInfo("Asia/Kolkata"), ZoneInfo("Asia/Tokyo")]
ALL_ZONES = DST_ZONES + FIXED_ZONES

ONE_US = dt.timedelta(microseconds=1)
HOUR = dt.timedelta(hours=1)

# Instants at which these zones change offset in 2026 (UTC).
TRANSITIONS = [
    dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # Paris, spring forward
    dt.datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # Paris, fall back
    dt.datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # New York, spring forward
    dt.datetime(2026, 11, 1, 6, 0, tzinfo=UTC),  # New York, fall back
    dt.datetime(2026, 4, 4, 15, 0, tzinfo=UTC),  # Lord Howe, fall back
    dt.datetime(2026, 10, 3, 15, 30, tzinfo=UTC),  # Lord Howe, spring forward
]

SETTINGS = settings(max_examples=100, deadline=None, database=None)

# Handoffs that are neither skipped nor repeated on DST days in the zones above (their
# changes all happen between 01:00 and 03:00 local). Handoffs inside the changing hour
# are covered by the explicit tests at the end of this file.
regular_handoffs = st.builds(dt.time, st.sampled_from([0, *range(3, 24)]), st.integers(0, 59))
any_handoffs = st.builds(dt.time, st.integers(0, 23), st.integers(0, 59))
start_dates = st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31))

calendar_rotations = st.one_of(
    st.builds(
        Rotation,
        kind=st.just("daily"),
        interval=st.integers(1, 5),
        handoff=regular_handoffs,
        zone=st.sampled_from(ALL_ZONES),
        start=start_dates,
    ),
    st.builds(
        Rotation,
        kind=st.just("weekly"),
        interval=st.integers(1, 3),
        handoff=regular_handoffs,
        zone=st.sampled_from(ALL_ZONES),
        start=start_dates,
    ),
)
hourly_fixed_rotations = st.builds(
    Rotation,
    kind=st.just("hourly"),
    interval=st.integers(1, 48),
    handoff=any_handoffs,
    zone=st.sampled_from(FIXED_ZONES),
    start=start_dates,
)
hourly_dst_rotations = st.builds(
    Rotation,
    kind=st.just("hourly"),
    interval=st.integers(1, 48),
    handoff=regular_handoffs,
    zone=st.sampled_from(DST_ZONES),
    start=start_dates,
)

# Anywhere from well before to well after the anchors, plus a lot of instants near DST changes.
instants = st.one_of(
    st.datetimes(dt.datetime(2024, 1, 1), dt.datetime(2029, 1, 1), timezones=st.just(UTC)),
    st.builds(
        lambda base, delta: base + delta,
        st.sampled_from(TRANSITIONS),
        st.timedeltas(-dt.timedelta(days=3), dt.timedelta(days=3)),
    ),
)
team_sizes = st.integers(1, 6)


def team(size):
    return [f"member-{i}" for i in range(size)]


def period(rotation):
    if rotation.kind == "hourly":
        return dt.timedelta(hours=rotation.interval)
    return dt.timedelta(days=PERIOD_DAYS[rotation.kind] * rotation.interval)


def utc_offset(instant, zone):
    return instant.astimezone(zone).utcoffset()


# -- properties of daily and weekly rotations ------------------------------------------------


@SETTINGS
@given(calendar_rotations, team_sizes, instants)
def test_exactly_one_member_on_call_and_it_is_the_indexed_one(rotation, size, at):
    members = team(size)
    person = on_call(rotation, members, at)
    assert person in members
    assert person == members[shift_index(rotation, at) % size]


@SETTINGS
@given(calendar_rotations, instants)
def test_instant_lies_inside_its_shift(rotation, at):
    index = shift_index(rotation, at)
    assert shift_start(rotation, index) <= at < shift_start(rotation, index + 1)


@SETTINGS
@given(calendar_rotations, st.integers(-400, 400))
def test_calendar_shifts_start_at_local_handoff_time(rotation, index):
    start = shift_start(rotation, index)
    local = start.astimezone(rotation.zone)
    assert local.time() == rotation.handoff
    expected_day = rotation.start + dt.timedelta(days=PERIOD_DAYS[rotation.kind] * rotation.interval * index)
    assert local.date() == expected_day
    # the handoff instant belongs to the new shift, the instant before it to the old one
    assert shift_index(rotation, start) == index
    assert shift_index(rotation, start - ONE_US) == index - 1


@SETTINGS
@given(calendar_rotations, st.integers(-400, 400))
def test_calendar_shift_length_absorbs_the_dst_change(rotation, index):
    start = shift_start(rotation, index).astimezone(UTC)
    end = shift_start(rotation, index + 1).astimezone(UTC)
    # same wall-clock time at both ends, so the elapsed time differs from the nominal
    # period by exactly the change of UTC offset in between
    expected = period(rotation) - (utc_offset(end, rotation.zone) - utc_offset(start, rotation.zone))
    assert end - start == expected
    if rotation.zone in FIXED_ZONES:
        assert end - start == period(rotation)


@SETTINGS
@given(calendar_rotations, team_sizes, instants, st.timedeltas(dt.timedelta(0), dt.timedelta(days=30)))
def test_member_changes_exactly_at_handoffs(rotation, size, at, delta):
    members = team(size)
    later = at + delta
    first, last = shift_index(rotation, at), shift_index(rotation, later)
    assert first <= last  # time never runs the rotation backwards
    handoffs = [shift_start(rotation, k) for k in range(first + 1, last + 1)]
    assert all(at < handoff <= later for handoff in handoffs)
    if not handoffs:
        assert on_call(rotation, members, at) == on_call(rotation, members, later)
    for handoff in handoffs:
        before = on_call(rotation, members, handoff - ONE_US)
        after = on_call(rotation, members, handoff)
        assert (before != after) == (size > 1)


@SETTINGS
@given(calendar_rotations, team_sizes, instants)
def test_handoff_passes_to_the_next_member_in_order(rotation, size, at):
    members = team(size)
    index = shift_index(rotation, at)
    handoff = shift_start(rotation, index + 1)
    current = members.index(on_call(rotation, members, at))
    assert members.index(on_call(rotation, members, handoff)) == (current + 1) % size


# -- properties of hourly rotations -----------------------------------------------------------


@SETTINGS
@given(hourly_fixed_rotations, team_sizes, instants)
def test_hourly_rotation_bounds_and_member(rotation, size, at):
    members = team(size)
    index = shift_index(rotation, at)
    assert shift_start(rotation, index) <= at < shift_start(rotation, index + 1)
    assert on_call(rotation, members, at) == members[index % size]


@SETTINGS
@given(hourly_fixed_rotations, st.integers(-2000, 2000))
def test_hourly_shifts_last_n_elapsed_hours(rotation, index):
    start = shift_start(rotation, index).astimezone(UTC)
    end = shift_start(rotation, index + 1).astimezone(UTC)
    assert end - start == dt.timedelta(hours=rotation.interval)
    assert start - rotation.anchor.astimezone(UTC) == dt.timedelta(hours=rotation.interval * index)
    assert shift_index(rotation, start) == index
    assert shift_index(rotation, start - ONE_US) == index - 1


@SETTINGS
@given(
    st.one_of(hourly_fixed_rotations, hourly_dst_rotations),
    st.integers(-2000, 2000),
    st.timedeltas(dt.timedelta(0), dt.timedelta(hours=48)),
)
def test_hourly_index_counts_elapsed_hours_for_utc_instants(rotation, count, extra):
    """Also in zones with DST: N elapsed hours after the anchor is the next shift."""
    extra = min(extra, dt.timedelta(hours=rotation.interval) - ONE_US)
    anchor_utc = rotation.anchor.astimezone(UTC)
    at = anchor_utc + dt.timedelta(hours=rotation.interval * count) + extra
    assert shift_index(rotation, at) == count


# -- upcoming shifts --------------------------------------------------------------------------


@SETTINGS
@given(
    st.one_of(calendar_rotations, hourly_fixed_rotations),
    team_sizes,
    instants,
    st.integers(1, 12),
)
def test_upcoming_shifts_are_contiguous_and_start_with_the_current_one(rotation, size, at, count):
    members = team(size)
    shifts = upcoming_shifts(rotation, members, at, count)
    assert len(shifts) == count
    first_start, first_end, first_member = shifts[0]
    assert first_start <= at < first_end
    assert first_member == on_call(rotation, members, at)
    for (_, end, _), (start, _, _) in zip(shifts, shifts[1:], strict=False):
        assert end == start
    for offset, (start, end, member) in enumerate(shifts):
        assert start.tzinfo is UTC and end.tzinfo is UTC
        assert start < end
        assert member == on_call(rotation, members, start)
        assert member == on_call(rotation, members, end - ONE_US)
        assert member == members[(shift_index(rotation, at) + offset) % size]


def test_upcoming_shifts_of_an_empty_layer():
    rotation = Rotation("daily", 1, dt.time(9), PARIS, dt.date(2026, 1, 1))
    assert upcoming_shifts(rotation, [], dt.datetime(2026, 3, 1, tzinfo=UTC), 5) == []
    assert on_call(rotation, [], dt.datetime(2026, 3, 1, tzinfo=UTC)) is None


def test_kinds():
    assert set(KINDS) == {"hourly", "daily", "weekly"}
    assert PERIOD_DAYS == {"daily": 1, "weekly": 7}


def test_anchor_is_start_date_at_handoff_in_zone():
    rotation = Rotation("weekly", 1, dt.time(9, 30), NEW_YORK, dt.date(2026, 1, 5))
    assert rotation.anchor == dt.datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
    assert rotation.anchor.tzinfo is NEW_YORK


# -- explicit DST days (hand-computed UTC instants) ------------------------------------------

MEMBERS = ["alice", "bob", "carol"]


@pytest.mark.parametrize(
    ("zone", "kind", "handoff_utc", "previous_utc", "hours"),
    [
        # daily at 09:00, the handoff on the DST day itself
        (
            PARIS,
            "daily",
            dt.datetime(2026, 3, 29, 7, tzinfo=UTC),
            dt.datetime(2026, 3, 28, 8, tzinfo=UTC),
            23,
        ),
        (
            PARIS,
            "daily",
            dt.datetime(2026, 10, 25, 8, tzinfo=UTC),
            dt.datetime(2026, 10, 24, 7, tzinfo=UTC),
            25,
        ),
        (
            NEW_YORK,
            "daily",
            dt.datetime(2026, 3, 8, 13, tzinfo=UTC),
            dt.datetime(2026, 3, 7, 14, tzinfo=UTC),
            23,
        ),
        (
            NEW_YORK,
            "daily",
            dt.datetime(2026, 11, 1, 14, tzinfo=UTC),
            dt.datetime(2026, 10, 31, 13, tzinfo=UTC),
            25,
        ),
        # weekly on Mondays at 09:00, the week that contains the DST change
        (
            PARIS,
            "weekly",
            dt.datetime(2026, 3, 30, 7, tzinfo=UTC),
            dt.datetime(2026, 3, 23, 8, tzinfo=UTC),
            167,
        ),
        (
            PARIS,
            "weekly",
            dt.datetime(2026, 10, 26, 8, tzinfo=UTC),
            dt.datetime(2026, 10, 19, 7, tzinfo=UTC),
            169,
        ),
        (
            NEW_YORK,
            "weekly",
            dt.datetime(2026, 3, 9, 13, tzinfo=UTC),
            dt.datetime(2026, 3, 2, 14, tzinfo=UTC),
            167,
        ),
        (
            NEW_YORK,
            "weekly",
            dt.datetime(2026, 11, 2, 14, tzinfo=UTC),
            dt.datetime(2026, 10, 26, 13, tzinfo=UTC),
            169,
        ),
    ],
)
def test_handoff_stays_at_nine_local_across_dst(zone, kind, handoff_utc, previous_utc, hours):
    rotation = Rotation(kind, 1, dt.time(9, 0), zone, dt.date(2026, 1, 5))  # a Monday
    index = shift_index(rotation, handoff_utc)
    assert shift_start(rotation, index) == handoff_utc
    assert shift_start(rotation, index - 1) == previous_utc
    assert handoff_utc - previous_utc == dt.timedelta(hours=hours)
    assert handoff_utc.astimezone(zone).time() == dt.time(9, 0)
    # the member changes at the handoff and not an hour before or after it
    assert on_call(rotation, MEMBERS, handoff_utc - HOUR) == on_call(rotation, MEMBERS, previous_utc)
    assert on_call(rotation, MEMBERS, handoff_utc - ONE_US) == MEMBERS[(index - 1) % 3]
    assert on_call(rotation, MEMBERS, handoff_utc) == MEMBERS[index % 3]
    assert on_call(rotation, MEMBERS, handoff_utc + HOUR) == MEMBERS[index % 3]
    shifts = upcoming_shifts(rotation, MEMBERS, previous_utc, 2)
    assert shifts == [
        (previous_utc, handoff_utc, MEMBERS[(index - 1) % 3]),
        (handoff_utc, shift_start(rotation, index + 1).astimezone(UTC), MEMBERS[index % 3]),
    ]


def test_daily_rotation_from_a_local_wall_clock_instant():
    rotation = Rotation("daily", 1, dt.time(9, 0), PARIS, dt.date(2026, 3, 27))
    just_before = dt.datetime(2026, 3, 29, 8, 59, 59, tzinfo=PARIS)
    at_nine = dt.datetime(2026, 3, 29, 9, 0, tzinfo=PARIS)
    assert shift_index(rotation, just_before) == 1
    assert shift_index(rotation, at_nine) == 2
    assert on_call(rotation, MEMBERS, just_before) == "bob"
    assert on_call(rotation, MEMBERS, at_nine) == "carol"


def test_every_two_days_and_every_two_weeks():
    daily = Rotation("daily", 2, dt.time(8, 0), NEW_YORK, dt.date(2026, 3, 1))
    assert shift_start(daily, 1) == dt.datetime(2026, 3, 3, 13, tzinfo=UTC)
    assert shift_start(daily, 4) == dt.datetime(2026, 3, 9, 12, tzinfo=UTC)  # after DST
    assert shift_index(daily, dt.datetime(2026, 3, 9, 11, 59, tzinfo=UTC)) == 3
    weekly = Rotation("weekly", 2, dt.time(8, 0), NEW_YORK, dt.date(2026, 3, 2))
    assert shift_start(weekly, 1) == dt.datetime(2026, 3, 16, 12, tzinfo=UTC)
    assert shift_index(weekly, dt.datetime(2026, 3, 16, 11, 59, tzinfo=UTC)) == 0


# -- before the anchor ------------------------------------------------------------------------


def test_daily_before_the_anchor_has_negative_indexes():
    rotation = Rotation("daily", 1, dt.time(9, 0), PARIS, dt.date(2026, 3, 1))
    anchor = dt.datetime(2026, 3, 1, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert rotation.anchor == anchor
    assert shift_index(rotation, anchor) == 0
    assert shift_index(rotation, anchor - ONE_US) == -1
    assert shift_index(rotation, anchor - dt.timedelta(days=1)) == -1
    assert shift_index(rotation, anchor - dt.timedelta(days=1) - ONE_US) == -2
    assert shift_start(rotation, -1) == dt.datetime(2026, 2, 28, 8, 0, tzinfo=UTC)
    assert on_call(rotation, MEMBERS, anchor - ONE_US) == "carol"
    assert on_call(rotation, MEMBERS, anchor - dt.timedelta(days=2)) == "bob"
    assert on_call(rotation, MEMBERS, anchor - dt.timedelta(days=3)) == "alice"
    assert on_call(rotation, MEMBERS, anchor - dt.timedelta(days=3, microseconds=1)) == "carol"
    shifts = upcoming_shifts(rotation, MEMBERS, anchor - dt.timedelta(hours=30), 3)
    assert [member for _, _, member in shifts] == ["bob", "carol", "alice"]
    assert shifts[2][0] == anchor


def test_weekly_before_the_anchor_crossing_fall_back():
    # anchor Monday 2026-11-02 09:00 EST; the previous shift started 2026-10-26 09:00 EDT
    rotation = Rotation("weekly", 1, dt.time(9, 0), NEW_YORK, dt.date(2026, 11, 2))
    assert shift_start(rotation, -1) == dt.datetime(2026, 10, 26, 13, tzinfo=UTC)
    assert shift_index(rotation, dt.datetime(2026, 11, 2, 13, 59, tzinfo=UTC)) == -1
    assert shift_index(rotation, dt.datetime(2026, 10, 26, 12, 59, tzinfo=UTC)) == -2


def test_hourly_before_the_anchor_has_negative_indexes():
    rotation = Rotation("hourly", 8, dt.time(6, 0), ZoneInfo("UTC"), dt.date(2026, 1, 1))
    anchor = dt.datetime(2026, 1, 1, 6, tzinfo=UTC)
    assert shift_index(rotation, anchor - ONE_US) == -1
    assert shift_index(rotation, anchor - dt.timedelta(hours=8)) == -1
    assert shift_index(rotation, anchor - dt.timedelta(hours=8) - ONE_US) == -2
    assert shift_start(rotation, -2) == anchor - dt.timedelta(hours=16)
    assert on_call(rotation, MEMBERS, anchor - ONE_US) == "carol"


def test_hourly_counts_elapsed_hours_across_paris_spring_forward_for_utc_instants():
    rotation = Rotation("hourly", 12, dt.time(9, 0), PARIS, dt.date(2026, 3, 28))
    anchor = dt.datetime(2026, 3, 28, 8, tzinfo=UTC)  # 09:00 CET
    assert shift_index(rotation, anchor + dt.timedelta(hours=24) - ONE_US) == 1
    assert shift_index(rotation, anchor + dt.timedelta(hours=24)) == 2


# -- known defects (see the report) -----------------------------------------------------------


def test_hourly_shift_start_every_elapsed_hour_across_spring_forward():
    rotation = Rotation("hourly", 1, dt.time(9, 0), PARIS, dt.date(2026, 3, 28))
    starts = [shift_start(rotation, k).astimezone(UTC) for k in range(14, 22)]
    assert all(b - a == HOUR for a, b in zip(starts, starts[1:], strict=False))


def test_hourly_shift_start_every_elapsed_hour_across_fall_back():
    rotation = Rotation("hourly", 1, dt.time(9, 0), NEW_YORK, dt.date(2026, 10, 31))
    starts = [shift_start(rotation, k).astimezone(UTC) for k in range(10, 24)]
    assert all(b - a == HOUR for a, b in zip(starts, starts[1:], strict=False))


def test_hourly_upcoming_shifts_have_positive_length_across_dst():
    rotation = Rotation("hourly", 1, dt.time(9, 0), PARIS, dt.date(2026, 3, 28))
    at = dt.datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    shifts = upcoming_shifts(rotation, MEMBERS, at, 4)
    assert all(start < end for start, end, _ in shifts)
    for start, _, member in shifts:
        assert on_call(rotation, MEMBERS, start) == member


def test_hourly_index_does_not_depend_on_the_zone_of_the_instant():
    rotation = Rotation("hourly", 1, dt.time(9, 0), PARIS, dt.date(2026, 3, 28))
    at = dt.datetime(2026, 3, 29, 12, tzinfo=PARIS)
    assert shift_index(rotation, at) == shift_index(rotation, at.astimezone(UTC))


def _sweep(start, hours, step_minutes=10):
    count = hours * 60 // step_minutes
    return [start + dt.timedelta(minutes=step_minutes * i) for i in range(count + 1)]


@pytest.mark.parametrize(
    ("zone", "handoff", "sweep_start"),
    [
        (PARIS, dt.time(2, 30), dt.datetime(2026, 10, 24, 23, tzinfo=UTC)),
        (NEW_YORK, dt.time(1, 30), dt.datetime(2026, 11, 1, 4, tzinfo=UTC)),
    ],
)
def test_handoff_in_the_repeated_hour_happens_once(zone, handoff, sweep_start):
    rotation = Rotation("daily", 1, handoff, zone, dt.date(2026, 10, 1))
    indexes = [shift_index(rotation, t) for t in _sweep(sweep_start, 4)]
    assert indexes == sorted(indexes)


@pytest.mark.parametrize(
    ("zone", "handoff", "sweep_start"),
    [
        (PARIS, dt.time(2, 30), dt.datetime(2026, 3, 28, 23, tzinfo=UTC)),
        (NEW_YORK, dt.time(2, 30), dt.datetime(2026, 3, 8, 5, tzinfo=UTC)),
    ],
)
def test_handoff_in_the_skipped_hour_is_consistent(zone, handoff, sweep_start):
    rotation = Rotation("daily", 1, handoff, zone, dt.date(2026, 3, 1))
    for at in _sweep(sweep_start, 4):
        index = shift_index(rotation, at)
        assert shift_start(rotation, index) <= at < shift_start(rotation, index + 1)
