"""Edge metrics: per-route request counts and latency, across gunicorn workers.

With PROMETHEUS_MULTIPROC_DIR set (as `klaxon edge` does), every worker writes its
samples there and /metrics merges them, whichever worker answers the scrape. The
multiprocess collector has no process_* metrics, so the edge adds those of the gunicorn
master and its workers, summed (CPU seconds, memory, open file descriptors): one edge is
one process to the System Health dashboard. A worker that gunicorn replaces takes its CPU
seconds with it, which Prometheus reads as a counter reset.
"""

import os
import time
from pathlib import Path

from prometheus_client import CollectorRegistry, ProcessCollector, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from services.shared.metrics import HTTP_DURATION, HTTP_REQUESTS, exposition, observe

SUMMED = ("process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes")
SUMMED += ("process_open_fds",)
OF_THE_MASTER = ("process_start_time_seconds", "process_max_fds")


def prime_routes(routes):
    """Every route's 500 starts at 0: the first failure of a route is then a step that
    rate() sees, not the first sample of a new series, which it cannot."""
    from edge.openapi import responders

    for template, resource in routes.items():
        for method in responders(resource):
            HTTP_REQUESTS.labels("edge", method.upper(), template, "500")


def render(accept=None):
    """(body, content type) of a scrape; OpenMetrics when `accept` asks for it."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(GunicornProcesses(os.getppid()))
        return exposition(accept, registry=registry)
    return exposition(accept)


def children_of(pid):
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def process_samples(pid):
    """{sample name: value} of ProcessCollector for `pid` ({} when it has gone)."""
    collector = ProcessCollector(pid=lambda: pid, registry=None)
    return {sample.name: sample.value for family in collector.collect() for sample in family.samples}


class GunicornProcesses:
    """process_* of the gunicorn master `master` plus the sum over its workers."""

    def __init__(self, master):
        self.master = master

    def collect(self):
        of_master = process_samples(self.master)
        every = [of_master, *(process_samples(pid) for pid in children_of(self.master))]
        totals = {name: sum(samples.get(name, 0.0) for samples in every) for name in SUMMED}
        cpu = CounterMetricFamily("process_cpu_seconds", "CPU seconds of the gunicorn master and its workers")
        cpu.add_metric([], totals["process_cpu_seconds_total"])
        yield cpu
        for name in SUMMED[1:]:
            yield GaugeMetricFamily(name, f"{name} summed over the gunicorn master and workers", totals[name])
        for name in OF_THE_MASTER:
            if name in of_master:
                yield GaugeMetricFamily(name, f"{name} of the gunicorn master", of_master[name])


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
            observe(HTTP_DURATION.labels("edge", route), time.perf_counter() - started)
