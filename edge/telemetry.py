"""Edge metrics: per-route request counts and latency, across gunicorn workers.

With PROMETHEUS_MULTIPROC_DIR set (as `klaxon edge` does), every worker writes its
samples there and /metrics merges them, whichever worker answers the scrape.
"""

import os
import time

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess

from services.shared.metrics import HTTP_DURATION, HTTP_REQUESTS


def render():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


class RequestMetrics:
    """Falcon middleware counting requests by method, route template and status."""

    def process_request(self, req, resp):
        req.context.started = time.perf_counter()

    def process_response(self, req, resp, resource, req_succeeded):
        route = req.uri_template or "unmatched"
        code = resp.status[:3] if isinstance(resp.status, str) else str(int(resp.status))
        HTTP_REQUESTS.labels("edge", req.method, route, code).inc()
        started = getattr(req.context, "started", None)
        if started is not None:
            HTTP_DURATION.labels("edge", route).observe(time.perf_counter() - started)
