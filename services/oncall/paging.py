"""Routing an incident to its team's on-call, and escalating it step by step.

Every page is a `notification_requested` event keyed by (incident, step, recipient,
channel), so a redelivered message or a retried step never pages anyone twice.
"""

from services.incidents import contracts as incident_contracts
from services.oncall import contracts as c
from services.oncall.metrics import ESCALATIONS
from services.oncall.policy import Plan

ACTOR = "klaxon-oncall"
FIRST_STEP = {"delay_minutes": 0, "targets": [{"type": "layer", "layer": "primary"}]}


def route_incident(store, incidents, dispatch, incident, now, default_team=None, channel=None):
    """Assign a new incident to its team's primary and page step 0 of the team's policy.

    A team or assignee given when the incident was opened by hand wins over the catalog.
    Safe to repeat: the assignment is recorded once (ref "route") and pages are keyed.
    """
    team = incident.get("team") or store.team_for_service(incident["service"])
    if team is None and default_team is not None:
        team = default_team
        note = f"service {incident['service']!r} is not in the service catalog; routed to the default team"
        incidents.record_timeline(
            incident["id"], incident_contracts.NOTE, ACTOR, {"note": note}, "route-default"
        )
    if team is None or not store.has_schedule(team):
        reason = f"no team answers for service {incident['service']!r} and no default team is set"
        if team is not None:
            reason = f"team {team!r} has no on-call schedule"
        incidents.record_timeline(
            incident["id"], incident_contracts.UNROUTED, ACTOR, {"reason": reason}, "route"
        )
        return None
    escalation = store.start_escalation(incident["id"], team, incident["service"], subject_of(incident), now)
    primary = store.step_targets(team, FIRST_STEP, now)
    assignee = incident.get("assignee") or (primary[0]["name"] if primary else None)
    incidents.assign(incident["id"], team, assignee, ACTOR, "route")
    plan = Plan.from_json(escalation.plan)
    page(store, dispatch, escalation, 0, store.step_targets(team, plan.step(0), now), channel)
    return escalation


def escalate(store, dispatch, incident, actor, now, channel=None):
    """Take the next escalation step by hand; return who was paged."""
    escalation = store.advance_escalation(incident["id"], now)
    return fire(store, dispatch, escalation, actor, now, channel)


def fire(store, dispatch, escalation, actor, now, channel=None):
    """Page the step `escalation` is now at and announce it (timeline, metric)."""
    plan = Plan.from_json(escalation.plan)
    step = escalation.step
    targets = store.step_targets(escalation.team, plan.step(step), now)
    page(store, dispatch, escalation, step, targets, channel)
    ESCALATIONS.labels(escalation.team).inc()
    event = {
        "incident_id": escalation.incident_id,
        "team": escalation.team,
        "step": step,
        "target": plan.describe(step),
        "targets": targets,
        "actor": actor,
    }
    dispatch(c.INCIDENT_ESCALATED, event)
    return event


def page(store, dispatch, escalation, step, targets, channel=None):
    """One notification request per person and contact method (theirs, else their team's
    defaults); with neither, the page goes out on `channel` (default: DEFAULT_CHANNEL, log)."""
    fallback = [{"type": channel or store.config.get("DEFAULT_CHANNEL") or "log"}]
    for person in targets:
        for method in store.contact_methods(person["email"], escalation.team) or fallback:
            dispatch(c.NOTIFICATION_REQUESTED, page_request(escalation, step, person, method))


def page_request(escalation, step, person, method):
    return {
        "incident_id": escalation.incident_id,
        "step": step,
        "recipient": person["email"],
        "recipient_name": person["name"],
        "channel": method["type"],
        "address": method.get("address") or (person["email"] if method["type"] == "email" else None),
        "secret": method.get("secret"),
        "delay_minutes": method.get("delay_minutes", 0),
        "subject": escalation.subject or f"{escalation.service}: incident #{escalation.incident_id}",
        "message": f"Incident #{escalation.incident_id} needs you (step {step}).",
    }


def subject_of(incident):
    return f"[{incident['severity'].upper()}] {incident['service']}: {incident['title']}"
