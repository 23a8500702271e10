"""Schema history of the alerts service. Append; never edit an applied migration."""

import peewee
from playhouse.migrate import SchemaMigrator, migrate

from services.alerts.models import Alert, Heartbeat, Integration, MaintenanceWindow, WindowChange
from services.shared.migrations import Migration


def _initial(database):
    # The alerts table as version 1 shipped it; later columns arrive by migration.
    class AlertV1(peewee.Model):
        alert_id = peewee.CharField(primary_key=True, max_length=64)
        source = peewee.CharField(max_length=32)
        service = peewee.CharField(max_length=200)
        severity = peewee.CharField(max_length=16)
        message = peewee.TextField()
        labels = peewee.TextField(default="{}")
        timestamp = peewee.TextField()
        received_at = peewee.TextField()
        dedup_key = peewee.CharField(max_length=500, null=True)
        status = peewee.CharField(max_length=16)
        incident_id = peewee.IntegerField(null=True)
        action = peewee.CharField(max_length=40, null=True)
        duplicate_of = peewee.CharField(max_length=64, null=True)
        duplicate_count = peewee.IntegerField(default=0)
        resolved_at = peewee.TextField(null=True)

        class Meta:
            table_name = "alerts"
            indexes = (
                (("dedup_key", "status"), False),
                (("incident_id",), False),
                (("received_at", "alert_id"), False),
            )

    AlertV1._meta.fields["timestamp"].field_type = "TIMESTAMPTZ"
    AlertV1._meta.fields["received_at"].field_type = "TIMESTAMPTZ"
    AlertV1._meta.fields["resolved_at"].field_type = "TIMESTAMPTZ"
    with database.bind_ctx([AlertV1]):
        database.create_tables([AlertV1])


def _integrations(database):
    migrator = SchemaMigrator.from_database(database)
    migrate(
        migrator.add_column("alerts", "integration_id", Alert.integration_id),
        migrator.add_column("alerts", "group_key", Alert.group_key),
        migrator.add_column("alerts", "details", Alert.details),
        migrator.add_index("alerts", ("integration_id", "dedup_key", "status")),
    )
    with database.bind_ctx([Integration]):
        database.create_tables([Integration])


def _resolves(database):
    migrator = SchemaMigrator.from_database(database)
    migrate(migrator.add_column("alerts", "resolves", Alert.resolves))


def _quiet_and_heartbeats(database):
    migrator = SchemaMigrator.from_database(database)
    migrate(
        migrator.add_column("alerts", "suppressed_by", Alert.suppressed_by),
        migrator.add_column("alerts", "suppressed_until", Alert.suppressed_until),
        migrator.add_index("alerts", ("suppressed_until",)),
    )
    with database.bind_ctx([MaintenanceWindow, WindowChange, Heartbeat]):
        database.create_tables([MaintenanceWindow, WindowChange, Heartbeat])


def _unlinked_duplicates(database):
    # Partial: a duplicate is in it only while its original has no incident, so a link's
    # look for such duplicates (store.duplicates_link) costs nothing when there are none.
    database.execute_sql(
        "CREATE INDEX IF NOT EXISTS alerts_unlinked_duplicates ON alerts (duplicate_of)"
        " WHERE duplicate_of IS NOT NULL AND incident_id IS NULL"
    )


MIGRATIONS = [
    Migration(1, "alerts table", _initial),
    Migration(2, "integrations; alerts keep their integration, group and details", _integrations),
    Migration(3, "a resolve remembers the alert it resolved", _resolves),
    Migration(4, "maintenance windows, their audit trail, heartbeat monitors", _quiet_and_heartbeats),
    Migration(5, "duplicates whose original has no incident yet, to link with it", _unlinked_duplicates),
]
