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
    # Held back by a maintenance window: which, and until when (None once replayed or kept).
    suppressed_by = peewee.IntegerField(null=True)
    suppressed_until = UTCDateTimeField(null=True)

    class Meta:
        database = db
        table_name = "alerts"
        indexes = (
            (("integration_id", "dedup_key", "status"), False),
            (("incident_id",), False),
            (("received_at", "alert_id"), False),
            (("suppressed_until",), False),
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


class MaintenanceWindow(peewee.Model):
    """Planned quiet: matching alerts are stored, open nothing, and are replayed at its end."""

    id = peewee.AutoField()
    reason = peewee.TextField()
    author = peewee.CharField(max_length=320)
    matchers = peewee.TextField()  # JSON [{name, op, value}]
    starts_at = UTCDateTimeField()
    ends_at = UTCDateTimeField(null=True)  # a recurrence's series may run on
    recurrence = peewee.TextField(null=True)  # JSON {rrule, timezone, start_time, end_time}
    replay = peewee.BooleanField(default=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()
    ended_at = UTCDateTimeField(null=True)  # ended early, or deleted
    deleted_at = UTCDateTimeField(null=True)
    # The end of the occurrence whose author was told it ends soon (once per occurrence).
    expiry_notified_for = UTCDateTimeField(null=True)

    class Meta:
        database = db
        table_name = "maintenance_windows"


class WindowChange(peewee.Model):
    """The audit trail of a window: who created, extended, ended or edited it, and how."""

    id = peewee.AutoField()
    window_id = peewee.IntegerField(index=True)
    at = UTCDateTimeField()
    actor = peewee.CharField(max_length=320)
    action = peewee.CharField(max_length=32)
    detail = peewee.TextField(default="{}")

    class Meta:
        database = db
        table_name = "maintenance_window_changes"


class Heartbeat(peewee.Model):
    """A monitor that expects a beat every `interval_seconds`; silence pages."""

    id = peewee.AutoField()
    name = peewee.CharField(max_length=200, unique=True)
    service = peewee.CharField(max_length=200)
    severity = peewee.CharField(max_length=16)
    interval_seconds = peewee.IntegerField()
    grace_seconds = peewee.IntegerField()
    key_hash = peewee.CharField(max_length=64, unique=True)
    key_prefix = peewee.CharField(max_length=16)
    created_at = UTCDateTimeField()
    last_beat_at = UTCDateTimeField(null=True)
    expires_at = UTCDateTimeField(index=True)  # no beat by then: the monitor is down
    state = peewee.CharField(max_length=8, default="up")  # up or down
    down_alert_id = peewee.CharField(max_length=64, null=True)  # the alert its silence raised

    class Meta:
        database = db
        table_name = "heartbeats"
