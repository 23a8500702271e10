"""/api/v1/alerts: generic alerts in, and the alert store out."""

import falcon
from nameko.exceptions import deserialize

from edge.requests import filters, read_json
from services.alerts import contracts as c
from services.alerts.formats.generic import parse_generic
from services.shared.access import INTEGRATION, READ

ALERT_FILTERS = (
    *("service", "severity", "status", "incident_id", "dedup_key", "source"),
    *("action", "suppressed_by"),
)


def wants_async(req):
    """RFC 7240: `Prefer: respond-async` asks not to wait for the incident."""
    prefer = req.get_header("Prefer") or ""
    return "respond-async" in [part.strip().lower() for part in prefer.split(",")]


class Alerts:
    """Every alert goes onto the durable queue. A synchronous one (no `Prefer:
    respond-async`) then waits up to `answer_timeout` seconds for its incident; if the
    answer is late it is still queued, and the sender gets 202 rather than an error."""

    access = {"POST": INTEGRATION, "GET": READ}

    def __init__(self, rpc, ingestion, replies, answer_timeout=10.0):
        self.rpc = rpc
        self.ingestion = ingestion
        self.replies = replies
        self.answer_timeout = answer_timeout

    def on_post(self, req, resp):
        integration = self.ingestion.sender(req, "generic")
        alert = parse_generic(read_json(req))
        if wants_async(req):
            self.ingestion.enqueue(integration, [alert])
            resp.set_header("Preference-Applied", "respond-async")
            answer = None
        else:
            answer = self._correlated(integration, alert)
        if answer is None:
            resp.status = falcon.HTTP_202
            resp.media = {"alert_id": alert["alert_id"], "status": "queued"}
        else:
            resp.status = falcon.HTTP_201
            resp.media = answer
        resp.location = f"/api/v1/alerts/{alert['alert_id']}"

    def _correlated(self, integration, alert):
        """The alert's answer once the alerts service has correlated it; None if it is late."""
        waiter = self.replies.expect(alert["alert_id"])
        try:
            self.ingestion.enqueue(integration, [alert], reply_to=self.replies.address)
            answer = waiter.wait(self.answer_timeout)
        finally:
            self.replies.forget(alert["alert_id"])
        if answer is not None and "error" in answer:
            raise deserialize(answer["error"])
        return answer

    def on_get(self, req, resp):
        resp.media = self.rpc.call(
            c.SERVICE,
            c.LIST_ALERTS,
            filters(req, ALERT_FILTERS),
            req.get_param("cursor"),
            req.get_param("limit"),
        )


class Alert:
    access = {"GET": READ}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp, alert_id):
        resp.media = self.rpc.call(c.SERVICE, c.GET_ALERT, alert_id)
