"""Signed claims: what is genuine reads back, anything else reads as None, never an error."""

import pytest

from services.notifications.acklinks import AckLinks
from services.shared.errors import Forbidden
from services.shared.signing import Signer


def test_claims_signed_under_a_key_read_back_only_under_that_key():
    token = Signer("one key").dumps({"state": "abc", "exp": 10})
    assert Signer("one key").loads(token) == {"state": "abc", "exp": 10}
    assert Signer("another key").loads(token) is None


@pytest.mark.parametrize(
    "garbage",
    [None, "", "no-dot", "a.b", "\u00f2\u008a.\u00c2\u009c", "e30.\u00e9\u00e9\u00e9", "%F2%8A.%C2"],
)
def test_garbage_is_not_genuine_and_raises_nothing(garbage):
    assert Signer("k").loads(garbage) is None


def test_an_acknowledge_link_with_non_ascii_text_is_forbidden_not_a_crash():
    with pytest.raises(Forbidden):
        AckLinks("k", "http://x").verify("\u00f2\u008at3\u00f1.\u00c2\u009c\u00c3", now=None)
