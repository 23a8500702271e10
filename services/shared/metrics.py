"""Prometheus metrics every process shares, and rendering of store-derived gauges.

Counters and histograms live in the process that observed the event; Prometheus sums
them over replicas. Gauges that describe stored state are computed from the store at
scrape time, so every replica reports the same value.

Every label set a dashboard reads is created at 0 before its first event (see each
service's `metrics.prime`): a series whose first sample is already 1 shows no increase
to rate() or increase(). Latency and MTTA/MTTR observations carry the current trace id
as an exemplar, which only the OpenMetrics exposition shows: a scraper that asks for it
(`Accept: application/openmetrics-text`, as Prometheus does) gets it, anyone else the
plain text format.
"""

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import choose_encoder

from services.shared.tracing import current_trace_id

# The *_created series double every counter and no dashboard here reads them.
disable_created_metrics()

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests answered", ["service", "method", "route", "code"]
)
HTTP_DURATION = Histogram("http_request_duration_seconds", "HTTP request latency", ["service", "route"])
DURATION_BUCKETS = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400)


def observe(histogram, value):
    """`histogram.observe(value)`, with the current trace id as its exemplar inside a trace."""
    trace_id = current_trace_id()
    if trace_id is None:
        histogram.observe(value)
    else:
        histogram.observe(value, exemplar={"trace_id": trace_id})


class _Families:
    def __init__(self, families):
        self.families = families

    def collect(self):
        return self.families


class _Both:
    """The process's own registry followed by store-derived families, as one collector."""

    def __init__(self, registry, families):
        self.registry = registry
        self.families = families

    def collect(self):
        yield from self.registry.collect()
        yield from self.families


def exposition(accept=None, store_families=(), registry=REGISTRY):
    """(body, content type) for a scrape: OpenMetrics (with exemplars) when `accept` asks
    for it, else the Prometheus text format."""
    encoder, content_type = choose_encoder(accept or "")
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(_Both(registry, list(store_families)))
    return encoder(scrape), content_type


def render(store_families=()):
    """The Prometheus exposition text of this process plus gauges read from the store."""
    text = generate_latest(REGISTRY)
    if store_families:
        scrape = CollectorRegistry(auto_describe=False)
        scrape.register(_Families(list(store_families)))
        text += generate_latest(scrape)
    return text
