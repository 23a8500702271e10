"""services/notifications/requests.py and contracts.py: notify payloads and the ledger key."""

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.notifications.contracts import CHANNELS, ledger_key
from services.notifications.requests import NotifyRequest, parse_notify
from services.shared.errors import ValidationFailed


def minimal(**extra):
    payload = {"recipient": "alice@example.com", "message": "DB down"}
    payload.update(extra)
    return payload


def fields(payload):
    with pytest.raises(ValidationFailed) as caught:
        parse_notify(payload)
    return [item["field"] for item in caught.value.errors]


def test_defaults():
    request = parse_notify(minimal())
    assert isinstance(request, NotifyRequest)
    assert request.channel == "log"
    assert request.step == 0
    assert request.incident_id is None
    assert request.subject == ""
    assert request.recipient_name is None
    assert str(uuid.UUID(request.request_id)) == request.request_id


def test_each_parse_gets_its_own_request_id():
    assert parse_notify(minimal()).request_id != parse_notify(minimal()).request_id


def test_channels():
    assert "log" in CHANNELS


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"channel": "carrier-pigeon"}, "channel"),
        ({"channel": ""}, "channel"),
        ({"step": -1}, "step"),
        ({"incident_id": "forty-two"}, "incident_id"),
        ({"recipient": ""}, "recipient"),
        ({"recipient": "  "}, "recipient"),
        ({"recipient": "r" * 321}, "recipient"),
        ({"message": ""}, "message"),
        ({"request_id": "x" * 65}, "request_id"),
        ({"subject": "s" * 1001}, "subject"),
    ],
)
def test_invalid_fields(extra, field):
    assert fields(minimal(**extra)) == [field]


@pytest.mark.parametrize("missing", ["recipient", "message"])
def test_required(missing):
    payload = minimal()
    del payload[missing]
    assert fields(payload) == [missing]


@pytest.mark.parametrize("body", [None, [], "hello", 7])
def test_body_must_be_an_object(body):
    assert fields(body) == ["body"]


def test_extra_keys_are_ignored():
    assert parse_notify(minimal(priority="high")).message == "DB down"


# -- ledger_key -------------------------------------------------------------------------------


def test_incident_page_key():
    request = parse_notify(minimal(incident_id=42, step=1)).model_dump()
    assert ledger_key(request) == "42:1:alice@example.com:log"


def test_incident_page_key_ignores_the_request_id():
    first = parse_notify(minimal(incident_id=42, step=1, request_id="r1")).model_dump()
    again = parse_notify(minimal(incident_id=42, step=1, request_id="r2")).model_dump()
    assert ledger_key(first) == ledger_key(again)


def test_incident_page_key_from_a_string_id_and_default_step():
    request = parse_notify(minimal(incident_id="7")).model_dump()
    assert ledger_key(request) == "7:0:alice@example.com:log"


def test_incident_page_key_without_step_in_the_dict():
    key = ledger_key({"incident_id": 3, "recipient": "bob@example.com", "channel": "log"})
    assert key == "3:0:bob@example.com:log"


def test_incident_zero_is_an_incident_page():
    request = parse_notify(minimal(incident_id=0)).model_dump()
    assert ledger_key(request) == "0:0:alice@example.com:log"


def test_ad_hoc_key():
    request = parse_notify(minimal(request_id="req-1")).model_dump()
    assert ledger_key(request) == "adhoc:req-1"


def test_ad_hoc_messages_are_distinct_unless_they_share_a_request_id():
    first, second = (parse_notify(minimal()).model_dump() for _ in range(2))
    assert ledger_key(first) != ledger_key(second)
    assert ledger_key(first) == ledger_key(dict(first))


def test_pages_differ_by_step_recipient_and_incident():
    base = minimal(incident_id=1, step=0)
    keys = {
        ledger_key(parse_notify(payload).model_dump())
        for payload in (
            base,
            {**base, "step": 1},
            {**base, "recipient": "bob@example.com"},
            {**base, "incident_id": 2},
        )
    }
    assert len(keys) == 4


pages = st.fixed_dictionaries(
    {
        "incident_id": st.integers(0, 10**9),
        "step": st.integers(0, 20),
        "recipient": st.text(min_size=1, max_size=30),
        "channel": st.sampled_from(CHANNELS),
    }
)


@settings(max_examples=120, deadline=None, database=None)
@given(pages, pages)
def test_ledger_key_of_pages_is_injective(first, second):
    assert (ledger_key(first) == ledger_key(second)) == (first == second)


@settings(max_examples=100, deadline=None, database=None)
@given(pages, st.text(min_size=1, max_size=64))
def test_ad_hoc_and_page_keys_never_collide(page, request_id):
    adhoc = {"incident_id": None, "request_id": request_id, "recipient": "x", "channel": "log"}
    assert ledger_key(adhoc) == f"adhoc:{request_id}"
    assert ledger_key(adhoc) != ledger_key(page)


def test_a_step_or_incident_id_larger_than_its_column_is_a_bad_request():
    largest = 2**31 - 1
    assert parse_notify(minimal(step=largest, incident_id=largest)).step == largest
    assert fields(minimal(step=18864754003548670263296)) == ["step"]
    assert fields(minimal(incident_id=largest + 1)) == ["incident_id"]
    assert fields(minimal(incident_id=-1)) == ["incident_id"]
