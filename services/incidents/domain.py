"""The incident lifecycle: which transitions are legal and what each one records.

open → acknowledged → in_progress → resolved. Acknowledge may be skipped on the way
to resolved; a resolved incident may be reopened explicitly. Nothing else.
"""

from services.incidents import contracts as c
from services.shared.errors import Conflict, invalid

TRANSITIONS = {
    "open": {"acknowledged", "resolved"},
    "acknowledged": {"in_progress", "resolved"},
    "in_progress": {"resolved"},
    "resolved": {"open"},
}

TIMELINE_KIND = {
    "acknowledged": c.ACKNOWLEDGED,
    "in_progress": c.IN_PROGRESS,
    "resolved": c.RESOLVED,
    "open": c.REOPENED,
}

EVENT_OF_STATUS = {
    "acknowledged": c.INCIDENT_ACKNOWLEDGED,
    "resolved": c.INCIDENT_RESOLVED,
    "open": c.INCIDENT_REOPENED,
}


def check_status(value):
    if value not in c.STATUSES:
        raise invalid("status", f"must be one of {', '.join(c.STATUSES)}")
    return value


def check_transition(current, target):
    check_status(target)
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none"
        raise Conflict(f"cannot move an incident from {current} to {target} (allowed: {allowed})")


def seconds_between(start, end):
    return round((end - start).total_seconds(), 3)


def transition_changes(incident, target, now):
    """The fields to store when `incident` moves to `target` at `now`."""
    check_transition(incident.status, target)
    changes = {"status": target, "updated_at": now}
    if target in ("acknowledged", "in_progress") and incident.acknowledged_at is None:
        changes["acknowledged_at"] = now
        changes["mtta_seconds"] = seconds_between(incident.created_at, now)
    if target == "resolved":
        changes["resolved_at"] = now
        changes["mttr_seconds"] = seconds_between(incident.created_at, now)
    if target == "open":
        changes["resolved_at"] = None
        changes["mttr_seconds"] = None
    return changes
