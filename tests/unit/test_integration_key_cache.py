"""The alerts service's own port remembers each key's answer for a few seconds: no query
per alert; a revoked key is refused within those seconds, or at once after forget()."""

import pytest

from services.alerts.integrations import KeyCache
from services.shared.errors import Forbidden, Unauthorized


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Keys:
    """A stand-in for the integration store, counting its lookups."""

    def __init__(self):
        self.revoked = False
        self.lookups = 0

    def authenticate(self, key):
        self.lookups += 1
        if key != "klx_good":
            raise Unauthorized("unknown integration key")
        if self.revoked:
            raise Forbidden("the key of integration 'ci' was revoked")
        return {"id": 7, "name": "ci"}


@pytest.fixture
def parts():
    return KeyCache(5, clock=Clock()), Keys()


def test_a_known_key_is_looked_up_once_within_the_window(parts):
    cache, keys = parts
    assert [cache.authenticate("klx_good", keys.authenticate)["id"] for _ in range(3)] == [7, 7, 7]
    assert keys.lookups == 1


def test_after_the_window_the_key_is_looked_up_again_and_a_revocation_sticks(parts):
    cache, keys = parts
    cache.authenticate("klx_good", keys.authenticate)
    keys.revoked = True
    assert cache.authenticate("klx_good", keys.authenticate)["id"] == 7  # still trusted, for 5 s
    cache.clock.now = 5.1
    for _ in range(2):
        with pytest.raises(Forbidden):
            cache.authenticate("klx_good", keys.authenticate)
    assert keys.lookups == 2  # the refusal is remembered too


def test_forget_makes_a_revocation_count_at_once(parts):
    cache, keys = parts
    cache.authenticate("klx_good", keys.authenticate)
    keys.revoked = True
    cache.forget()
    with pytest.raises(Forbidden):
        cache.authenticate("klx_good", keys.authenticate)


def test_an_unknown_key_is_refused_every_time_and_never_remembered(parts):
    cache, keys = parts
    for _ in range(2):
        with pytest.raises(Unauthorized):
            cache.authenticate("klx_guess", keys.authenticate)
    assert keys.lookups == 2 and cache.entries == {}
