"""Maintenance windows' matchers and recurrences, pure: "every Sunday 02:00-04:00
Europe/Paris" covers exactly those wall-clock hours on both sides of both daylight-saving
changes."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.alerts import maintenance
from services.shared.errors import ValidationFailed

PARIS = ZoneInfo("Europe/Paris")
UTC = dt.UTC
# 2027's changes in Europe/Paris: clocks forward on Sunday 28 March at 02:00 (no 02:00-03:00),
# back on Sunday 31 October at 03:00 (02:00-03:00 twice).
SPRING = dt.datetime(2027, 3, 28, 1, 0, tzinfo=UTC)
AUTUMN = dt.datetime(2027, 10, 31, 1, 0, tzinfo=UTC)
SUNDAYS = {
    "rrule": "FREQ=WEEKLY;BYDAY=SU",
    "timezone": "Europe/Paris",
    "start_time": "02:00",
    "end_time": "04:00",
}


def window(recurrence=SUNDAYS, starts_at=dt.datetime(2027, 1, 1, tzinfo=UTC), ends_at=None):
    return {"recurrence": recurrence, "starts_at": starts_at, "ends_at": ends_at, "ended_at": None}


def in_sunday_night(at):
    """What the owner means: Sunday, and the wall clock in Paris reads 02:00 to 03:59."""
    local = at.astimezone(PARIS)
    return local.weekday() == 6 and 2 <= local.hour < 4


def instants_near(change):
    """Any minute of the two weeks around a change (both Sundays before and after it)."""
    return st.integers(min_value=-8 * 24 * 60, max_value=8 * 24 * 60).map(
        lambda minutes: change + dt.timedelta(minutes=minutes)
    )


@settings(max_examples=400, deadline=None)
@given(st.one_of(instants_near(SPRING), instants_near(AUTUMN)))
def test_a_weekly_paris_window_covers_sunday_02_to_04_wall_clock_across_dst(at):
    assert (maintenance.occurrence_at(window(), at) is not None) == in_sunday_night(at)


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        (dt.date(2027, 3, 21), 2),  # winter
        (dt.date(2027, 3, 28), 1),  # clocks forward: 02:00 becomes 03:00
        (dt.date(2027, 4, 4), 2),  # summer
        (dt.date(2027, 10, 31), 3),  # clocks back: 02:00-03:00 twice
        (dt.date(2027, 11, 7), 2),  # winter
    ],
)
def test_occurrences_last_as_long_as_the_wall_clock_says(day, hours):
    noon_before = dt.datetime.combine(day, dt.time(0), tzinfo=PARIS) - dt.timedelta(hours=12)
    start, end = maintenance.next_occurrence(window(), noon_before)
    assert start.astimezone(PARIS).date() == day
    assert end - start == dt.timedelta(hours=hours)
    assert end.astimezone(PARIS).time() == dt.time(4)


def test_an_overnight_occurrence_ends_the_next_day():
    nightly = {**SUNDAYS, "rrule": "FREQ=DAILY", "start_time": "22:00", "end_time": "02:00"}
    at = dt.datetime(2027, 1, 5, 0, 30, tzinfo=PARIS)
    start, end = maintenance.occurrence_at(window(nightly), at)
    assert start == dt.datetime(2027, 1, 4, 22, 0, tzinfo=PARIS)
    assert end == dt.datetime(2027, 1, 5, 2, 0, tzinfo=PARIS)


def test_a_series_stops_at_its_end():
    ends = dt.datetime(2027, 1, 10, 2, 30, tzinfo=PARIS)  # during the Sunday occurrence
    series = window(ends_at=ends)
    assert maintenance.occurrence_at(series, ends - dt.timedelta(minutes=1))[1] == ends
    assert maintenance.occurrence_at(series, ends) is None
    assert maintenance.next_occurrence(series, ends) is None


def test_a_single_window():
    start = dt.datetime(2027, 1, 1, 10, tzinfo=UTC)
    single = window(recurrence=None, starts_at=start, ends_at=start + dt.timedelta(hours=1))
    assert maintenance.occurrence_at(single, start - dt.timedelta(seconds=1)) is None
    assert maintenance.occurrence_at(single, start) == (start, start + dt.timedelta(hours=1))
    assert maintenance.next_occurrence(single, start - dt.timedelta(days=1))[0] == start
    assert maintenance.occurrence_at(single, start + dt.timedelta(hours=1)) is None


@pytest.mark.parametrize(
    ("text", "op", "value"),
    [
        ("service=db", "=", "db"),
        ("team != web", "!=", "web"),
        ('env=~"prod|stage"', "=~", "prod|stage"),
        ("a!~x.*", "!~", "x.*"),
    ],
)
def test_matchers_as_amtool_writes_them(text, op, value):
    matcher = maintenance.parse_matcher(text)
    assert (matcher.op, matcher.value) == (op, value)


def test_regular_expressions_match_the_whole_value_and_a_missing_label_is_empty():
    prod = {"name": "env", "op": "=~", "value": "prod"}
    assert maintenance.matches([prod], {"service": "s", "labels": {"env": "prod"}})
    assert not maintenance.matches([prod], {"service": "s", "labels": {"env": "production"}})
    absent = {"name": "region", "op": "=", "value": ""}
    assert maintenance.matches([absent], {"service": "s", "labels": {}})
    assert not maintenance.matches(
        [{"name": "region", "op": "!=", "value": ""}], {"service": "s", "labels": {}}
    )


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"reason": "x", "matchers": ["service=db"]}, "body"),  # no end, no recurrence
        ({"reason": "x", "matchers": ["nonsense"], "ends_at": "2027-01-01T00:00:00Z"}, "matchers"),
        ({"reason": "x", "matchers": ["env=~("], "ends_at": "2027-01-01T00:00:00Z"}, "matchers"),
        ({"reason": "x", "matchers": ["a=b"], "ends_at": "2027-01-01T00:00:00"}, "ends_at"),
        (
            {"reason": "x", "matchers": ["a=b"], "recurrence": {**SUNDAYS, "timezone": "Mars/Olympus"}},
            "recurrence.timezone",
        ),
        (
            {"reason": "x", "matchers": ["a=b"], "recurrence": {**SUNDAYS, "rrule": "FREQ=SOMETIMES"}},
            "recurrence.rrule",
        ),
        ({"reason": "x", "matchers": [], "ends_at": "2027-01-01T00:00:00Z"}, "matchers"),
    ],
)
def test_bad_windows_are_refused_naming_the_field(payload, field):
    with pytest.raises(ValidationFailed) as refused:
        maintenance.parse_window(payload)
    assert any(error["field"].startswith(field) for error in refused.value.errors), refused.value.errors


def test_a_change_of_nothing_is_valid_and_changes_nothing():
    change = maintenance.parse_change(
        {"end_now": False, "ends_at": None, "matchers": None, "reason": None, "replay": None}
    )
    assert change.model_dump(exclude_defaults=True) == {}
    assert maintenance.parse_change({"matchers": ["team=data"]}).matchers[0].name == "team"


@pytest.mark.parametrize("rule", ["FREQ=MINUTELY", "FREQ=HOURLY", "FREQ=DAILY;BYHOUR=2"])
def test_rules_that_pick_hours_rather_than_days_are_refused(rule):
    recurrence = {**SUNDAYS, "rrule": rule}
    with pytest.raises(ValidationFailed):
        maintenance.parse_window({"reason": "x", "matchers": ["a=b"], "recurrence": recurrence})
