"""Metrics the incidents service observes (names are a public contract, SPEC §6)."""

from prometheus_client import Histogram

from services.shared.metrics import DURATION_BUCKETS

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
