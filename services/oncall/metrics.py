"""Metrics the on-call service observes (names are a public contract, SPEC §6).

`escalation_lag_seconds` is read from the store at scrape time (replicas agree): how long
the oldest escalation step that is due has waited to be taken, 0 when none is due. A
healthy engine keeps it below a tick or two; a growing value means nobody is being paged.
"""

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

from services.shared.db import utcnow

ESCALATIONS = Counter("escalations_total", "Escalation steps taken", ["team"])


def prime(store, families, now=None):
    """Every team's escalation counter at 0; the store's gauges plus the escalation lag."""
    if store is None:
        return families
    for team in store.team_names():
        ESCALATIONS.labels(team)
    return [*families, escalation_lag(store, now or utcnow())]


def escalation_lag(store, now):
    gauge = GaugeMetricFamily(
        "escalation_lag_seconds",
        "Age of the oldest due escalation step not taken yet (0 when none is due), from the store",
    )
    due_since = store.oldest_due_step(now)
    gauge.add_metric([], max((now - due_since).total_seconds(), 0.0) if due_since else 0.0)
    return gauge
