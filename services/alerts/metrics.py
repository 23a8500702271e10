"""Metrics the alerts service observes (names are a public contract, SPEC §6)."""

from prometheus_client import Counter

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
