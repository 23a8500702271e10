"""The incidents service's tables."""

import peewee

from services.shared.db import UTCDateTimeField

db = peewee.DatabaseProxy()


class Incident(peewee.Model):
    id = peewee.AutoField()
    title = peewee.TextField()
    service = peewee.CharField(max_length=200)
    severity = peewee.CharField(max_length=16)
    status = peewee.CharField(max_length=16, default="open")
    team = peewee.CharField(max_length=200, null=True)
    assignee = peewee.CharField(max_length=200, null=True)
    correlation_key = peewee.CharField(max_length=420, null=True)
    alert_count = peewee.IntegerField(default=0)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()
    acknowledged_at = UTCDateTimeField(null=True)
    resolved_at = UTCDateTimeField(null=True)
    mtta_seconds = peewee.FloatField(null=True)
    mttr_seconds = peewee.FloatField(null=True)

    class Meta:
        database = db
        table_name = "incidents"
        indexes = (
            (("correlation_key", "status", "created_at"), False),
            (("status", "created_at"), False),
            (("created_at", "id"), False),
        )


class IncidentAlert(peewee.Model):
    """Which alert went into which incident, and what correlation decided."""

    alert_id = peewee.CharField(primary_key=True, max_length=64)
    incident_id = peewee.IntegerField(index=True)
    action = peewee.CharField(max_length=40)
    attached_at = UTCDateTimeField()

    class Meta:
        database = db
        table_name = "incident_alerts"


class TimelineEntry(peewee.Model):
    id = peewee.AutoField()
    incident_id = peewee.IntegerField()
    kind = peewee.CharField(max_length=32)
    actor = peewee.CharField(max_length=200)
    at = UTCDateTimeField()
    detail = peewee.TextField(default="{}")
    # Set when the entry comes from a message that may be redelivered: one entry per ref.
    ref = peewee.CharField(max_length=300, null=True)
    # The trace of the work that wrote the entry (W3C trace id, hex), when tracing is on.
    trace_id = peewee.CharField(max_length=32, null=True)

    class Meta:
        database = db
        table_name = "incident_timeline"
        indexes = (
            (("incident_id", "at"), False),
            (("incident_id", "kind", "ref"), True),
        )
