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
    # Where the channel sends (an e-mail address or a URL) and, for a webhook, the secret
    # it signs with; the next try of a delivery that failed or was never finished.
    address = peewee.TextField(null=True)
    secret = peewee.TextField(null=True)
    next_attempt_at = UTCDateTimeField(null=True)

    class Meta:
        database = db
        table_name = "notifications"
        indexes = ((("created_at", "id"), False), (("status", "next_attempt_at"), False))


class Attempt(peewee.Model):
    """One try of one delivery: what happened and how long it took."""

    id = peewee.AutoField()
    notification_id = peewee.IntegerField(index=True)
    number = peewee.IntegerField()
    status = peewee.CharField(max_length=16)
    error = peewee.TextField(null=True)
    latency_ms = peewee.FloatField()
    at = UTCDateTimeField()

    class Meta:
        database = db
        table_name = "notification_attempts"


class UsedAckLink(peewee.Model):
    """Acknowledge links already followed: each works once."""

    nonce = peewee.CharField(max_length=64, primary_key=True)
    incident_id = peewee.IntegerField()
    used_at = UTCDateTimeField()

    class Meta:
        database = db
        table_name = "used_ack_links"
