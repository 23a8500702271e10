"""services/shared/paging.py: limits and keyset cursors."""

import base64
import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.shared.errors import ValidationFailed
from services.shared.paging import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    decode_cursor,
    encode_cursor,
    page_limit,
)

UTC = dt.UTC


def error_of(call, *args):
    with pytest.raises(ValidationFailed) as caught:
        call(*args)
    return caught.value.errors


# -- page_limit -------------------------------------------------------------------------------


def test_limit_bounds_constants():
    assert (DEFAULT_LIMIT, MAX_LIMIT) == (50, 500)


@pytest.mark.parametrize("value", [None, ""])
def test_default_limit(value):
    assert page_limit(value) == DEFAULT_LIMIT


@pytest.mark.parametrize(
    ("value", "expected"), [(1, 1), ("1", 1), ("50", 50), (500, 500), ("500", 500), (" 7 ", 7)]
)
def test_limit_in_bounds(value, expected):
    assert page_limit(value) == expected


@pytest.mark.parametrize("value", [0, "0", -1, "-5", 501, "501", 10**9])
def test_limit_out_of_bounds(value):
    assert error_of(page_limit, value) == [{"field": "limit", "reason": "must be between 1 and 500"}]


@pytest.mark.parametrize("value", ["ten", "1.5", "1e2", "0x10", [], {}, object(), "  "])
def test_limit_not_an_integer(value):
    assert error_of(page_limit, value) == [{"field": "limit", "reason": "must be an integer"}]


@settings(max_examples=120, deadline=None, database=None)
@given(st.integers(-(10**6), 10**6), st.booleans())
def test_limit_accepts_exactly_one_to_max(number, as_text):
    value = str(number) if as_text else number
    if 1 <= number <= MAX_LIMIT:
        assert page_limit(value) == number
    else:
        assert [e["field"] for e in error_of(page_limit, value)] == ["limit"]


# -- cursors ----------------------------------------------------------------------------------

offsets = st.builds(
    dt.timezone, st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: dt.timedelta(minutes=m))
)
instants = st.datetimes(
    dt.datetime(1970, 1, 1), dt.datetime(2200, 1, 1), timezones=st.one_of(st.none(), offsets)
)
identifiers = st.one_of(
    st.integers(0, 2**63),
    st.uuids().map(str),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
)


@settings(max_examples=150, deadline=None, database=None)
@given(instants, identifiers)
def test_cursor_round_trip(instant, identifier):
    cursor = encode_cursor(instant, identifier)
    assert re.fullmatch(r"[A-Za-z0-9_-]*", cursor)  # safe in a query string, no padding
    decoded_instant, decoded_id = decode_cursor(cursor)
    assert decoded_id == str(identifier)
    assert decoded_instant == instant
    assert decoded_instant.utcoffset() == instant.utcoffset()


def test_cursor_round_trip_example():
    instant = dt.datetime(2026, 3, 8, 15, 30, 0, 123456, tzinfo=UTC)
    cursor = encode_cursor(instant, 1234)
    assert decode_cursor(cursor) == (instant, "1234")


def test_identifier_with_the_separator_survives():
    instant = dt.datetime(2026, 3, 8, tzinfo=UTC)
    assert decode_cursor(encode_cursor(instant, "a|b|c")) == (instant, "a|b|c")


def b64(text):
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not-a-cursor",
        "%%%%",
        "====",
        "YWJj",
        b64("no separator"),
        b64("yesterday|12"),
        b64("|12"),
        "\u00e9\u00e9\u00e9\u00e9",
        base64.urlsafe_b64encode(b"\xff\xfe|1").decode(),
        None,
        12,
        b"abc",
    ],
)
def test_garbage_cursor_is_invalid(cursor):
    assert error_of(decode_cursor, cursor) == [
        {"field": "cursor", "reason": "is not a cursor this API returned"}
    ]


@settings(max_examples=150, deadline=None, database=None)
@given(st.text(max_size=60))
def test_any_text_decodes_or_is_reported_on_the_cursor_field(cursor):
    try:
        instant, identifier = decode_cursor(cursor)
    except ValidationFailed as error:
        assert [e["field"] for e in error.errors] == ["cursor"]
        return
    assert isinstance(instant, dt.datetime)
    assert isinstance(identifier, str)
