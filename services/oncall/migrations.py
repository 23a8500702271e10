"""Schema history of the on-call service. Append; never edit an applied migration."""

import peewee
from playhouse.migrate import SchemaMigrator, migrate

from services.oncall.models import (
    ACCESS_TABLES,
    TABLES,
    Escalation,
    EscalationPolicy,
    Override,
    Person,
    Schedule,
    Team,
)
from services.shared.migrations import Migration


def _initial(database):
    # The escalations table as version 1 shipped it; later columns arrive by migration.
    class EscalationV1(peewee.Model):
        incident_id = peewee.IntegerField(primary_key=True)
        team = peewee.CharField(max_length=200)
        service = peewee.CharField(max_length=200)
        step = peewee.IntegerField(default=0)
        state = peewee.CharField(max_length=16, default="active")
        updated_at = peewee.TextField()

        class Meta:
            table_name = "escalations"

    class ScheduleV1(peewee.Model):
        id = peewee.AutoField()
        team_id = peewee.IntegerField(unique=True)
        name = peewee.CharField(max_length=200)
        rotation_type = peewee.CharField(max_length=16)
        interval = peewee.IntegerField(default=1)
        handoff_time = peewee.CharField(max_length=5, default="09:00")
        time_zone = peewee.CharField(max_length=64, default="UTC")
        start_date = peewee.DateField()
        updated_at = peewee.TextField()

        class Meta:
            table_name = "schedules"

    class PersonV1(peewee.Model):
        id = peewee.AutoField()
        name = peewee.CharField(max_length=200)
        email = peewee.CharField(max_length=320, unique=True)
        time_zone = peewee.CharField(max_length=64, default="UTC")

        class Meta:
            table_name = "people"

    class TeamV1(peewee.Model):
        id = peewee.AutoField()
        name = peewee.CharField(max_length=200, unique=True)

        class Meta:
            table_name = "teams"

    for model in (EscalationV1, ScheduleV1):
        model._meta.fields["updated_at"].field_type = "TIMESTAMPTZ"
    first_shapes = {Escalation: EscalationV1, Schedule: ScheduleV1, Person: PersonV1, Team: TeamV1}
    tables = [first_shapes.get(model, model) for model in TABLES]
    with database.bind_ctx(tables):
        database.create_tables(tables)


def _policies(database):
    migrator = SchemaMigrator.from_database(database)
    migrate(
        migrator.add_column("escalations", "next_at", Escalation.next_at),
        migrator.add_column("escalations", "plan", Escalation.plan),
        migrator.add_column("escalations", "subject", Escalation.subject),
        migrator.add_index("escalations", ("state", "next_at")),
    )
    with database.bind_ctx([EscalationPolicy]):
        database.create_tables([EscalationPolicy])


def _turns(database):
    migrator = SchemaMigrator.from_database(database)
    migrate(migrator.add_column("schedules", "turns", Schedule.turns))


def _contact_methods(database):
    migrator = SchemaMigrator.from_database(database)
    migrate(migrator.add_column("people", "contact_methods", Person.contact_methods))


def _team_defaults(database):
    migrator = SchemaMigrator.from_database(database)
    migrate(migrator.add_column("teams", "default_contact_methods", Team.default_contact_methods))


def _overrides(database):
    with database.bind_ctx([Override]):
        database.create_tables([Override])


def _access(database):
    migrator = SchemaMigrator.from_database(database)
    columns = ("role", "password_hash", "must_change_password", "disabled", "oidc_subject")
    migrate(
        *(migrator.add_column("people", name, Person._meta.fields[name]) for name in columns),
        migrator.add_column("teams", "managers", Team.managers),
    )
    with database.bind_ctx(ACCESS_TABLES):
        database.create_tables(ACCESS_TABLES)


MIGRATIONS = [
    Migration(1, "teams, people, schedules, rotations, routes, escalations", _initial),
    Migration(2, "escalation policies; escalations know their plan and their next step", _policies),
    Migration(3, "overrides", _overrides),
    Migration(4, "a layer's turn survives members joining and leaving", _turns),
    Migration(5, "people's contact methods", _contact_methods),
    Migration(6, "a team's default contact methods", _team_defaults),
    Migration(7, "people sign in: roles, passwords, sessions, API tokens, audit, calendar feeds", _access),
]
