"""The container every Klaxon service runs in: nameko's, its workers run more leanly.

Nameko runs each worker through every dependency's `worker_setup`, `worker_result` and
`worker_teardown`, though most providers of a service (a config, a clock, a proxy) leave
them as the no-ops they inherit, and it times each step of the worker for a debug line.
On the alerts service's port, where every alert is a worker of its own, that was about
2 % of the process's CPU under load (figure 7, README). This container calls a hook only
on the providers that override it, and logs only what nameko logs above debug (a
worker's error). Everything else is nameko's: the pool, the threads, how workers stop.
Services get it through nameko's SERVICE_CONTAINER_CLS (services.shared.config).
"""

import logging
import sys

from nameko.containers import ServiceContainer
from nameko.extensions import DependencyProvider

logger = logging.getLogger("nameko.containers")  # where nameko's own lines go
HOOKS = ("worker_setup", "worker_result", "worker_teardown")


def overriding(providers, hook):
    """The providers whose `hook` does something: not DependencyProvider's no-op."""
    inherited = getattr(DependencyProvider, hook)
    return [provider for provider in providers if getattr(type(provider), hook) is not inherited]


class LeanContainer(ServiceContainer):
    def __init__(self, service_cls, config):
        super().__init__(service_cls, config)
        self.hooked = {hook: overriding(self.dependencies, hook) for hook in HOOKS}

    def _run_worker(self, worker_ctx, handle_result):
        self._inject_dependencies(worker_ctx)
        self._worker_setup(worker_ctx)
        result, exc_info = self._call_handler(worker_ctx)
        if handle_result is not None:
            result, exc_info = handle_result(worker_ctx, result, exc_info)
        self._worker_result(worker_ctx, result, exc_info)
        del exc_info  # as nameko does: the traceback's cycle goes now, not at a collection
        self._worker_teardown(worker_ctx)

    # The three hooks keep nameko's names: its test tools (entrypoint_waiter) wait on them.
    def _worker_setup(self, worker_ctx):
        for provider in self.hooked["worker_setup"]:
            provider.worker_setup(worker_ctx)

    def _worker_result(self, worker_ctx, result, exc_info):
        for provider in self.hooked["worker_result"]:
            provider.worker_result(worker_ctx, result, exc_info)

    def _worker_teardown(self, worker_ctx):
        for provider in self.hooked["worker_teardown"]:
            provider.worker_teardown(worker_ctx)

    @staticmethod
    def _call_handler(worker_ctx):
        """(result, None), or (None, exc_info) logged as nameko logs it."""
        method = getattr(worker_ctx.service, worker_ctx.entrypoint.method_name)
        try:
            return method(*worker_ctx.args, **worker_ctx.kwargs), None
        except Exception as exc:
            if isinstance(exc, worker_ctx.entrypoint.expected_exceptions):
                logger.warning("(expected) error handling worker %s: %s", worker_ctx, exc, exc_info=True)
            else:
                logger.exception("error handling worker %s: %s", worker_ctx, exc)
            return None, sys.exc_info()
