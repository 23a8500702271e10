"""The on-call service's public names: RPC methods, events and payload shapes."""

SERVICE = "oncall"

# RPC
CREATE_SCHEDULE = "create_schedule"
LIST_SCHEDULES = "list_schedules"
CURRENT = "current"
UPCOMING = "upcoming"
PERSON_UPCOMING = "person_upcoming"
GET_PERSON = "get_person"
CALENDAR = "calendar"
ESCALATE = "escalate"
SAVE_POLICY = "save_policy"
ADD_OVERRIDE = "add_override"
LIST_OVERRIDES = "list_overrides"
DELETE_OVERRIDE = "delete_override"
LIST_POLICIES = "list_policies"

# Events
INCIDENT_ESCALATED = "incident_escalated"
NOTIFICATION_REQUESTED = "notification_requested"  # a page for the notifications service to send

LAYERS = ("primary", "secondary")
