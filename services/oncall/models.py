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
    managers = peewee.TextField(null=True)  # JSON list of e-mails who edit this team

    class Meta:
        table_name = "teams"


class Person(BaseModel):
    id = peewee.AutoField()
    name = peewee.CharField(max_length=200)
    email = peewee.CharField(max_length=320, unique=True)
    time_zone = peewee.CharField(max_length=64, default="UTC")
    contact_methods = peewee.TextField(null=True)  # JSON list of {"type", "address"}
    # A person is also a user: a role, and a login once a password or SSO is set.
    role = peewee.CharField(max_length=16, default="responder")
    password_hash = peewee.TextField(null=True)
    must_change_password = peewee.BooleanField(default=False)
    disabled = peewee.BooleanField(default=False)
    oidc_subject = peewee.CharField(max_length=500, null=True)

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


class AuthSession(BaseModel):
    """A signed-in browser; the cookie holds the secret, the table only its hash."""

    id = peewee.AutoField()
    secret_hash = peewee.CharField(max_length=64, unique=True)
    person_id = peewee.IntegerField(index=True)
    csrf_token = peewee.CharField(max_length=64)
    source = peewee.CharField(max_length=100, null=True)
    created_at = UTCDateTimeField()
    last_seen_at = UTCDateTimeField()
    expires_at = UTCDateTimeField()
    ended_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "auth_sessions"


class ApiToken(BaseModel):
    """A script's credential: shown once, stored hashed, acting with `role` at most."""

    id = peewee.AutoField()
    secret_hash = peewee.CharField(max_length=64, unique=True)
    prefix = peewee.CharField(max_length=16)
    person_id = peewee.IntegerField(index=True)
    name = peewee.CharField(max_length=200)
    role = peewee.CharField(max_length=16, null=True)  # None: the owner's role, whatever it becomes
    created_at = UTCDateTimeField()
    expires_at = UTCDateTimeField(null=True)
    revoked_at = UTCDateTimeField(null=True)
    last_used_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "api_tokens"


class LoginFailure(BaseModel):
    """Failed sign-ins per account or per address, to slow and then refuse guessing."""

    key = peewee.CharField(max_length=400, primary_key=True)
    failures = peewee.IntegerField(default=0)
    first_at = UTCDateTimeField()
    locked_until = UTCDateTimeField(null=True)

    class Meta:
        table_name = "login_failures"


class AuditEntry(BaseModel):
    id = peewee.AutoField()
    at = UTCDateTimeField(index=True)
    actor = peewee.CharField(max_length=320)
    action = peewee.CharField(max_length=64)
    subject = peewee.CharField(max_length=400, null=True)
    source = peewee.CharField(max_length=100, null=True)
    detail = peewee.TextField(null=True)  # JSON

    class Meta:
        table_name = "audit_log"


class CalendarFeed(BaseModel):
    """A secret, revocable iCalendar URL: calendar apps send no token."""

    id = peewee.AutoField()
    secret_hash = peewee.CharField(max_length=64, unique=True)
    person_id = peewee.IntegerField(index=True)  # who subscribed
    team = peewee.CharField(max_length=200, null=True)
    email = peewee.CharField(max_length=320, null=True)
    created_at = UTCDateTimeField()
    revoked_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "calendar_feeds"


ACCESS_TABLES = [AuthSession, ApiToken, LoginFailure, AuditEntry, CalendarFeed]
TABLES = [Team, Person, Schedule, RotationMember, ServiceRoute, Escalation]
