"""Metrics the alerts service observes (names are a public contract, SPEC §6).

Each monitored service's label sets start at 0 as soon as the service is known (at the
first scrape, from the alerts stored; else at its first alert), so its next alerts show
as increases.
"""

from prometheus_client import Counter, Gauge

from services.shared.severity import SEVERITIES

ALERTS_RECEIVED = Counter(
    "alerts_received_total", "Alerts accepted, by severity and service", ["severity", "service"]
)
ALERTS_CORRELATED = Counter(
    "alerts_correlated_total",
    "Alerts folded into incidents, by result",
    ["result", "service", "severity"],
)
ALERTS_DEDUPLICATED = Counter(
    "alerts_deduplicated_total", "Alerts recognised as duplicates of a firing alert", ["service"]
)
ALERTS_SUPPRESSED = Counter(
    "alerts_suppressed_total", "Alerts a maintenance window held back (stored, no incident)", ["service"]
)
MAINTENANCE_TICK = Gauge(
    "alerts_maintenance_tick_timestamp_seconds",
    "Platform clock at the start of this process's last completed maintenance tick "
    "(replays, expiry notices, heartbeats); far behind the time means the engine is stuck",
)
RESULTS = ("new_incident", "existing_incident")

_known = set()
_primed = []


def known_service(service):
    """Every label set of `service` at 0 (once per process)."""
    if service in _known:
        return
    _known.add(service)
    for severity in SEVERITIES:
        ALERTS_RECEIVED.labels(severity, service)
        for result in RESULTS:
            ALERTS_CORRELATED.labels(result, service, severity)
    ALERTS_DEDUPLICATED.labels(service)
    ALERTS_SUPPRESSED.labels(service)


def prime(store, families, now=None):
    """At the first scrape: the label sets of every service alerts were stored for."""
    if store is not None and not _primed:
        from services.alerts.models import Alert

        for row in Alert.select(Alert.service).distinct():
            known_service(row.service)
        _primed.append(True)
    return families
