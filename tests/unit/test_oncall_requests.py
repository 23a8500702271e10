"""services/oncall/requests.py: schedules as callers send them."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.oncall.requests import DEFAULT_START, ScheduleRequest, parse_schedule
from services.shared.errors import ValidationFailed


@pytest.fixture
def schedule(example_payload):
    return example_payload("schedule.json")


def minimal(**extra):
    payload = {
        "team": "platform",
        "rotation_type": "daily",
        "members": [{"name": "Alice", "email": "alice@example.com"}],
    }
    payload.update(extra)
    return payload


def errors(payload):
    with pytest.raises(ValidationFailed) as caught:
        parse_schedule(payload)
    return caught.value.errors


def fields(payload):
    return [item["field"] for item in errors(payload)]


def test_example_schedule_parses(schedule):
    parsed = parse_schedule(schedule)
    assert isinstance(parsed, ScheduleRequest)
    assert parsed.team == "platform-engineering"
    assert parsed.rotation_type == "weekly"
    assert parsed.interval == 1
    assert parsed.handoff_time == dt.time(9, 0)
    assert parsed.time_zone == "UTC"
    assert parsed.start_date == DEFAULT_START
    assert parsed.services == []
    assert [(m.name, m.email, m.role) for m in parsed.members] == [
        ("Alice", "alice@example.com", "primary"),
        ("Bob", "bob@example.com", "primary"),
        ("Carol", "carol@example.com", "secondary"),
    ]


def test_default_start_is_a_monday():
    assert DEFAULT_START.weekday() == 0


def test_full_schedule():
    parsed = parse_schedule(
        minimal(
            rotation_type="hourly",
            interval=12,
            handoff_time="08:30",
            time_zone="Europe/Paris",
            start_date="2026-03-02",
            services=["checkout", "payments"],
        )
    )
    assert parsed.rotation_type == "hourly"
    assert parsed.interval == 12
    assert parsed.handoff_time == dt.time(8, 30)
    assert parsed.time_zone == "Europe/Paris"
    assert parsed.start_date == dt.date(2026, 3, 2)
    assert parsed.services == ["checkout", "payments"]
    assert parsed.members[0].role == "primary"
    assert parsed.members[0].time_zone is None, "left out: the person keeps their own"
    assert parsed.members[0].contact_methods is None and parsed.default_contact_methods is None


@pytest.mark.parametrize(
    "zone",
    [
        "Mars/Olympus_Mons",
        "Europe/Pariss",
        "europe/paris",
        "",
        " ",
        "Europe",
        "Europe/",
        "../../etc/passwd",
        "/etc/localtime",
        "Europe/Paris/",
        "zone.tab",
        "tzdata.zi",
    ],
)
def test_unknown_time_zone(schedule, zone):
    schedule["time_zone"] = zone
    found = errors(schedule)
    assert [e["field"] for e in found] == ["time_zone"]


def test_unknown_time_zone_reason(schedule):
    schedule["time_zone"] = "Mars/Olympus_Mons"
    assert errors(schedule)[0]["reason"] == (
        "unknown time zone 'Mars/Olympus_Mons'; use an IANA name such as Europe/Paris"
    )


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/New_York", "UTC", "Asia/Kolkata"])
def test_known_time_zone(zone):
    assert parse_schedule(minimal(time_zone=zone)).time_zone == zone


@settings(max_examples=150, deadline=None, database=None)
@given(st.text(max_size=64))
def test_any_time_zone_text_is_usable_or_rejected_on_its_field(zone):
    try:
        parsed = parse_schedule(minimal(time_zone=zone))
    except ValidationFailed as error:
        assert [e["field"] for e in error.errors] == ["time_zone"]
        return
    ZoneInfo(parsed.time_zone)


def test_absurdly_long_time_zone_is_a_validation_error():
    assert fields(minimal(time_zone="a/" * 1000 + "b")) == ["time_zone"]


def test_no_primary_member():
    payload = minimal(
        members=[
            {"name": "Carol", "email": "carol@example.com", "role": "secondary"},
            {"name": "Dan", "email": "dan@example.com", "role": "secondary"},
        ]
    )
    found = errors(payload)
    assert found == [{"field": "members", "reason": "at least one member needs the role primary"}]


@pytest.mark.parametrize("members", [[], None, "alice@example.com", {}])
def test_members_must_be_a_non_empty_list(members):
    assert fields(minimal(members=members)) == ["members"]


def test_members_are_required():
    payload = minimal()
    del payload["members"]
    assert fields(payload) == ["members"]


@pytest.mark.parametrize("kind", ["monthly", "Daily", "", "hours", None, 1])
def test_bad_rotation_type(kind):
    assert fields(minimal(rotation_type=kind)) == ["rotation_type"]


@pytest.mark.parametrize("kind", ["hourly", "daily", "weekly"])
def test_rotation_types(kind):
    assert parse_schedule(minimal(rotation_type=kind)).rotation_type == kind


@pytest.mark.parametrize("email", ["not-an-email", "alice@", "@example.com", "alice example.com", "", None])
def test_bad_email(email):
    payload = minimal(members=[{"name": "Alice", "email": email}])
    assert fields(payload) == ["members.0.email"]


def test_bad_email_of_the_second_member(schedule):
    schedule["members"][1]["email"] = "bob"
    assert fields(schedule) == ["members.1.email"]


@pytest.mark.parametrize(
    ("member", "field"),
    [
        ({"email": "a@example.com"}, "members.0.name"),
        ({"name": "", "email": "a@example.com"}, "members.0.name"),
        ({"name": "A", "email": "a@example.com", "role": "lead"}, "members.0.role"),
    ],
)
def test_bad_member(member, field):
    assert fields(minimal(members=[member])) == [field]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"interval": 0}, "interval"),
        ({"interval": 367}, "interval"),
        ({"interval": "often"}, "interval"),
        ({"handoff_time": "25:00"}, "handoff_time"),
        ({"handoff_time": "nine"}, "handoff_time"),
        ({"start_date": "2026-02-30"}, "start_date"),
        ({"team": ""}, "team"),
        ({"team": "t" * 201}, "team"),
        ({"services": "checkout"}, "services"),
    ],
)
def test_bad_schedule_fields(extra, field):
    assert fields(minimal(**extra)) == [field]


def test_team_is_required():
    payload = minimal()
    del payload["team"]
    assert fields(payload) == ["team"]


def test_unknown_keys_are_ignored():
    parsed = parse_schedule(minimal(layers=3, colour="red"))
    assert not hasattr(parsed, "colour")


@pytest.mark.parametrize("body", [None, [], "schedule", 1])
def test_body_must_be_an_object(body):
    assert fields(body) == ["body"]


@pytest.mark.parametrize(
    ("method", "field"),
    [
        ({"type": "email", "address": "not an address"}, "members.0.contact_methods.0.address"),
        ({"type": "webhook", "address": "ftp://example.com/x"}, "members.0.contact_methods.0.address"),
        ({"type": "pager", "address": "123"}, "members.0.contact_methods.0.type"),
    ],
)
def test_bad_contact_methods_are_refused_naming_the_field(schedule, method, field):
    schedule["members"][0]["contact_methods"] = [method]
    assert field in [e["field"] for e in errors(schedule)]
