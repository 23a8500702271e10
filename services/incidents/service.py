"""The incidents service: correlation, lifecycle, timeline, MTTA/MTTR."""

import datetime as dt
from functools import partial

from nameko.dependency_providers import Config
from opentelemetry import trace

from services.alerts import contracts as alert_contracts
from services.incidents import contracts as c
from services.incidents import domain
from services.incidents.analytics import analytics as figures
from services.incidents.metrics import MTTA, MTTR, known_pair
from services.incidents.migrations import MIGRATIONS
from services.incidents.models import db
from services.incidents.requests import NewIncident, parse_change
from services.incidents.store import IncidentStore
from services.notifications import contracts as notification_contracts
from services.oncall import contracts as oncall_contracts
from services.shared.access import READ, RESPOND
from services.shared.clock import Clock
from services.shared.config import CorrelationSettings
from services.shared.http_api import ID, actor, json_api, json_body, query
from services.shared.messaging import handles, run_all
from services.shared.metrics import observe
from services.shared.rpc import RpcProxy, rpc
from services.shared.storage import Storage
from services.shared.tracing import (
    EventDispatcher,
    Tracing,
    annotate,
    clean,
    run_in_current_context,
    spans_for,
)
from services.shared.validation import parse
from services.shared.web import HealthAndMetrics, HttpMetrics, http


class IncidentsService(HealthAndMetrics):
    name = c.SERVICE

    store = Storage(db, MIGRATIONS, IncidentStore)
    config = Config()
    tracing = Tracing()
    http_metrics = HttpMetrics()
    clock = Clock()
    dispatch = EventDispatcher()
    alerts = RpcProxy(alert_contracts.SERVICE)
    # Whose credentials a request to this service's own port carries (services.shared.access).
    identity = RpcProxy(oncall_contracts.SERVICE)

    @rpc
    def correlate(self, alert):
        [outcome] = self.correlate_many([alert])
        return outcome

    @rpc
    def correlate_many(self, alerts):
        """Correlate a batch of alerts in order; one answer per alert, in the same order."""
        window = CorrelationSettings.from_config(self.config).window_seconds
        with alert_spans(alerts) as spans:
            outcomes, opened = self.store.correlate_ids(alerts, window, self.clock.now())
            opening = {}
            for span, (incident_id, action) in zip(spans, outcomes, strict=True):
                span.set_attributes(clean({"incident_id": incident_id, "action": action}))
                if action == "new_incident":
                    opening.setdefault(incident_id, (span, opened[incident_id]))
            # Each incident_opened continues the trace of the alert that opened it.
            run_all([self._announcing_opened(span, incident) for span, incident in opening.values()])
        return [{"incident_id": incident_id, "action": action} for incident_id, action in outcomes]

    def _announcing_opened(self, span, incident):
        with trace.use_span(span, end_on_exit=False):
            return run_in_current_context(partial(self.dispatch, c.INCIDENT_OPENED, opened_event(incident)))

    @rpc
    def create_incident(self, payload, actor="api"):
        incident = self.store.create(parse(NewIncident, payload), actor, self.clock.now())
        self.dispatch(c.INCIDENT_OPENED, opened_event(incident))
        return incident

    @rpc
    def get_incident(self, incident_id):
        return self.store.get(incident_id)

    @rpc
    def incident_summary(self, incident_id):
        return self.store.summary(incident_id)

    @rpc
    def list_incidents(self, filters, cursor=None, limit=None):
        return self.store.list(filters, cursor=cursor, limit=limit)

    @rpc
    def update_incident(self, incident_id, payload, actor="api"):
        change = parse_change(payload)
        incident, previous = self.store.update(incident_id, change, actor, self.clock.now())
        if change.status is not None:
            self._announce(incident, previous, actor)
        changed = sorted(change.model_dump(exclude_none=True))
        self.dispatch(c.INCIDENT_UPDATED, {"incident_id": incident_id, "actor": actor, "changed": changed})
        return incident

    @rpc
    def resolve_if_quiet(self, incident_id, settled_alerts, actor, note, resolved_alerts=()):
        """Record which of an incident's alerts resolved (`resolved_alerts`: alert_id and
        resolved_alert_id each, once per alert_id) and, given `settled_alerts`, resolve the
        incident when all its alerts have, unless one arrived meanwhile."""
        now = self.clock.now()
        self.store.record_resolved_alerts(incident_id, resolved_alerts, actor, now)
        if settled_alerts is None:
            return None
        resolved = self.store.resolve_if_quiet(incident_id, settled_alerts, actor, note, now)
        if resolved is None:
            return None
        incident, previous = resolved
        self._announce(incident, previous, actor)
        return incident

    @rpc
    def incident_metrics(self, incident_id):
        return self.store.metrics(incident_id)

    @rpc
    def stats(self):
        return self.store.stats()

    @rpc
    def analytics(self, since, until, filters=None, zone="UTC"):
        start, end = dt.datetime.fromisoformat(since), dt.datetime.fromisoformat(until)
        rows = self.store.analytics_rows(start, end, filters or {})
        return figures(rows, start, end, zone)

    @handles(notification_contracts.SERVICE, notification_contracts.NOTIFICATION_DELIVERED)
    def on_notification_delivered(self, delivery):
        self._record_delivery(c.NOTIFIED, delivery)

    @handles(notification_contracts.SERVICE, notification_contracts.NOTIFICATION_FAILED)
    def on_notification_failed(self, delivery):
        self._record_delivery(c.NOTIFICATION_FAILED, delivery)

    def _record_delivery(self, kind, delivery):
        if delivery.get("incident_id") is None:
            return
        detail = {k: delivery.get(k) for k in ("recipient", "channel", "step", "status", "attempts", "error")}
        self.store.record(
            delivery["incident_id"],
            kind,
            "klaxon-notifications",
            detail,
            self.clock.now(),
            ref=delivery["key"],
        )

    @handles(oncall_contracts.SERVICE, oncall_contracts.INCIDENT_ROUTED)
    def on_incident_routed(self, event):
        """The router's assignment and notes (oncall_contracts.IncidentRouted), once."""
        incident_id, actor, team = event["incident_id"], event["actor"], event["team"]
        annotate(incident_id=incident_id, team=team)
        at = dt.datetime.fromisoformat(event["at"])
        assigned = self.store.route(
            incident_id, team, event["assignee"], actor, at, self.clock.now(), event["timeline"]
        )
        if assigned:
            # The team's MTTA and MTTR start at 0 now, before anyone can acknowledge.
            # (An event from an on-call service older than `service` in it has none.)
            if event.get("service"):
                known_pair(event["service"], team)
            self.dispatch(
                c.INCIDENT_UPDATED, {"incident_id": incident_id, "actor": actor, "changed": ["assignee"]}
            )

    @handles(oncall_contracts.SERVICE, oncall_contracts.INCIDENT_ESCALATED)
    def on_incident_escalated(self, event):
        detail = {k: event[k] for k in ("team", "step", "target", "targets")}
        self.store.record(
            event["incident_id"],
            c.ESCALATED,
            event["actor"],
            detail,
            self.clock.now(),
            ref=f"step-{event['step']}",
        )

    def _announce(self, incident, previous, actor):
        labels = (incident["service"], incident["team"] or "")
        target = incident["status"]
        if target == previous:
            return
        # Observed once per incident: a reopened incident keeps its first acknowledgement.
        if target == "acknowledged" and incident["acknowledged_at"] == incident["updated_at"]:
            observe(MTTA.labels(*labels), incident["mtta_seconds"])
        if target == "resolved":
            observe(MTTR.labels(*labels), incident["mttr_seconds"])
        event = domain.EVENT_OF_STATUS.get(target)
        if event:
            self.dispatch(event, {"incident_id": incident["id"], "actor": actor, "team": incident["team"]})

    # -- this service's own port: the same API as the edge's (SPEC §7) ----------------
    @http("GET", "/api/v1/incidents")
    @json_api(READ)
    def http_list_incidents(self, request):
        filters = query(request, INCIDENT_FILTERS)
        return 200, self.list_incidents(filters, request.args.get("cursor"), request.args.get("limit"))

    @http("POST", "/api/v1/incidents")
    @json_api(RESPOND)
    def http_create_incident(self, request):
        return 201, self.create_incident(json_body(request), actor(request))

    @http("GET", f"/api/v1/incidents/<{ID}:incident_id>")
    @json_api(READ)
    def http_get_incident(self, request, incident_id):
        incident = self.get_incident(incident_id)
        incident["alerts"] = self.alerts.list_alerts({"incident_id": incident_id}, None, 100)["items"]
        return 200, incident

    @http("PATCH", f"/api/v1/incidents/<{ID}:incident_id>")
    @json_api(RESPOND)
    def http_update_incident(self, request, incident_id):
        return 200, self.update_incident(incident_id, json_body(request), actor(request))

    @http("GET", f"/api/v1/incidents/<{ID}:incident_id>/metrics")
    @json_api(READ)
    def http_incident_metrics(self, request, incident_id):
        return 200, self.incident_metrics(incident_id)


INCIDENT_FILTERS = ("status", "severity", "service", "team", "assignee", "since", "until", "q", "sort")


def alert_spans(alerts):
    return spans_for(alerts, "incidents.correlate", correlated_alert)


def correlated_alert(alert):
    return {"alert_id": alert["alert_id"], "service": alert["service"]}


def opened_event(incident):
    return {
        key: incident[key] for key in ("id", "title", "service", "severity", "created_at", "team", "assignee")
    }
