"""Each service entrypoint's span says whether someone waits on it (SERVER) or not (CONSUMER)."""

import pytest
from nameko.rpc import Rpc
from nameko.web.handlers import HttpRequestHandler
from opentelemetry.trace import SpanKind

from services.shared.tracing import span_kind_of
from tests.entrypoints import SERVICES, entrypoints_of


@pytest.mark.parametrize("service_cls", SERVICES, ids=lambda cls: cls.name)
def test_rpc_and_http_entrypoints_are_served_and_the_others_consumed(service_cls):
    kinds = {}
    for _, entrypoint in entrypoints_of(service_cls):
        waited_on = isinstance(entrypoint, (Rpc, HttpRequestHandler))
        kinds.setdefault(waited_on, set()).add(span_kind_of(entrypoint))
    assert kinds[True] == {SpanKind.SERVER}, service_cls.name
    assert kinds.get(False, {SpanKind.CONSUMER}) == {SpanKind.CONSUMER}, service_cls.name


def test_every_service_has_http_routes_and_rpc_methods():
    for service_cls in SERVICES:
        types = {type(entrypoint) for _, entrypoint in entrypoints_of(service_cls)}
        assert any(issubclass(t, HttpRequestHandler) for t in types), service_cls.name
        assert any(issubclass(t, Rpc) for t in types), service_cls.name
