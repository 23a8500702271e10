"""The on-call service's public names: RPC methods, events and payload shapes."""

SERVICE = "oncall"

# RPC
CREATE_SCHEDULE = "create_schedule"
LIST_SCHEDULES = "list_schedules"
CURRENT = "current"
UPCOMING = "upcoming"
ESCALATE = "escalate"

# Events
INCIDENT_ESCALATED = "incident_escalated"

LAYERS = ("primary", "secondary")
# Step 0 pages the primary, step 1 the secondary, step 2 the whole team.
STEP_TARGETS = ("primary", "secondary", "team")
