"""/api/v1/alerts: generic alerts in, and the alert store out."""

import falcon

from edge.requests import filters, read_json
from services.alerts import contracts as c
from services.alerts.formats.generic import parse_generic

ALERT_FILTERS = ("service", "severity", "status", "incident_id", "dedup_key", "source")


def wants_async(req):
    """RFC 7240: `Prefer: respond-async` asks not to wait for the incident."""
    prefer = req.get_header("Prefer") or ""
    return "respond-async" in [part.strip().lower() for part in prefer.split(",")]


class Alerts:
    def __init__(self, rpc, ingestion):
        self.rpc = rpc
        self.ingestion = ingestion

    def on_post(self, req, resp):
        integration = self.ingestion.sender(req, "generic")
        alert = parse_generic(read_json(req))
        if wants_async(req):
            [alert_id] = self.ingestion.enqueue(integration, [alert])
            resp.status = falcon.HTTP_202
            resp.set_header("Preference-Applied", "respond-async")
            resp.location = f"/api/v1/alerts/{alert_id}"
            resp.media = {"alert_id": alert_id, "status": "queued"}
            return
        self.ingestion.limiter.take(integration)
        alert["integration_id"] = integration["id"]
        answer = self.rpc.call(c.SERVICE, c.INGEST, alert)
        resp.status = falcon.HTTP_201
        resp.location = f"/api/v1/alerts/{answer['alert_id']}"
        resp.media = answer

    def on_get(self, req, resp):
        resp.media = self.rpc.call(
            c.SERVICE,
            c.LIST_ALERTS,
            filters(req, ALERT_FILTERS),
            req.get_param("cursor"),
            req.get_param("limit"),
        )


class Alert:
    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp, alert_id):
        resp.media = self.rpc.call(c.SERVICE, c.GET_ALERT, alert_id)
