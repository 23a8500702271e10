"""An injectable clock, so tests move time instead of sleeping."""

from nameko.extensions import DependencyProvider

from services.shared.db import utcnow


class SystemClock:
    def now(self):
        return utcnow()


class Clock(DependencyProvider):
    """Hands workers `SystemClock`; tests swap `clock_class` or use worker_factory."""

    clock_class = SystemClock

    def get_dependency(self, worker_ctx):
        return self.clock_class()
