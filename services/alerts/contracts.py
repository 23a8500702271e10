"""The alerts service's public names: RPC methods, events and payload shapes."""

from typing import TypedDict

SERVICE = "alerts"

# RPC
INGEST = "ingest"
GET_ALERT = "get_alert"
LIST_ALERTS = "list_alerts"
CREATE_INTEGRATION = "create_integration"
LIST_INTEGRATIONS = "list_integrations"
REVOKE_INTEGRATION = "revoke_integration"
AUTHENTICATE = "authenticate"
CREATE_WINDOW = "create_window"
LIST_WINDOWS = "list_windows"
GET_WINDOW = "get_window"
CHANGE_WINDOW = "change_window"
DELETE_WINDOW = "delete_window"
CREATE_HEARTBEAT = "create_heartbeat"
LIST_HEARTBEATS = "list_heartbeats"
GET_HEARTBEAT = "get_heartbeat"
CHANGE_HEARTBEAT = "change_heartbeat"
DELETE_HEARTBEAT = "delete_heartbeat"
BEAT = "beat"  # (heartbeat id, key) -> the monitor; a silent one that was down resolves

# Answers of `ingest`
NEW_INCIDENT = "new_incident"
ATTACHED = "attached_to_existing_incident"
DEDUPLICATED = "deduplicated"
RESOLVED = "resolved"
SUPPRESSED = "suppressed"  # a maintenance window holds it back: stored, no incident, no page


class NormalisedAlert(TypedDict):
    alert_id: str
    source: str
    service: str
    severity: str
    message: str
    labels: dict
    timestamp: str
    dedup_key: str | None
    status: str


class IngestAnswer(TypedDict):
    alert_id: str
    incident_id: int | None
    status: str
    action: str
