"""The notifications service's tables: the delivery ledger."""

import peewee

from services.shared.db import UTCDateTimeField

db = peewee.DatabaseProxy()


class Notification(peewee.Model):
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
    created_at = UTCDateTimeField()
    delivered_at = UTCDateTimeField(null=True)

    class Meta:
        database = db
        table_name = "notifications"
        indexes = ((("created_at", "id"), False),)
