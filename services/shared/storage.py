"""The Nameko dependency that binds a service's peewee models and hands workers a store.

A service declares `store = Storage(database_proxy, MIGRATIONS, MyStore)`; its workers
then call domain methods on `self.store` and never see a connection.
"""

from nameko.extensions import DependencyProvider

from services.shared import config
from services.shared.db import bind_database
from services.shared.migrations import migrate


class Storage(DependencyProvider):
    def __init__(self, proxy, migrations, store_class):
        self.proxy = proxy
        self.migrations = migrations
        self.store_class = store_class
        self.database = None

    def setup(self):
        service = self.container.service_name
        url = self.container.config.get("DATABASE_URL") or config.database_url(service)
        self.database = bind_database(self.proxy, url, config.schema_name(service))
        migrate(self.database, self.migrations, service)

    def get_dependency(self, worker_ctx):
        return self.store_class(self.database, self.container.config)

    def worker_teardown(self, worker_ctx):
        # Gives a pooled PostgreSQL connection back; the next worker may be a new green thread.
        if not self.database.is_closed():
            self.database.close()


class SiblingStore(DependencyProvider):
    """Another store class over the database the service's `Storage` binds, for a service
    whose queries fall in two areas (`accounts = SiblingStore(AccountStore)`). The
    `Storage` sets the database up and gives its connection back after each worker."""

    def __init__(self, store_class):
        self.store_class = store_class

    def get_dependency(self, worker_ctx):
        storage = next(d for d in self.container.dependencies if isinstance(d, Storage))
        return self.store_class(storage.database, self.container.config)
