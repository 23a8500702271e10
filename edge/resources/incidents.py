"""/api/v1/incidents: list, open by hand, read with alerts and timeline, change."""

import falcon

from edge.auth import actor
from edge.requests import filters, read_json
from services.alerts import contracts as alerts
from services.incidents import contracts as c
from services.shared.access import READ, RESPOND

INCIDENT_FILTERS = ("status", "severity", "service", "team", "assignee", "since", "until", "q", "sort")


class Incidents:
    access = {"GET": READ, "POST": RESPOND}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp):
        resp.media = self.rpc.call(
            c.SERVICE,
            c.LIST,
            filters(req, INCIDENT_FILTERS),
            req.get_param("cursor"),
            req.get_param("limit"),
        )

    def on_post(self, req, resp):
        incident = self.rpc.call(c.SERVICE, c.CREATE, read_json(req), actor(req))
        resp.status = falcon.HTTP_201
        resp.location = f"/api/v1/incidents/{incident['id']}"
        resp.media = incident


class Incident:
    access = {"GET": READ, "PATCH": RESPOND}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp, incident_id):
        incident = self.rpc.call(c.SERVICE, c.GET, incident_id)
        page = self.rpc.call(alerts.SERVICE, alerts.LIST_ALERTS, {"incident_id": incident_id}, None, 100)
        incident["alerts"] = page["items"]
        resp.media = incident

    def on_patch(self, req, resp, incident_id):
        resp.media = self.rpc.call(c.SERVICE, c.UPDATE, incident_id, read_json(req), actor(req))


class IncidentMetrics:
    access = {"GET": READ}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp, incident_id):
        resp.media = self.rpc.call(c.SERVICE, c.METRICS, incident_id)


class IncidentStats:
    access = {"GET": READ}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp):
        resp.media = self.rpc.call(c.SERVICE, c.STATS)
