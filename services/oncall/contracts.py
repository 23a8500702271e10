"""The on-call service's public names: RPC methods, events and payload shapes."""

SERVICE = "oncall"

# RPC
CREATE_SCHEDULE = "create_schedule"
LIST_SCHEDULES = "list_schedules"
CURRENT = "current"
UPCOMING = "upcoming"
ESCALATE = "escalate"
SAVE_POLICY = "save_policy"
LIST_POLICIES = "list_policies"

# Events
INCIDENT_ESCALATED = "incident_escalated"

LAYERS = ("primary", "secondary")
