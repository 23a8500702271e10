"""Schema history of the on-call service. Append; never edit an applied migration."""

from services.oncall.models import TABLES
from services.shared.migrations import Migration


def _initial(database):
    with database.bind_ctx(TABLES):
        database.create_tables(TABLES)


MIGRATIONS = [Migration(1, "teams, people, schedules, rotations, routes, escalations", _initial)]
