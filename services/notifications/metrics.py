"""Metrics the notifications service observes (names are a public contract, SPEC §6)."""

from prometheus_client import Counter

NOTIFICATIONS_SENT = Counter(
    "notifications_sent_total", "Delivery attempts by channel and outcome", ["channel", "status"]
)
ONCALL_NOTIFICATIONS_SENT = Counter(
    "oncall_notifications_sent_total", "Pages delivered to on-call people", ["channel"]
)

CHANNELS = ("log", "webhook", "slack", "email")
# What one try of a delivery ends as (services/notifications/store.py record_attempt).
OUTCOMES = ("sent", "retrying", "failed")


def initialise():
    """Every known label set at 0, so the first page of a kind is an increase Prometheus sees."""
    for channel in CHANNELS:
        ONCALL_NOTIFICATIONS_SENT.labels(channel)
        for outcome in OUTCOMES:
            NOTIFICATIONS_SENT.labels(channel, outcome)


def prime(store, families, now=None):
    initialise()
    return families


def count_attempt(row):
    """Count one try of ledger row `row`, as the ledger recorded it (a held-back page sent
    within a summary counts as a page of its own: it is one in GET /api/v1/notifications)."""
    NOTIFICATIONS_SENT.labels(row.channel, row.status).inc()
    if row.status == "sent" and row.incident_id is not None:
        ONCALL_NOTIFICATIONS_SENT.labels(row.channel).inc()
