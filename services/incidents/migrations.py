"""Schema history of the incidents service. Append; never edit an applied migration."""

from playhouse.migrate import SchemaMigrator, migrate

from services.incidents.models import Incident, IncidentAlert, TimelineEntry
from services.shared.migrations import Migration

TABLES = [Incident, IncidentAlert, TimelineEntry]


def _initial(database):
    with database.bind_ctx(TABLES):
        database.create_tables(TABLES)


def _open_incidents_index(database):
    # Correlation looks for the open incident of a key; a partial index keeps that one
    # lookup flat however many resolved incidents the key has behind it.
    database.execute_sql(
        "CREATE INDEX IF NOT EXISTS incidents_open_by_key "
        "ON incidents (correlation_key, created_at) WHERE status <> 'resolved'"
    )


def _timeline_trace_ids(database):
    # A database made by migration 1 from today's models has the column already.
    if "trace_id" not in {column.name for column in database.get_columns("incident_timeline")}:
        migrate(
            SchemaMigrator.from_database(database).add_column(
                "incident_timeline", "trace_id", TimelineEntry.trace_id
            )
        )


MIGRATIONS = [
    Migration(1, "incidents, incident_alerts, incident_timeline", _initial),
    Migration(2, "partial index of open incidents by correlation key", _open_incidents_index),
    Migration(3, "timeline entries name their trace", _timeline_trace_ids),
]
