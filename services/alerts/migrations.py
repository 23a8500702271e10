"""Schema history of the alerts service. Append; never edit an applied migration."""

from services.alerts.models import Alert
from services.shared.migrations import Migration


def _initial(database):
    with database.bind_ctx([Alert]):
        database.create_tables([Alert])


MIGRATIONS = [Migration(1, "alerts table", _initial)]
