"""services/incidents/requests.py: PATCH and manual-incident payloads."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.incidents.requests import IncidentChange, NewIncident, parse_change
from services.shared.errors import ValidationFailed
from services.shared.validation import parse

STATUSES = ("open", "acknowledged", "in_progress", "resolved")


def fields(payload, parser=parse_change):
    with pytest.raises(ValidationFailed) as caught:
        parser(payload)
    return [item["field"] for item in caught.value.errors]


def new_incident(payload):
    return parse(NewIncident, payload)


# -- parse_change -----------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [{}, {"status": None}, {"status": None, "assignee": None, "note": None}])
def test_change_needs_at_least_one_field(payload):
    with pytest.raises(ValidationFailed) as caught:
        parse_change(payload)
    assert caught.value.errors == [{"field": "body", "reason": "give at least one of status, assignee, note"}]


@pytest.mark.parametrize("status", STATUSES)
def test_change_status_alone(status):
    change = parse_change({"status": status})
    assert isinstance(change, IncidentChange)
    assert (change.status, change.assignee, change.note) == (status, None, None)


def test_change_assignee_or_note_alone():
    assert parse_change({"assignee": " alice "}).assignee == "alice"
    assert parse_change({"note": "rolled back"}).note == "rolled back"


def test_change_all_fields():
    change = parse_change({"status": "resolved", "assignee": "bob", "note": "fixed"})
    assert change.model_dump() == {"status": "resolved", "assignee": "bob", "note": "fixed"}


@pytest.mark.parametrize("status", ["closed", "Resolved", "in progress", "", "reopened", 1])
def test_change_unknown_status(status):
    with pytest.raises(ValidationFailed) as caught:
        parse_change({"status": status})
    assert [e["field"] for e in caught.value.errors] == ["status"]


def test_change_unknown_status_reason_lists_statuses():
    with pytest.raises(ValidationFailed) as caught:
        parse_change({"status": "closed"})
    assert caught.value.errors[0]["reason"] == ("must be one of open, acknowledged, in_progress, resolved")


@pytest.mark.parametrize("extra", ["severity", "title", "id", "acknowledged_at"])
def test_change_extra_field_is_forbidden(extra):
    assert fields({"status": "resolved", extra: "x"}) == [extra]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"assignee": ""}, "assignee"),
        ({"assignee": "   "}, "assignee"),
        ({"assignee": "a" * 201}, "assignee"),
        ({"note": ""}, "note"),
        ({"note": "n" * 10_001}, "note"),
        ({"note": 5}, "note"),
    ],
)
def test_change_field_bounds(payload, field):
    assert fields(payload) == [field]


@pytest.mark.parametrize("body", [None, [], "resolved", 3, [{"status": "resolved"}]])
def test_change_body_must_be_an_object(body):
    with pytest.raises(ValidationFailed) as caught:
        parse_change(body)
    assert caught.value.errors == [{"field": "body", "reason": "must be a JSON object"}]


@settings(max_examples=100, deadline=None, database=None)
@given(
    st.dictionaries(
        st.sampled_from(["status", "assignee", "note"]),
        st.one_of(st.none(), st.sampled_from(STATUSES), st.text(max_size=5)),
    )
)
def test_change_either_parses_or_names_the_problem(payload):
    try:
        change = parse_change(payload)
    except ValidationFailed as error:
        assert error.errors
        assert all(set(e) == {"field", "reason"} for e in error.errors)
        assert {e["field"] for e in error.errors} <= {"body", "status", "assignee", "note"}
        return
    assert change.status in (None, *STATUSES)
    assert any(value is not None for value in change.model_dump().values())


# -- NewIncident ------------------------------------------------------------------------------


def test_new_incident_minimal():
    incident = new_incident({"title": "DB down", "service": "db", "severity": "critical"})
    assert incident.model_dump() == {
        "title": "DB down",
        "service": "db",
        "severity": "critical",
        "team": None,
        "assignee": None,
        "note": None,
    }


@pytest.mark.parametrize(
    ("severity", "expected"),
    [("P1", "critical"), (" sev2 ", "high"), ("Warning", "medium"), ("INFO", "low"), ("low", "low")],
)
def test_new_incident_severity_synonym(severity, expected):
    incident = new_incident({"title": "t", "service": "s", "severity": severity})
    assert incident.severity == expected


@pytest.mark.parametrize("severity", ["urgent", "", None, 1])
def test_new_incident_unknown_severity(severity):
    payload = {"title": "t", "service": "s", "severity": severity}
    assert fields(payload, new_incident) == ["severity"]


@pytest.mark.parametrize("missing", ["title", "service", "severity"])
def test_new_incident_required_fields(missing):
    payload = {"title": "t", "service": "s", "severity": "low"}
    del payload[missing]
    assert fields(payload, new_incident) == [missing]


def test_new_incident_extra_field_is_forbidden():
    payload = {"title": "t", "service": "s", "severity": "low", "status": "resolved"}
    assert fields(payload, new_incident) == ["status"]
