"""services/shared/errors.py: domain errors cross Nameko RPC as themselves; and what a
service's port answers for the failures that are not its own (services/shared/http_api.py)."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nameko.exceptions import RemoteError, RpcTimeout, UnknownService, deserialize, serialize

from services.shared.errors import Conflict, KlaxonError, NotFound, ValidationFailed, invalid
from services.shared.http_api import unexpected


def over_the_wire(error):
    """What an RPC caller gets back: serialised, sent as JSON, deserialised."""
    return deserialize(json.loads(json.dumps(serialize(error))))


def test_validation_failed_round_trip():
    errors = [
        {"field": "severity", "reason": "unknown severity 'x'"},
        {"field": "labels.env", "reason": "Input should be a valid string"},
    ]
    back = over_the_wire(ValidationFailed(errors))
    assert type(back) is ValidationFailed
    assert back.errors == errors
    assert str(back) == "severity: unknown severity 'x'; labels.env: Input should be a valid string"


def test_not_found_round_trip():
    back = over_the_wire(NotFound("incident", "42"))
    assert type(back) is NotFound
    assert (back.kind, back.identifier) == ("incident", "42")
    assert str(back) == "incident 42 not found"


def test_not_found_with_a_numeric_identifier_keeps_its_message():
    # Nameko stringifies non-string arguments; the message the edge shows is unchanged.
    original = NotFound("incident", 42)
    back = over_the_wire(original)
    assert type(back) is NotFound
    assert back.kind == "incident"
    assert back.identifier == "42"
    assert str(back) == str(original)


def test_conflict_round_trip():
    message = "cannot move an incident from resolved to acknowledged (allowed: open)"
    back = over_the_wire(Conflict(message))
    assert type(back) is Conflict
    assert back.message == message
    assert str(back) == message


def test_without_json_in_between():
    back = deserialize(serialize(invalid("cursor", "is not a cursor this API returned")))
    assert type(back) is ValidationFailed
    assert back.errors == [{"field": "cursor", "reason": "is not a cursor this API returned"}]


def test_serialized_form_names_the_class():
    data = serialize(Conflict("no"))
    assert data["exc_path"] == "services.shared.errors.Conflict"
    assert data["exc_args"] == ["no"]
    assert data["value"] == "no"


def test_other_exceptions_stay_remote_errors():
    back = over_the_wire(RuntimeError("boom"))
    assert isinstance(back, RemoteError)
    assert not isinstance(back, KlaxonError)


@pytest.mark.parametrize(
    "error",
    [ValidationFailed([{"field": "f", "reason": "r"}]), NotFound("team", "sre"), Conflict("x")],
)
def test_all_are_klaxon_errors(error):
    assert isinstance(error, KlaxonError)
    assert isinstance(over_the_wire(error), KlaxonError)


def test_invalid_builds_one_field_error():
    error = invalid("limit", "must be an integer")
    assert isinstance(error, ValidationFailed)
    assert error.errors == [{"field": "limit", "reason": "must be an integer"}]
    assert str(error) == "limit: must be an integer"


text = st.text(max_size=30)


@settings(max_examples=100, deadline=None, database=None)
@given(st.lists(st.fixed_dictionaries({"field": text, "reason": text}), min_size=1, max_size=5))
def test_any_validation_errors_survive(errors):
    back = over_the_wire(ValidationFailed(errors))
    assert type(back) is ValidationFailed
    assert back.errors == errors
    assert str(back) == str(ValidationFailed(errors))


@settings(max_examples=100, deadline=None, database=None)
@given(text, text, text)
def test_any_not_found_and_conflict_survive(kind, identifier, message):
    not_found = over_the_wire(NotFound(kind, identifier))
    assert type(not_found) is NotFound
    assert (not_found.kind, not_found.identifier) == (kind, identifier)
    conflict = over_the_wire(Conflict(message))
    assert type(conflict) is Conflict
    assert conflict.message == message


@pytest.mark.parametrize(
    "error",
    [
        RpcTimeout("incidents.correlate_many did not answer in 10s"),
        over_the_wire(RpcTimeout("oncall.authenticate did not answer in 10s")),  # raised one call further
        UnknownService("incidents"),
    ],
    ids=["here", "further", "not-running"],
)
def test_a_service_that_does_not_answer_makes_a_port_answer_503_with_a_retry(error):
    response = unexpected(error)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "did not answer in time" in json.loads(response.get_data())["detail"]


def test_any_other_failure_is_a_500_that_says_nothing_of_its_cause():
    response = unexpected(RuntimeError("secret-ish detail"))
    assert response.status_code == 500
    assert "secret-ish" not in response.get_data(as_text=True)
