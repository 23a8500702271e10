"""/health and /metrics (the console is edge/resources/console.py)."""

import falcon

from edge import telemetry
from services.shared.access import PUBLIC
from services.shared.web import broker_reachable


class Health:
    access = {"GET": PUBLIC}

    def __init__(self, amqp_uri):
        self.amqp_uri = amqp_uri

    def on_get(self, req, resp):
        ok, broker = broker_reachable(self.amqp_uri)
        resp.status = falcon.HTTP_200 if ok else falcon.HTTP_503
        resp.media = {
            "service": "edge",
            "status": "ok" if ok else "unavailable",
            "checks": {"broker": broker},
        }


class Metrics:
    access = {"GET": PUBLIC}

    def on_get(self, req, resp):
        # OpenMetrics (with exemplars) when the scraper asks for it, else Prometheus text.
        resp.data, resp.content_type = telemetry.render(req.get_header("Accept"))
