"""The alerts service's tables."""

import peewee

from services.shared.db import UTCDateTimeField

db = peewee.DatabaseProxy()


class Alert(peewee.Model):
    alert_id = peewee.CharField(primary_key=True, max_length=64)
    source = peewee.CharField(max_length=32)
    service = peewee.CharField(max_length=200)
    severity = peewee.CharField(max_length=16)
    message = peewee.TextField()
    labels = peewee.TextField(default="{}")
    timestamp = UTCDateTimeField()
    received_at = UTCDateTimeField()
    dedup_key = peewee.CharField(max_length=500, null=True)
    status = peewee.CharField(max_length=16)
    incident_id = peewee.IntegerField(null=True)
    action = peewee.CharField(max_length=40, null=True)
    duplicate_of = peewee.CharField(max_length=64, null=True)
    duplicate_count = peewee.IntegerField(default=0)
    resolved_at = UTCDateTimeField(null=True)
    integration_id = peewee.IntegerField(null=True)
    group_key = peewee.TextField(null=True)
    details = peewee.TextField(default="{}")
    # On a resolve: the firing alert it resolved, so a redelivery answers the same.
    resolves = peewee.CharField(max_length=64, null=True)

    class Meta:
        database = db
        table_name = "alerts"
        indexes = (
            (("integration_id", "dedup_key", "status"), False),
            (("incident_id",), False),
            (("received_at", "alert_id"), False),
        )


class Integration(peewee.Model):
    """A sender's credentials and defaults, like a PagerDuty routing key."""

    id = peewee.AutoField()
    name = peewee.CharField(max_length=200, unique=True)
    kind = peewee.CharField(max_length=32, default="any")
    key_hash = peewee.CharField(max_length=64, unique=True, null=True)
    key_prefix = peewee.CharField(max_length=16, null=True)
    default_service = peewee.CharField(max_length=200, null=True)
    auto_resolve = peewee.BooleanField(default=True)
    rate_limit_per_minute = peewee.IntegerField(default=6000)
    created_at = UTCDateTimeField()
    revoked_at = UTCDateTimeField(null=True)

    class Meta:
        database = db
        table_name = "integrations"
