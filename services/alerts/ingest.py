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
    [body] = ingest_many(store, incidents, [normalise(alert)])
    return body


def ingest_many(store, incidents, alerts):
    """Dedup, resolve and correlate a batch of normalised alerts, in order.

    One transaction admits them all, one RPC correlates the new ones, one transaction
    links them; returns one answer per alert, in order.
    """
    admitted = store.admit_many(alerts)
    count_received(alerts, admitted)
    pending = [alert for alert, (outcome, row) in zip(alerts, admitted, strict=True) if needs_incident(outcome, row)]
    incident_of = correlate_many(store, incidents, pending)
    answers = [
        answer_for(alert, outcome, row, incident_of) for alert, (outcome, row) in zip(alerts, admitted, strict=True)
    ]
    link_followers(store, alerts, admitted, incident_of)
    resolve_quiet_incidents(store, incidents, answers, alerts)
    return answers


def needs_incident(outcome, row):
    return outcome == "new" or (outcome == "known" and row.action is None)


def count_received(alerts, admitted):
    for alert, (outcome, _) in zip(alerts, admitted, strict=True):
        if outcome == "known":
            continue
        metrics.ALERTS_RECEIVED.labels(alert["severity"], alert["service"]).inc()
        if outcome == "duplicate":
            metrics.ALERTS_DEDUPLICATED.labels(alert["service"]).inc()


def correlate_many(store, incidents, alerts):
    """{alert_id: (incident_id, action)} for `alerts`, correlated by the incidents service."""
    if not alerts:
        return {}
    outcomes = incidents.correlate_many([correlation_request(alert) for alert in alerts])
    store.link_many([(a["alert_id"], o["incident_id"], o["action"]) for a, o in zip(alerts, outcomes, strict=True)])
    for alert, outcome in zip(alerts, outcomes, strict=True):
        result = RESULT_OF_ACTION[outcome["action"]]
        metrics.ALERTS_CORRELATED.labels(result, alert["service"], alert["severity"]).inc()
    return {a["alert_id"]: (o["incident_id"], o["action"]) for a, o in zip(alerts, outcomes, strict=True)}


def correlation_request(alert):
    request = {key: alert[key] for key in ("alert_id", "service", "severity", "message", "timestamp")}
    if alert.get("group_key"):
        request["group_key"] = f"{alert.get('integration_id')}:{alert['group_key']}"
    return request


def answer_for(alert, outcome, row, incident_of):
    if alert["alert_id"] in incident_of:
        return answer(alert["alert_id"], *incident_of[alert["alert_id"]])
    if outcome == "known":
        return answer(row.alert_id, row.incident_id, row.action)
    incident_id = follower_incident(row, incident_of)
    if outcome == "resolved":
        return answer(alert["alert_id"], incident_id, contracts.RESOLVED, resolved=row)
    return answer(alert["alert_id"], incident_id, contracts.DEDUPLICATED)


def follower_incident(original, incident_of):
    """The incident of a duplicate's or a resolve's original, which may be new in this batch."""
    if original is None:
        return None
    if original.incident_id is None and original.alert_id in incident_of:
        return incident_of[original.alert_id][0]
    return original.incident_id


def link_followers(store, alerts, admitted, incident_of):
    """Duplicates and resolves of an original correlated in this very batch get its incident."""
    links = [
        (alert["alert_id"], incident_of[row.alert_id][0], None)
        for alert, (outcome, row) in zip(alerts, admitted, strict=True)
        if outcome in ("duplicate", "resolved") and row is not None and row.incident_id is None
        and row.alert_id in incident_of
    ]
    if links:
        store.link_many(links)


def resolve_quiet_incidents(store, incidents, answers, alerts):
    integration_of = {alert["alert_id"]: alert.get("integration_id") for alert in alerts}
    done = set()
    for body in answers:
        if body["action"] == contracts.RESOLVED and body["incident_id"] not in done:
            done.add(body["incident_id"])
            resolve_incident_when_quiet(store, incidents, body["incident_id"], integration_of[body["alert_id"]])


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
