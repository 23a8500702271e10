"""Versioned migrations, one ordered list per service, applied once each.

A service's `migrations.py` declares `MIGRATIONS = [Migration(1, "...", apply), ...]`.
`migrate` runs the ones not yet recorded in the service's `klaxon_migrations` rows,
inside a write transaction so replicas starting together apply each exactly once.
"""

from collections.abc import Callable
from dataclasses import dataclass

import peewee

from services.shared import config
from services.shared.db import UTCDateTimeField, bind_database, utcnow, write_transaction


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[peewee.Database], None]


def _ledger_model(database):
    class AppliedMigration(peewee.Model):
        service = peewee.CharField(max_length=64)
        version = peewee.IntegerField()
        name = peewee.CharField()
        applied_at = UTCDateTimeField()

        class Meta:
            table_name = "klaxon_migrations"
            primary_key = peewee.CompositeKey("service", "version")

    AppliedMigration.bind(database)
    return AppliedMigration


def migrate(database, migrations, service):
    """Apply `service`'s pending migrations; return the versions applied now."""
    ledger = _ledger_model(database)
    with database.connection_context(), write_transaction(database, lock_key="klaxon-migrations"):
        ledger.create_table(safe=True)
        done = {row.version for row in ledger.select(ledger.version).where(ledger.service == service)}
        applied = []
        for migration in sorted(migrations, key=lambda m: m.version):
            if migration.version in done:
                continue
            migration.apply(database)
            ledger.create(
                service=service, version=migration.version, name=migration.name, applied_at=utcnow()
            )
            applied.append(migration.version)
    return applied


def bind_and_migrate(proxy, migrations, service, url=None):
    """Bind `service`'s models (`proxy`) to its database, apply `migrations`; return the new versions."""
    database = bind_database(proxy, url or config.database_url(service), config.schema_name(service))
    return migrate(database, migrations, service)
