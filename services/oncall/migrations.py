"""Schema history of the on-call service. Append; never edit an applied migration."""

import peewee
from playhouse.migrate import SchemaMigrator, migrate

from services.oncall.models import TABLES, Escalation, EscalationPolicy, Override
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

    EscalationV1._meta.fields["updated_at"].field_type = "TIMESTAMPTZ"
    tables = [model for model in TABLES if model is not Escalation] + [EscalationV1]
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


def _overrides(database):
    with database.bind_ctx([Override]):
        database.create_tables([Override])


MIGRATIONS = [
    Migration(1, "teams, people, schedules, rotations, routes, escalations", _initial),
    Migration(2, "escalation policies; escalations know their plan and their next step", _policies),
    Migration(3, "overrides", _overrides),
]
