"""Schema history of the notifications service. Append; never edit an applied migration."""

import peewee
from playhouse.migrate import SchemaMigrator, migrate

from services.notifications.models import Attempt, Notification, UsedAckLink
from services.shared.migrations import Migration


def _initial(database):
    # The ledger as version 1 shipped it; later columns arrive by migration.
    class NotificationV1(peewee.Model):
        id = peewee.AutoField()
        key = peewee.CharField(max_length=600, unique=True)
        incident_id = peewee.IntegerField(null=True, index=True)
        step = peewee.IntegerField(null=True)
        recipient = peewee.CharField(max_length=320)
        channel = peewee.CharField(max_length=32)
        subject = peewee.TextField(default="")
        message = peewee.TextField(default="")
        status = peewee.CharField(max_length=16, default="pending")
        attempts = peewee.IntegerField(default=0)
        error = peewee.TextField(null=True)
        latency_ms = peewee.FloatField(null=True)
        created_at = peewee.TextField()
        delivered_at = peewee.TextField(null=True)

        class Meta:
            table_name = "notifications"
            indexes = ((("created_at", "id"), False),)

    for name in ("created_at", "delivered_at"):
        NotificationV1._meta.fields[name].field_type = "TIMESTAMPTZ"
    with database.bind_ctx([NotificationV1]):
        database.create_tables([NotificationV1])


def _retries(database):
    migrator = SchemaMigrator.from_database(database)
    migrate(
        migrator.add_column("notifications", "address", Notification.address),
        migrator.add_column("notifications", "secret", Notification.secret),
        migrator.add_column("notifications", "next_attempt_at", Notification.next_attempt_at),
        migrator.add_index("notifications", ("status", "next_attempt_at")),
    )
    with database.bind_ctx([Attempt, UsedAckLink]):
        database.create_tables([Attempt, UsedAckLink])


MIGRATIONS = [
    Migration(1, "notifications ledger", _initial),
    Migration(2, "every attempt, retries, where to send, acknowledge links used", _retries),
]
