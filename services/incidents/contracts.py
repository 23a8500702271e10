"""The incidents service's public names: RPC methods, events and statuses."""

SERVICE = "incidents"

# RPC
CORRELATE_MANY = "correlate_many"
CREATE = "create_incident"
GET = "get_incident"
SUMMARY = "incident_summary"  # the incident without timeline, notes or alerts: a cheap read
LIST = "list_incidents"
UPDATE = "update_incident"
RESOLVE_IF_QUIET = "resolve_if_quiet"
METRICS = "incident_metrics"
STATS = "stats"
ANALYTICS = "analytics"  # (since, until, filters, time zone) -> MTTA/MTTR per day, distributions

# Events
INCIDENT_OPENED = "incident_opened"
INCIDENT_ACKNOWLEDGED = "incident_acknowledged"
INCIDENT_RESOLVED = "incident_resolved"
INCIDENT_REOPENED = "incident_reopened"
# Any change a person or the router made: status, assignee or a note ({incident_id, actor, changed}).
INCIDENT_UPDATED = "incident_updated"

STATUSES = ("open", "acknowledged", "in_progress", "resolved")

# Timeline entry kinds
CREATED = "created"
ALERT_ATTACHED = "alert_attached"
ALERT_RESOLVED = "alert_resolved"
ASSIGNED = "assigned"
NOTIFIED = "notified"
NOTIFICATION_FAILED = "notification_failed"
ESCALATED = "escalated"
ACKNOWLEDGED = "acknowledged"
IN_PROGRESS = "in_progress"
RESOLVED = "resolved"
REOPENED = "reopened"
NOTE = "note"
UNROUTED = "unrouted"
