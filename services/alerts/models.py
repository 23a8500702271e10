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

    class Meta:
        database = db
        table_name = "alerts"
        indexes = (
            (("dedup_key", "status"), False),
            (("incident_id",), False),
            (("received_at", "alert_id"), False),
        )
