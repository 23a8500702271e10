"""Upcoming shifts per team and per person, and the iCalendar feed of both, read back
with a standard iCalendar library."""

import datetime as dt

import icalendar
import pytest

from services.oncall import ical
from services.oncall.requests import parse_schedule
from services.oncall.store import OncallStore
from services.shared.errors import NotFound

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PLATFORM = {
    "team": "platform",
    "rotation_type": "weekly",
    "time_zone": "Europe/Paris",
    "members": [
        {"name": "Alice", "email": "alice@example.com"},
        {"name": "Bob", "email": "bob@example.com"},
        {"name": "Carol", "email": "carol@example.com", "role": "secondary"},
    ],
}
DATA = {
    "team": "data",
    "rotation_type": "daily",
    "handoff_time": "08:00",
    "time_zone": "America/New_York",
    "members": [
        {"name": 'Dan, the "DBA"', "email": "dan@example.com"},
        {"name": "Bob", "email": "bob@example.com"},
        {"name": "Erin", "email": "erin@example.com"},
    ],
}


@pytest.fixture
def store(bound):
    db = bound("oncall")
    with db.connection_context():
        oncall = OncallStore(db, {})
        for schedule in (PLATFORM, DATA):
            oncall.save_schedule(parse_schedule(schedule), NOW)
        yield oncall


def events(text):
    return [c for c in icalendar.Calendar.from_ical(text).walk() if c.name == "VEVENT"]


def as_shift(event):
    return (event.decoded("dtstart"), event.decoded("dtend"), str(event["attendee"]).removeprefix("mailto:"))


def api_shifts(shifts):
    return [
        (dt.datetime.fromisoformat(s["start"]), dt.datetime.fromisoformat(s["end"]), s["email"])
        for s in shifts
    ]


def test_the_team_feed_holds_exactly_the_apis_shifts(store):
    upcoming = store.upcoming("platform", NOW, 10)
    text = ical.calendar("On call: platform", store.team_shifts("platform", NOW, 10), NOW)
    assert sorted(as_shift(e) for e in events(text)) == sorted(
        api_shifts(upcoming["primary"]) + api_shifts(upcoming["secondary"])
    )
    assert all(line.endswith("\r") or not line for line in text.split("\n")), "CRLF line ends"
    uids = [str(e["uid"]) for e in events(text)]
    assert len(set(uids)) == len(uids) == 20


def test_a_persons_shifts_span_their_teams_in_time_order(store):
    shifts = store.person_shifts("bob@example.com", NOW, 6)
    assert len(shifts) == 6
    assert [s["start"] for s in shifts] == sorted(s["start"] for s in shifts)
    assert {s["team"] for s in shifts} == {"platform", "data"}
    for shift in shifts:
        layer_shifts = store.upcoming(shift["team"], NOW, 40)[shift["layer"]]
        assert {k: shift[k] for k in ("start", "end", "email")} in [
            {k: s[k] for k in ("start", "end", "email")} for s in layer_shifts
        ]


def test_the_person_feed_parses_and_matches_their_shifts(store):
    shifts = store.person_shifts("dan@example.com", NOW, 5)
    parsed = events(ical.calendar("On call: dan@example.com", shifts, NOW))
    assert [as_shift(e) for e in parsed] == api_shifts(shifts)
    assert "Dan, the" in str(parsed[0]["summary"]), "commas and quotes survive escaping"


def test_an_unknown_person_is_not_found(store):
    with pytest.raises(NotFound):
        store.person_shifts("nobody@example.com", NOW, 5)


def test_long_lines_are_folded_at_75_octets_without_splitting_a_character():
    line = "SUMMARY:" + "é" * 100
    folded = ical.fold(line)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line
