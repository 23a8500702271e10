"""Workers in the services' container (services.shared.container): every hook that does
something still runs, in nameko's order, and a handler's error reaches them as before."""

import pytest
from nameko.containers import get_container_cls
from nameko.extensions import DependencyProvider
from nameko.testing.services import entrypoint_hook, entrypoint_waiter
from nameko.timer import timer

from services.shared.config import SERVICE_CONTAINER_CLS, nameko_config
from services.shared.container import LeanContainer, overriding

CALLS = []


class Recording(DependencyProvider):
    def get_dependency(self, worker_ctx):
        CALLS.append("inject")
        return "dependency"

    def worker_setup(self, worker_ctx):
        CALLS.append("setup")

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        CALLS.append(("result", result, exc_info[0] if exc_info else None))

    def worker_teardown(self, worker_ctx):
        CALLS.append("teardown")


class SetupOnly(DependencyProvider):
    def worker_setup(self, worker_ctx):
        CALLS.append("setup only")


class Plain(DependencyProvider):
    def get_dependency(self, worker_ctx):
        return "plain"


class Service:
    name = "lean"
    recording = Recording()
    setup_only = SetupOnly()
    plain = Plain()

    @timer(interval=3600)
    def answer(self, value=None):
        if value == "fail":
            raise ValueError("the handler failed")
        return [self.recording, self.plain, value]


@pytest.fixture
def container(rabbit_config):
    container = LeanContainer(Service, rabbit_config)
    container.start()
    CALLS.clear()
    yield container
    container.stop()


def test_services_run_in_the_lean_container():
    assert get_container_cls(nameko_config("alerts")) is LeanContainer
    assert nameko_config("incidents")["SERVICE_CONTAINER_CLS"] == SERVICE_CONTAINER_CLS


def test_only_providers_that_override_a_hook_are_called_for_it(container):
    setting_up = {type(provider) for provider in container.hooked["worker_setup"]}
    assert setting_up == {Recording, SetupOnly}
    assert [type(p) for p in container.hooked["worker_result"]] == [Recording]
    assert [type(p) for p in container.hooked["worker_teardown"]] == [Recording]
    assert overriding([Plain()], "worker_setup") == []


def test_a_worker_gets_its_dependencies_and_every_hook_in_order(container):
    with entrypoint_hook(container, "answer") as answer:
        assert answer(7) == ["dependency", "plain", 7]
    setup_calls = sorted(CALLS[1:3])
    assert CALLS[0] == "inject"
    assert setup_calls == ["setup", "setup only"]
    assert CALLS[3:] == [("result", ["dependency", "plain", 7], None), "teardown"]


def test_a_handlers_error_reaches_the_caller_and_the_hooks(container):
    with (
        pytest.raises(ValueError, match="the handler failed"),
        entrypoint_hook(container, "answer") as answer,
    ):
        answer("fail")
    assert ("result", None, ValueError) in CALLS
    assert CALLS[-1] == "teardown"


def test_a_timer_worker_runs_there_too(container):
    with entrypoint_waiter(container, "answer") as waited:
        container.spawn_worker(next(iter(container.entrypoints)), (), {})
    assert waited.get() == ["dependency", "plain", None]
