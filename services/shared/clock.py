"""An injectable clock, so tests move time instead of sleeping.

`KLAXON_CLOCK_OFFSET_FILE` names a file holding a number of seconds that every service
adds to the real time, read at each tick. End-to-end tests and game days use it to move a
whole running platform forward ("it is now 20 minutes later: what escalated?"). Unset in
production.
"""

import datetime as dt
from pathlib import Path

from nameko.extensions import DependencyProvider

from services.shared.db import utcnow


class SystemClock:
    def now(self):
        return utcnow()


class OffsetClock:
    """The real time plus the seconds written in `path` (0 while the file is missing)."""

    def __init__(self, path):
        self.path = Path(path)

    def now(self):
        try:
            offset = float(self.path.read_text().strip() or 0)
        except FileNotFoundError:
            offset = 0.0
        return utcnow() + dt.timedelta(seconds=offset)


class Clock(DependencyProvider):
    """Hands workers the system clock, or an `OffsetClock` when the config names a file;
    unit tests swap `clock_class` or use worker_factory."""

    clock_class = SystemClock

    def setup(self):
        offset_file = self.container.config.get("CLOCK_OFFSET_FILE")
        self.clock = OffsetClock(offset_file) if offset_file else None

    def get_dependency(self, worker_ctx):
        return self.clock or self.clock_class()
