"""What happens to one alert: dedup, resolve, or correlate into an incident.

Idempotent by `alert_id`: a redelivered alert returns the answer it got the first time
and changes nothing.
"""

from services.alerts import contracts, metrics
from services.alerts.formats.generic import parse_generic

RESULT_OF_ACTION = {contracts.NEW_INCIDENT: "new_incident", contracts.ATTACHED: "existing_incident"}


def normalise(alert):
    """Re-validate an alert that crossed a process boundary; keeps its id and source."""
    normalised = parse_generic(alert, alert_id=alert.get("alert_id"))
    normalised["source"] = alert.get("source") or "generic"
    return normalised


def ingest(store, incidents, alert):
    alert = normalise(alert)
    known = store.find(alert["alert_id"])
    if known is not None and known.action is not None:
        return answer(known.alert_id, known.incident_id, known.action)
    if alert["status"] == "resolved":
        return resolve(store, alert)
    original = store.firing_with_key(alert["dedup_key"])
    if original is not None and original.alert_id != alert["alert_id"]:
        return deduplicate(store, alert, original)
    return correlate(store, incidents, alert)


def correlate(store, incidents, alert):
    is_new = store.find(alert["alert_id"]) is None
    store.record(alert)
    if is_new:
        metrics.ALERTS_RECEIVED.labels(alert["severity"], alert["service"]).inc()
    outcome = incidents.correlate(
        {key: alert[key] for key in ("alert_id", "service", "severity", "message", "timestamp")}
    )
    store.link(alert["alert_id"], outcome["incident_id"], outcome["action"])
    result = RESULT_OF_ACTION[outcome["action"]]
    metrics.ALERTS_CORRELATED.labels(result, alert["service"], alert["severity"]).inc()
    return answer(alert["alert_id"], outcome["incident_id"], outcome["action"])


def deduplicate(store, alert, original):
    store.record(
        alert,
        duplicate_of=original.alert_id,
        incident_id=original.incident_id,
        action=contracts.DEDUPLICATED,
    )
    store.count_duplicate(original.alert_id)
    metrics.ALERTS_RECEIVED.labels(alert["severity"], alert["service"]).inc()
    metrics.ALERTS_DEDUPLICATED.labels(alert["service"]).inc()
    return answer(alert["alert_id"], original.incident_id, contracts.DEDUPLICATED)


def resolve(store, alert):
    original = store.firing_with_key(alert["dedup_key"])
    incident_id = original.incident_id if original else None
    store.record(alert, incident_id=incident_id, action=contracts.RESOLVED)
    if original is not None:
        store.mark_resolved(original.alert_id)
    metrics.ALERTS_RECEIVED.labels(alert["severity"], alert["service"]).inc()
    return answer(alert["alert_id"], incident_id, contracts.RESOLVED, resolved=original)


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
