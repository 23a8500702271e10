"""What every service's store has in common."""

from services.shared.db import ping


class BaseStore:
    """A small object with domain methods, handed to one worker by `Storage`."""

    def __init__(self, database, config):
        self.db = database
        self.config = config

    def ping(self):
        ping(self.db)

    def release(self):
        """Give this worker's connection back before a wait (outside any transaction); the
        next query takes one again."""
        if not self.db.is_closed() and not self.db.in_transaction():
            self.db.close()

    def metric_families(self):
        """Gauges computed from stored state at scrape time; none by default."""
        return []
