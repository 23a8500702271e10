"""Prometheus metrics every process shares, and rendering of store-derived gauges.

Counters and histograms live in the process that observed the event; Prometheus sums
them over replicas. Gauges that describe stored state are computed from the store at
scrape time, so every replica reports the same value.
"""

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

# The *_created series double every counter and no dashboard here reads them.
disable_created_metrics()

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests answered", ["service", "method", "route", "code"]
)
HTTP_DURATION = Histogram("http_request_duration_seconds", "HTTP request latency", ["service", "route"])
DURATION_BUCKETS = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400)


class _Families:
    def __init__(self, families):
        self.families = families

    def collect(self):
        return self.families


def render(store_families=()):
    """The Prometheus exposition text of this process plus gauges read from the store."""
    text = generate_latest(REGISTRY)
    if store_families:
        scrape = CollectorRegistry(auto_describe=False)
        scrape.register(_Families(list(store_families)))
        text += generate_latest(scrape)
    return text
