"""Schema history of the incidents service. Append; never edit an applied migration."""

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


MIGRATIONS = [
    Migration(1, "incidents, incident_alerts, incident_timeline", _initial),
    Migration(2, "partial index of open incidents by correlation key", _open_incidents_index),
]
