"""IntegrationAuth's cache and RateLimiter, with a stand-in clock and RPC."""

import pytest

from edge.ingestion import IntegrationAuth
from edge.rpc import ServiceUnavailable
from services.shared.errors import Forbidden, Unauthorized
from services.shared.rate_limit import RateLimited, RateLimiter

INTEGRATION = {"id": 3, "name": "prom", "kind": "alertmanager", "rate_limit_per_minute": 60}


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Rpc:
    def __init__(self, answer):
        self.answer = answer
        self.calls = 0

    def call(self, service, method, key):
        self.calls += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_a_checked_key_is_cached_then_checked_again():
    clock, rpc = Clock(), Rpc(INTEGRATION)
    auth = IntegrationAuth(rpc, keyless=False, cache_seconds=5, clock=clock)
    assert auth.integration("klx_a") == INTEGRATION
    clock.now = 4
    auth.integration("klx_a")
    assert rpc.calls == 1
    clock.now = 6
    auth.integration("klx_a")
    assert rpc.calls == 2


def test_a_revoked_key_stays_refused_and_an_unknown_one_is_asked_again():
    clock = Clock()
    revoked = IntegrationAuth(Rpc(Forbidden("revoked")), keyless=False, clock=clock)
    for _ in range(2):
        with pytest.raises(Forbidden):
            revoked.integration("klx_r")
    assert revoked.rpc.calls == 1
    unknown = IntegrationAuth(Rpc(Unauthorized("unknown")), keyless=False, clock=clock)
    for _ in range(2):
        with pytest.raises(Unauthorized):
            unknown.integration("klx_u")
    assert unknown.rpc.calls == 2


def test_a_known_key_survives_an_outage_and_an_unknown_one_gets_503():
    clock, rpc = Clock(), Rpc(INTEGRATION)
    auth = IntegrationAuth(rpc, keyless=False, cache_seconds=5, clock=clock)
    auth.integration("klx_a")
    rpc.answer = ServiceUnavailable("alerts is down")
    clock.now = 60
    assert auth.integration("klx_a") == INTEGRATION
    with pytest.raises(ServiceUnavailable):
        auth.integration("klx_new")


def test_no_key_is_refused_unless_keyless_is_on():
    with pytest.raises(Unauthorized):
        IntegrationAuth(Rpc(INTEGRATION), keyless=False).integration(None)
    keyless = IntegrationAuth(Rpc(INTEGRATION), keyless=True, keyless_rate_limit=120).integration("")
    assert keyless["id"] is None and keyless["rate_limit_per_minute"] == 120


def test_rate_limiter_refills_over_time_and_names_the_integration():
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    for _ in range(10):  # 60/min: bursts of ten seconds' worth
        limiter.take(INTEGRATION)
    with pytest.raises(RateLimited) as limited:
        limiter.take(INTEGRATION)
    assert limited.value.retry_after == 1 and limited.value.integration == "prom"
    clock.now = 1.0
    limiter.take(INTEGRATION)
    limiter.take({**INTEGRATION, "id": 4, "name": "other"})
