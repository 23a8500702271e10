"""Metrics the on-call service observes (names are a public contract, SPEC §6)."""

from prometheus_client import Counter

ESCALATIONS = Counter("escalations_total", "Escalation steps taken", ["team"])
