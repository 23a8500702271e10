"""`klaxon apply -f FILE.yaml`, the alerts service's part: `maintenance_windows`.

Each entry has the shape of POST /api/v1/maintenance_windows. A window is known by its
`reason`: applying a file again changes nothing; an entry whose window has changed (its
end, matchers or replay) updates it, and one with a new reason creates a window. Every
entry is validated before anything is written (services/oncall/apply.py does the rest of
the file).
"""

from pathlib import Path

import yaml

from services.alerts.maintenance import WindowChange, parse_window
from services.alerts.migrations import MIGRATIONS
from services.alerts.models import MaintenanceWindow, db
from services.alerts.store import AlertStore
from services.shared.db import utcnow
from services.shared.errors import ValidationFailed
from services.shared.migrations import bind_and_migrate

SECTIONS = ("maintenance_windows",)
AUTHOR = "klaxon-apply"


class WindowsError(Exception):
    """The file's maintenance windows cannot be applied; nothing was written."""


def read(path):
    """The validated window requests of the file (none when it has no such section)."""
    try:
        document = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise WindowsError(f"{path}: {error}") from None
    entries = document.get("maintenance_windows") if isinstance(document, dict) else None
    requests, problems = [], []
    for index, entry in enumerate(entries or []):
        try:
            requests.append(parse_window(entry))
        except ValidationFailed as error:
            problems += [f"maintenance_windows[{index}].{e['field']}: {e['reason']}" for e in error.errors]
    if problems:
        raise WindowsError("; ".join(problems))
    return requests


def apply(requests, url=None):
    """Yields one line per window: created, updated or unchanged."""
    if not requests:
        return
    bind_and_migrate(db, MIGRATIONS, "alerts", url)
    store = AlertStore(db, {})
    with db.connection_context():
        for request in requests:
            yield f"maintenance window {request.reason!r}: {_apply_one(store, request)}"


def _apply_one(store, request):
    now = utcnow()
    existing = (
        MaintenanceWindow.select()
        .where((MaintenanceWindow.reason == request.reason) & MaintenanceWindow.deleted_at.is_null())
        .order_by(MaintenanceWindow.id.desc())
        .first()
    )
    if existing is None:
        store.windows.create(request, AUTHOR, now)
        return "created"
    before = store.windows.get(existing.id, now)
    change = WindowChange(matchers=request.matchers, ends_at=request.ends_at, replay=request.replay)
    if _same(before, change):
        return "unchanged"
    store.windows.change(existing.id, change, AUTHOR, now)
    return "updated"


def _same(window, change):
    ends_at = change.ends_at.isoformat() if change.ends_at else None
    same_end = ends_at is None or ends_at == window["ends_at"]
    matchers = [m.model_dump() for m in change.matchers]
    return same_end and matchers == window["matchers"] and change.replay == window["replay"]
