"""What happens to one alert: dedup, resolve, or correlate into an incident.

Idempotent by `alert_id`: a redelivered alert returns the answer it got the first time
and changes nothing. Dedup keys and groups are scoped to the integration that sent them.
"""

import contextlib

from services.alerts import contracts, metrics
from services.alerts.formats.generic import parse_generic
from services.alerts.store import dedup_scope
from services.shared.errors import Conflict
from services.shared.tracing import TRACEPARENT

RESULT_OF_ACTION = {contracts.NEW_INCIDENT: "new_incident", contracts.ATTACHED: "existing_incident"}
NO_QUIET = None  # ingestion without maintenance windows (tools, tests)
CARRIED_KEYS = ("source", "integration_id", "group_key", "details", "traceparent")
ACTOR = "klaxon-alerts"
# Alerts per transaction: each takes a lock per dedup key here and per correlation key in
# the incidents service, and PostgreSQL's lock table is shared and bounded.
SEGMENT_LIMIT = 200


def normalise(alert):
    """Re-validate an alert that crossed a process boundary; keeps its id and origin."""
    normalised = parse_generic(alert, alert_id=alert.get("alert_id"))
    normalised.update({key: alert.get(key) for key in CARRIED_KEYS if alert.get(key) is not None})
    return normalised


def ingest(store, incidents, alert):
    [body] = ingest_many(store, incidents, [normalise(alert)])
    return body


def ingest_many(store, incidents, alerts, quiet=NO_QUIET):
    """Dedup, resolve and correlate a batch of normalised alerts, in order; one answer each.

    The batch goes in segments: one transaction admits a segment, one RPC correlates its
    new alerts, one transaction links them. A segment ends before an alert that could
    follow (duplicate or resolve) a firing alert of the same segment, so every follower
    finds its original already correlated, exactly as if the alerts came one by one; and
    it ends at SEGMENT_LIMIT alerts, however large the batch.

    `quiet` (services.alerts.quiet.Quiet) says which alerts a maintenance window holds back.
    """
    answers = []
    for segment in segments(alerts):
        answers += ingest_segment(store, incidents, segment, quiet)
    return answers


def segments(alerts, limit=SEGMENT_LIMIT):
    segment, firing_keys = [], set()
    for alert in alerts:
        pair = (alert.get("integration_id"), alert["dedup_key"])
        if (alert["dedup_key"] and pair in firing_keys) or len(segment) >= limit:
            yield segment
            segment, firing_keys = [], set()
        segment.append(alert)
        if alert["dedup_key"] and alert["status"] == "firing":
            firing_keys.add(pair)
    if segment:
        yield segment


def ingest_segment(store, incidents, alerts, quiet=NO_QUIET):
    # What needs an incident is linked to it (link_many) before anyone is answered.
    admitted = store.admit_many(alerts, linked_later=any_needs_incident, at_commit=windows_read_for(quiet))
    count_received(alerts, admitted)
    pending = [
        alert for alert, (outcome, row) in zip(alerts, admitted, strict=True) if needs_incident(outcome, row)
    ]
    holds = holds_of(quiet, pending)
    incident_of, resolved_meanwhile = correlate_many(store, incidents, pending, holds)
    answers = [
        answer_for(alert, outcome, row, incident_of)
        for alert, (outcome, row) in zip(alerts, admitted, strict=True)
    ]
    name_windows(answers, holds)
    resolves = [a for a in answers if a["action"] == contracts.RESOLVED]
    maybe_quiet = [(a["alert_id"], a["incident_id"]) for a in resolves]
    maybe_quiet += [(alert_id, incident_of[alert_id][0]) for alert_id in resolved_meanwhile]
    resolve_quiet_incidents(store, incidents, maybe_quiet, alerts, resolves)
    return answers


def windows_read_for(quiet):
    """What the admission runs at its COMMIT: when an alert of it will be correlated, the
    windows in force that may hold it back are read with that COMMIT."""
    if quiet is None:
        return None

    def read_if_needed(admitted):
        if any_needs_incident(admitted):
            quiet.read_with_commit()

    return read_if_needed


def holds_of(quiet, alerts):
    return quiet.holds(alerts) if quiet is not None and alerts else {}


def name_windows(answers, holds):
    """A suppressed alert's answer names the window that holds it back."""
    for body in answers:
        if body["action"] == contracts.SUPPRESSED and body["alert_id"] in holds:
            body["suppressed_by"] = holds[body["alert_id"]].window_id


def any_needs_incident(admitted):
    return any(needs_incident(outcome, row) for outcome, row in admitted)


def needs_incident(outcome, row):
    return outcome == "new" or (outcome == "known" and row.action is None)


def count_received(alerts, admitted):
    for alert, (outcome, _) in zip(alerts, admitted, strict=True):
        if outcome == "known":
            continue
        metrics.known_service(alert["service"])
        metrics.ALERTS_RECEIVED.labels(alert["severity"], alert["service"]).inc()
        if outcome == "duplicate":
            metrics.ALERTS_DEDUPLICATED.labels(alert["service"]).inc()


def correlate_many(store, incidents, alerts, holds=None):
    """{alert_id: (incident_id, action)} for `alerts`, correlated by the incidents service,
    and the ids of those a concurrent resolve reached meanwhile. An alert with a hold (a
    maintenance window in force) opens nothing: it is linked to no incident, "suppressed",
    unless an incident open since before its window takes it."""
    if not alerts:
        return {}, set()
    holds = holds or {}
    requests = [correlation_request(alert, holds.get(alert["alert_id"])) for alert in alerts]
    outcomes = incidents.correlate_many(requests)
    held = {
        a["alert_id"]: holds[a["alert_id"]]
        for a, o in zip(alerts, outcomes, strict=True)
        if o["action"] == contracts.SUPPRESSED
    }
    resolved_meanwhile = link_outcomes(store, alerts, outcomes, held)
    count_correlated(alerts, outcomes)
    incident_of = {
        a["alert_id"]: (o["incident_id"], o["action"]) for a, o in zip(alerts, outcomes, strict=True)
    }
    return incident_of, resolved_meanwhile


def link_outcomes(store, alerts, outcomes, held):
    """Record each alert's incident; the ids of those a concurrent resolve reached meanwhile."""
    keyed = [alert for alert in alerts if alert["dedup_key"]]  # only these can a resolve reach
    return store.link_many(
        [(a["alert_id"], o["incident_id"], o["action"]) for a, o in zip(alerts, outcomes, strict=True)],
        lock_keys=[dedup_scope(alert) for alert in keyed],
        held=held,
        resolvable=[alert["alert_id"] for alert in keyed],
    )


def count_correlated(alerts, outcomes):
    for alert, outcome in zip(alerts, outcomes, strict=True):
        if outcome["action"] == contracts.SUPPRESSED:
            metrics.ALERTS_SUPPRESSED.labels(alert["service"]).inc()
            continue
        result = RESULT_OF_ACTION[outcome["action"]]
        metrics.ALERTS_CORRELATED.labels(result, alert["service"], alert["severity"]).inc()


def correlation_request(alert, hold=None):
    request = {key: alert[key] for key in ("alert_id", "service", "severity", "message", "timestamp")}
    if hold is not None:
        request["suppressed_since"] = hold.starts_at.isoformat()
    if alert.get(TRACEPARENT):
        request[TRACEPARENT] = alert[TRACEPARENT]
    if alert.get("group_key"):
        request["group_key"] = f"{alert.get('integration_id')}:{alert['group_key']}"
    return request


def answer_for(alert, outcome, row, incident_of):
    if alert["alert_id"] in incident_of:
        return answer(alert["alert_id"], *incident_of[alert["alert_id"]])
    if outcome == "known":
        body = answer(row.alert_id, row.incident_id, row.action, resolved_alert_id=row.resolves)
        if row.suppressed_by is not None and row.action == contracts.SUPPRESSED:
            body["suppressed_by"] = row.suppressed_by
        return body
    incident_id = row.incident_id if row is not None else None
    if outcome == "stale":
        return answer(alert["alert_id"], None, contracts.RESOLVED, resolved_alert_id=None)
    if outcome == "resolved":
        resolved_alert_id = row.alert_id if row is not None else None
        return answer(alert["alert_id"], incident_id, contracts.RESOLVED, resolved_alert_id=resolved_alert_id)
    return answer(alert["alert_id"], incident_id, contracts.DEDUPLICATED)


def resolve_quiet_incidents(store, incidents, resolved, alerts, answers=()):
    """Tell the incidents service, one call per incident of `resolved` (alert id, incident
    id) pairs, which of its alerts resolved (`answers`, for its timeline) and whether it has
    gone quiet, so that it resolves. The call returns before the sender's answer does: the
    next alert finds the incident resolved. It is the incidents service's only word of a
    resolve (no event repeats it)."""
    integration_of = {alert["alert_id"]: alert.get("integration_id") for alert in alerts}
    settled = {}
    for alert_id, incident_id in resolved:
        if incident_id is not None and incident_id not in settled:
            settled[incident_id] = settled_alerts(store, incident_id, integration_of[alert_id])
    timeline = resolved_alerts_by_incident(answers)
    for incident_id, count in settled.items():
        if count is not None or incident_id in timeline:
            incidents.resolve_if_quiet(incident_id, count, ACTOR, QUIET_NOTE, timeline.get(incident_id, []))


QUIET_NOTE = "every alert of this incident has resolved"


def resolved_alerts_by_incident(answers):
    """{incident id: [{alert_id, resolved_alert_id}]} of the answers that resolved an alert."""
    timeline = {}
    for body in answers:
        if body["incident_id"] is not None and body.get("resolved_alert_id"):
            entry = {"alert_id": body["alert_id"], "resolved_alert_id": body["resolved_alert_id"]}
            timeline.setdefault(body["incident_id"], []).append(entry)
    return timeline


def settled_alerts(store, incident_id, integration_id):
    """How many of an incident's alerts this store has seen resolved, when none fires and
    its integration resolves incidents; else None (the incident stays as it is). The
    incidents service checks, under the incident's lock, that no alert was correlated into
    it that this store has not seen resolved (one still being linked, say)."""
    firing, resolved = store.linked_counts(incident_id)
    if firing > 0:
        return None
    if integration_id and not store.integrations.get(integration_id)["auto_resolve"]:
        return None
    return resolved


def acknowledge(store, incidents, dedup_key, integration_id, actor):
    """A sender acknowledges by dedup key (PagerDuty's `acknowledge` event)."""
    original = store.firing_with_key(dedup_key, integration_id)
    if original is None or original.incident_id is None:
        return None
    with contextlib.suppress(Conflict):  # acknowledged or resolved already
        incidents.update_incident(original.incident_id, {"status": "acknowledged"}, actor)
    return original.incident_id


def answer(alert_id, incident_id, action, resolved_alert_id=None):
    status = {
        contracts.DEDUPLICATED: "deduplicated",
        contracts.RESOLVED: "resolved",
        contracts.SUPPRESSED: "suppressed",
    }
    body = {
        "alert_id": alert_id,
        "incident_id": incident_id,
        "status": status.get(action, "correlated"),
        "action": action,
    }
    if action == contracts.RESOLVED:
        body["resolved_alert_id"] = resolved_alert_id
    return body
