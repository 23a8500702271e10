"""Metrics the notifications service observes (names are a public contract, SPEC §6)."""

from prometheus_client import Counter

NOTIFICATIONS_SENT = Counter(
    "notifications_sent_total", "Delivery attempts by channel and outcome", ["channel", "status"]
)
ONCALL_NOTIFICATIONS_SENT = Counter(
    "oncall_notifications_sent_total", "Pages delivered to on-call people", ["channel"]
)
