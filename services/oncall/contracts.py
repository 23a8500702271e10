"""The on-call service's public names: RPC methods, events and payload shapes."""

from typing import NotRequired, TypedDict

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
UPDATE_PROFILE = "update_profile"
TEAMS_OF_SERVICES = "teams_of_services"  # [services] -> {service: team or None}

# RPC: people as users (services/oncall/access_service.py)
AUTHENTICATE = "authenticate"  # {"token"} or {"session", "csrf", "unsafe"} -> principal
LOGIN = "login"
SSO_LOGIN = "sso_login"
LOGOUT = "logout"
CHANGE_PASSWORD = "change_password"  # pragma: allowlist secret (an RPC name)
LIST_USERS = "list_users"
GET_USER = "get_user"
CREATE_USER = "create_user"
UPDATE_USER = "update_user"
RESET_PASSWORD = "reset_password"  # pragma: allowlist secret (an RPC name)
CREATE_TOKEN = "create_token"
LIST_TOKENS = "list_tokens"
REVOKE_TOKEN = "revoke_token"
RECORD_AUDIT = "record_audit"
AUDIT_LOG = "audit_log"
CREATE_FEED = "create_feed"
LIST_FEEDS = "list_feeds"
REVOKE_FEED = "revoke_feed"
FEED_CALENDAR = "feed_calendar"

# Events
INCIDENT_ESCALATED = "incident_escalated"
NOTIFICATION_REQUESTED = "notification_requested"  # a page for the notifications service to send
# Who an incident was routed to, for the incidents service to record (it owns the incident).
INCIDENT_ROUTED = "incident_routed"

LAYERS = ("primary", "secondary")


class TimelineNote(TypedDict):
    kind: str  # an incidents timeline kind (services/incidents/contracts.py)
    detail: dict
    ref: str  # one entry per (incident, kind, ref): a redelivered event adds nothing


class IncidentRouted(TypedDict):
    """`incident_routed`: the incident goes to `team`'s `assignee` (team None: nobody
    answers for it, and `timeline` says why). The incidents service records `timeline`,
    then the assignment (ref "route"), once however often the event arrives."""

    incident_id: int
    service: str
    team: str | None
    assignee: str | None
    actor: str
    at: str  # when it was routed (RFC 3339): the timeline entries' time
    timeline: list[TimelineNote]


class IncidentFacts(TypedDict):
    """What a page says of its incident, as the on-call service knew it when paging."""

    id: int
    title: str | None
    service: str | None
    severity: str | None
    status: str | None
    assignee: str | None


class NotificationRequested(TypedDict):
    """`notification_requested`: one page for one person on one contact method."""

    incident_id: int
    step: int
    recipient: str
    recipient_name: str | None
    channel: str
    address: str | None
    secret: str | None
    delay_minutes: float
    subject: str
    message: str
    # Absent (an older sender, POST /api/v1/notify): the notifications service asks.
    incident: NotRequired[IncidentFacts]
