"""Routing an incident to its team's on-call, and escalating it step by step.

Every page is a `notification_requested` event keyed by (incident, step, recipient,
channel), so a redelivered message or a retried step never pages anyone twice.
"""

from services.incidents import contracts as incident_contracts
from services.oncall import contracts as c
from services.oncall.metrics import ESCALATIONS
from services.oncall.policy import Plan
from services.shared.tracing import annotate

ACTOR = "klaxon-oncall"
FIRST_STEP = {"delay_minutes": 0, "targets": [{"type": "layer", "layer": "primary"}]}


def route_incident(store, dispatch, incident, now, default_team=None, channel=None):
    """Route a new incident to its team's primary and page step 0 of the team's policy.

    A team or assignee given when the incident was opened by hand wins over the catalog.
    The incidents service learns the assignment (and any note on how it was routed) from
    one `incident_routed` event, dispatched before the first page. Safe to repeat: the
    incidents service records a routing once, and pages are keyed.
    """
    team = incident.get("team") or store.team_for_service(incident["service"])
    notes = []
    if team is None and default_team is not None:
        team = default_team
        note = f"service {incident['service']!r} is not in the service catalog; routed to the default team"
        notes.append(timeline_note(incident_contracts.NOTE, {"note": note}, "route-default"))
    annotate(incident_id=incident["id"], service=incident["service"], team=team)
    if team is None or not store.has_schedule(team):
        reason = f"no team answers for service {incident['service']!r} and no default team is set"
        if team is not None:
            reason = f"team {team!r} has no on-call schedule"
        notes.append(timeline_note(incident_contracts.UNROUTED, {"reason": reason}, "route"))
        dispatch(c.INCIDENT_ROUTED, routed(incident, None, None, notes, now))
        return None
    escalation = store.start_escalation(incident["id"], team, incident["service"], subject_of(incident), now)
    primary = store.step_targets(team, FIRST_STEP, now)
    assignee = incident.get("assignee") or (primary[0]["name"] if primary else None)
    dispatch(c.INCIDENT_ROUTED, routed(incident, team, assignee, notes, now))
    plan = Plan.from_json(escalation.plan)
    facts = incident_facts({**incident, "status": "open"}, assignee)
    page(store, dispatch, escalation, 0, store.step_targets(team, plan.step(0), now), channel, facts)
    return escalation


def timeline_note(kind, detail, ref):
    return {"kind": kind, "detail": detail, "ref": ref}


def routed(incident, team, assignee, notes, now):
    return {
        "incident_id": incident["id"],
        "service": incident["service"],
        "team": team,
        "assignee": assignee,
        "actor": ACTOR,
        "at": now.isoformat(),
        "timeline": notes,
    }


def incident_facts(incident, assignee=None):
    """What a page says of its incident (c.IncidentFacts), so nobody has to ask for it."""
    facts = {key: incident.get(key) for key in ("id", "title", "service", "severity", "status")}
    facts["assignee"] = assignee or incident.get("assignee")
    return facts


def escalate(store, dispatch, incident, actor, now, channel=None):
    """Take the next escalation step by hand; return who was paged."""
    escalation = store.advance_escalation(incident["id"], now)
    return fire(store, dispatch, escalation, actor, now, channel, incident_facts(incident))


def fire(store, dispatch, escalation, actor, now, channel=None, facts=None):
    """Page the step `escalation` is now at and announce it (timeline, metric).

    `facts` (c.IncidentFacts) when the incident is at hand; a step the engine fires later
    leaves them out and the notifications service asks for the incident as it is then."""
    plan = Plan.from_json(escalation.plan)
    step = escalation.step
    targets = store.step_targets(escalation.team, plan.step(step), now)
    page(store, dispatch, escalation, step, targets, channel, facts)
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


def page(store, dispatch, escalation, step, targets, channel=None, facts=None):
    """One notification request per person and contact method (theirs, else their team's
    defaults); with neither, the page goes out on `channel` (default: DEFAULT_CHANNEL, log).
    `facts` (c.IncidentFacts), when known, travel with each request."""
    fallback = [{"type": channel or store.config.get("DEFAULT_CHANNEL") or "log"}]
    for person in targets:
        for method in store.contact_methods(person["email"], escalation.team) or fallback:
            dispatch(c.NOTIFICATION_REQUESTED, page_request(escalation, step, person, method, facts))


def page_request(escalation, step, person, method, facts=None):
    """A c.NotificationRequested payload."""
    request = {
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
    if facts is not None:
        request["incident"] = facts
    return request


def subject_of(incident):
    return f"[{incident['severity'].upper()}] {incident['service']}: {incident['title']}"
