"""Metrics the incidents service observes (names are a public contract, SPEC §6).

At each scrape every (service, team) with an incident gets its MTTA and MTTR histograms
at 0 and an `incidents_total` sample for every status and severity (0 where none), so an
incident's acknowledgement or resolution is an increase Prometheus sees and a status
nobody is in reads 0, not "no data".
"""

from prometheus_client import Histogram
from prometheus_client.core import GaugeMetricFamily

from services.incidents.contracts import STATUSES
from services.shared.metrics import DURATION_BUCKETS
from services.shared.severity import SEVERITIES

MTTA = Histogram(
    "incident_mtta_seconds",
    "Time from incident creation to acknowledgement",
    ["service", "team"],
    buckets=DURATION_BUCKETS,
)
MTTR = Histogram(
    "incident_mttr_seconds",
    "Time from incident creation to resolution",
    ["service", "team"],
    buckets=DURATION_BUCKETS,
)
LABELS = ("status", "severity", "service", "team")


def known_pair(service, team):
    MTTA.labels(service, team)
    MTTR.labels(service, team)


def prime(store, families, now=None):
    return [_completed(family) if family.name == "incidents_total" else family for family in families]


def _completed(family):
    counts = {tuple(sample.labels[name] for name in LABELS): sample.value for sample in family.samples}
    pairs = sorted({(service, team) for _, _, service, team in counts})
    complete = GaugeMetricFamily(family.name, family.documentation, labels=list(LABELS))
    for service, team in pairs:
        known_pair(service, team)
        for status in STATUSES:
            for severity in SEVERITIES:
                key = (status, severity, service, team)
                complete.add_metric(list(key), counts.get(key, 0))
    return complete
