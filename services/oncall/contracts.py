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
UPDATE_PROFILE = "update_profile"

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

LAYERS = ("primary", "secondary")
