"""Routing an incident to its team's on-call, and escalating it step by step.

Every page is a `notification_requested` event keyed by (incident, step, recipient,
channel), so a redelivered message or a retried step never pages anyone twice.
"""

from services.incidents import contracts as incident_contracts
from services.notifications import contracts as notification_contracts
from services.oncall import contracts as c
from services.oncall.metrics import ESCALATIONS

ACTOR = "klaxon-oncall"


def route_incident(store, incidents, dispatch, incident, now, default_team=None, channel="log"):
    """Assign a new incident to its team's primary and page them (step 0).

    A team or assignee given when the incident was opened by hand wins over the catalog.
    Safe to repeat: the assignment is recorded once (ref "route") and pages are keyed.
    """
    team = incident.get("team") or store.team_for_service(incident["service"]) or default_team
    if team is None or not store.has_schedule(team):
        reason = f"no team answers for service {incident['service']!r} and no default team is set"
        if team is not None:
            reason = f"team {team!r} has no on-call schedule"
        incidents.record_timeline(
            incident["id"], incident_contracts.UNROUTED, ACTOR, {"reason": reason}, "route"
        )
        return None
    escalation = store.start_escalation(incident["id"], team, incident["service"], now)
    targets = store.targets(team, c.STEP_TARGETS[0], now)
    assignee = incident.get("assignee") or (targets[0]["name"] if targets else None)
    incidents.assign(incident["id"], team, assignee, ACTOR, "route")
    page(dispatch, incident, 0, targets, channel)
    return escalation


def escalate(store, dispatch, incident, actor, now, channel="log"):
    """Take the next escalation step by hand; return who was paged."""
    escalation = store.advance_escalation(incident["id"], now)
    target = c.STEP_TARGETS[escalation.step]
    targets = store.targets(escalation.team, target, now)
    page(dispatch, incident, escalation.step, targets, channel)
    ESCALATIONS.labels(escalation.team).inc()
    event = {
        "incident_id": incident["id"],
        "team": escalation.team,
        "step": escalation.step,
        "target": target,
        "targets": targets,
        "actor": actor,
    }
    dispatch(c.INCIDENT_ESCALATED, event)
    return event


def page(dispatch, incident, step, targets, channel):
    for person in targets:
        dispatch(
            notification_contracts.NOTIFICATION_REQUESTED,
            {
                "incident_id": incident["id"],
                "step": step,
                "recipient": person["email"],
                "recipient_name": person["name"],
                "channel": channel,
                "subject": f"[{incident['severity'].upper()}] {incident['service']}: {incident['title']}",
                "message": f"Incident #{incident['id']} needs you (step {step}).",
            },
        )
