"""Sending one notification through the ledger: claim, send, record."""

import time

from services.notifications import metrics
from services.notifications.channels import CHANNELS
from services.notifications.store import notification_dict


def deliver(store, request):
    """Send `request` unless the ledger already holds it; return the ledger entry."""
    row, created = store.claim(request)
    if not created:
        return notification_dict(row), False
    started = time.perf_counter()
    error = None
    try:
        CHANNELS[row.channel].send(row)
    except Exception as exc:  # a channel may fail in any way; the ledger records how
        error = f"{type(exc).__name__}: {exc}"
    row = store.record_attempt(row, error, started)
    metrics.NOTIFICATIONS_SENT.labels(row.channel, row.status).inc()
    if row.status == "sent" and row.incident_id is not None:
        metrics.ONCALL_NOTIFICATIONS_SENT.labels(row.channel).inc()
    return notification_dict(row), True
