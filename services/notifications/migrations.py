"""Schema history of the notifications service. Append; never edit an applied migration."""

from services.notifications.models import Notification
from services.shared.migrations import Migration


def _initial(database):
    with database.bind_ctx([Notification]):
        database.create_tables([Notification])


MIGRATIONS = [Migration(1, "notifications ledger", _initial)]
