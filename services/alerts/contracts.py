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

# Answers of `ingest`
NEW_INCIDENT = "new_incident"
ATTACHED = "attached_to_existing_incident"
DEDUPLICATED = "deduplicated"
RESOLVED = "resolved"


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
