"""The on-call service's tables."""

import peewee

from services.shared.db import UTCDateTimeField

db = peewee.DatabaseProxy()


class BaseModel(peewee.Model):
    class Meta:
        database = db


class Team(BaseModel):
    id = peewee.AutoField()
    name = peewee.CharField(max_length=200, unique=True)
    default_contact_methods = peewee.TextField(null=True)  # JSON, for members without their own

    class Meta:
        table_name = "teams"


class Person(BaseModel):
    id = peewee.AutoField()
    name = peewee.CharField(max_length=200)
    email = peewee.CharField(max_length=320, unique=True)
    time_zone = peewee.CharField(max_length=64, default="UTC")
    contact_methods = peewee.TextField(null=True)  # JSON list of {"type", "address"}

    class Meta:
        table_name = "people"


class Schedule(BaseModel):
    id = peewee.AutoField()
    team_id = peewee.IntegerField(unique=True)
    name = peewee.CharField(max_length=200)
    rotation_type = peewee.CharField(max_length=16)
    interval = peewee.IntegerField(default=1)
    handoff_time = peewee.CharField(max_length=5, default="09:00")
    time_zone = peewee.CharField(max_length=64, default="UTC")
    start_date = peewee.DateField()
    updated_at = UTCDateTimeField()
    # {"primary": [shift, position], ...}: who holds which shift (rotation.holder).
    turns = peewee.TextField(null=True)

    class Meta:
        table_name = "schedules"


class RotationMember(BaseModel):
    id = peewee.AutoField()
    schedule_id = peewee.IntegerField()
    layer = peewee.CharField(max_length=16)
    position = peewee.IntegerField()
    person_id = peewee.IntegerField()

    class Meta:
        table_name = "rotation_members"
        indexes = ((("schedule_id", "layer", "position"), True),)


class ServiceRoute(BaseModel):
    """The service catalog: which team answers for a service."""

    service = peewee.CharField(max_length=200, primary_key=True)
    team_id = peewee.IntegerField()

    class Meta:
        table_name = "service_routes"


class Escalation(BaseModel):
    """Where one incident's escalation stands; survives restarts."""

    incident_id = peewee.IntegerField(primary_key=True)
    team = peewee.CharField(max_length=200)
    service = peewee.CharField(max_length=200)
    subject = peewee.TextField(null=True)
    step = peewee.IntegerField(default=0)
    state = peewee.CharField(max_length=16, default="active")
    updated_at = UTCDateTimeField()
    # When the next step is due (None: no step left); the plan is a copy of the policy.
    next_at = UTCDateTimeField(null=True)
    plan = peewee.TextField(null=True)

    class Meta:
        table_name = "escalations"


class EscalationPolicy(BaseModel):
    team_id = peewee.IntegerField(primary_key=True)
    name = peewee.CharField(max_length=200)
    plan = peewee.TextField()
    updated_at = UTCDateTimeField()

    class Meta:
        table_name = "escalation_policies"


class Override(BaseModel):
    """Someone covering a schedule layer for a while ("Bob covers Alice Saturday 08-20")."""

    id = peewee.AutoField()
    team_id = peewee.IntegerField()
    layer = peewee.CharField(max_length=16)
    person_id = peewee.IntegerField()
    starts_at = UTCDateTimeField()
    ends_at = UTCDateTimeField()
    created_at = UTCDateTimeField()

    class Meta:
        table_name = "overrides"
        indexes = ((("team_id", "layer", "ends_at"), False),)


TABLES = [Team, Person, Schedule, RotationMember, ServiceRoute, Escalation]
