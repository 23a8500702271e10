"""Schema history of the incidents service. Append; never edit an applied migration."""

from services.incidents.models import Incident, IncidentAlert, TimelineEntry
from services.shared.migrations import Migration

TABLES = [Incident, IncidentAlert, TimelineEntry]


def _initial(database):
    with database.bind_ctx(TABLES):
        database.create_tables(TABLES)


MIGRATIONS = [Migration(1, "incidents, incident_alerts, incident_timeline", _initial)]
