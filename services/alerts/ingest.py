"""What happens to one alert: dedup, resolve, or correlate into an incident.

Idempotent by `alert_id`: a redelivered alert returns the answer it got the first time
and changes nothing. Dedup keys and groups are scoped to the integration that sent them.
"""

import contextlib

from services.alerts import contracts, metrics
from services.alerts.formats.generic import parse_generic
from services.shared.errors import Conflict

RESULT_OF_ACTION = {contracts.NEW_INCIDENT: "new_incident", contracts.ATTACHED: "existing_incident"}
CARRIED_KEYS = ("source", "integration_id", "group_key", "details")
ACTOR = "klaxon-alerts"


def normalise(alert):
    """Re-validate an alert that crossed a process boundary; keeps its id and origin."""
    normalised = parse_generic(alert, alert_id=alert.get("alert_id"))
    normalised.update({key: alert.get(key) for key in CARRIED_KEYS if alert.get(key) is not None})
    return normalised


def ingest(store, incidents, alert):
    alert = normalise(alert)
    outcome, row = store.admit(alert)
    if outcome == "known":
        return finish(store, incidents, alert, row)
    metrics.ALERTS_RECEIVED.labels(alert["severity"], alert["service"]).inc()
    if outcome == "resolved":
        incident_id = row.incident_id if row else None
        resolve_incident_when_quiet(store, incidents, incident_id, alert.get("integration_id"))
        return answer(alert["alert_id"], incident_id, contracts.RESOLVED, resolved=row)
    if outcome == "duplicate":
        metrics.ALERTS_DEDUPLICATED.labels(alert["service"]).inc()
        return answer(alert["alert_id"], row.incident_id, contracts.DEDUPLICATED)
    return correlate(store, incidents, alert)


def finish(store, incidents, alert, row):
    """A redelivered alert: complete whatever a crash interrupted, change nothing else."""
    if row.action is None:
        return correlate(store, incidents, alert)
    if row.action == contracts.RESOLVED:
        resolve_incident_when_quiet(store, incidents, row.incident_id, row.integration_id)
    return answer(row.alert_id, row.incident_id, row.action)


def correlate(store, incidents, alert):
    request = {key: alert[key] for key in ("alert_id", "service", "severity", "message", "timestamp")}
    if alert.get("group_key"):
        request["group_key"] = f"{alert.get('integration_id')}:{alert['group_key']}"
    outcome = incidents.correlate(request)
    store.link(alert["alert_id"], outcome["incident_id"], outcome["action"])
    result = RESULT_OF_ACTION[outcome["action"]]
    metrics.ALERTS_CORRELATED.labels(result, alert["service"], alert["severity"]).inc()
    return answer(alert["alert_id"], outcome["incident_id"], outcome["action"])


def resolve_incident_when_quiet(store, incidents, incident_id, integration_id):
    """When the last firing alert of an incident resolves, so does the incident."""
    if incident_id is None or store.firing_count(incident_id) > 0:
        return
    if integration_id and not store.integrations.get(integration_id)["auto_resolve"]:
        return
    change = {"status": "resolved", "note": "every alert of this incident has resolved"}
    with contextlib.suppress(Conflict):  # already resolved by someone: nothing left to do
        incidents.update_incident(incident_id, change, ACTOR)


def acknowledge(store, incidents, dedup_key, integration_id, actor):
    """A sender acknowledges by dedup key (PagerDuty's `acknowledge` event)."""
    original = store.firing_with_key(dedup_key, integration_id)
    if original is None or original.incident_id is None:
        return None
    with contextlib.suppress(Conflict):  # acknowledged or resolved already
        incidents.update_incident(original.incident_id, {"status": "acknowledged"}, actor)
    return original.incident_id


def answer(alert_id, incident_id, action, resolved=None):
    status = {contracts.DEDUPLICATED: "deduplicated", contracts.RESOLVED: "resolved"}
    body = {
        "alert_id": alert_id,
        "incident_id": incident_id,
        "status": status.get(action, "correlated"),
        "action": action,
    }
    if action == contracts.RESOLVED:
        body["resolved_alert_id"] = resolved.alert_id if resolved else None
    return body
