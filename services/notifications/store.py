"""The delivery ledger: the only module here that touches SQL."""

import time

from services.notifications.contracts import ledger_key
from services.notifications.models import Notification
from services.shared.db import utcnow, write_transaction
from services.shared.paging import equality_filters, keyset_page, page_limit
from services.shared.store import BaseStore

FILTERS = ("incident_id", "recipient", "channel", "status")


class NotificationStore(BaseStore):
    def claim(self, request):
        """The ledger row for `request` and whether this call created it (and so must send)."""
        key = ledger_key(request)
        fields = {
            k: request.get(k) for k in ("incident_id", "step", "recipient", "channel", "subject", "message")
        }
        with write_transaction(self.db, lock_key=f"ledger:{key}"):
            row = Notification.get_or_none(Notification.key == key)
            if row is not None:
                return row, False
            return Notification.create(key=key, created_at=utcnow(), **fields), True

    def record_attempt(self, row, error, started):
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        status = "failed" if error else "sent"
        with write_transaction(self.db):
            Notification.update(
                status=status,
                attempts=Notification.attempts + 1,
                error=error,
                latency_ms=latency_ms,
                delivered_at=None if error else utcnow(),
            ).where(Notification.id == row.id).execute()
        return Notification.get_by_id(row.id)

    def list(self, filters, cursor=None, limit=None):
        query = equality_filters(Notification.select(), Notification, filters, FILTERS, ("incident_id",))
        rows, next_cursor = keyset_page(
            query, Notification.created_at, Notification.id, cursor, page_limit(limit), id_type=int
        )
        return {"items": [notification_dict(row) for row in rows], "next_cursor": next_cursor}


def notification_dict(row):
    return {
        "id": row.id,
        "key": row.key,
        "incident_id": row.incident_id,
        "step": row.step,
        "recipient": row.recipient,
        "channel": row.channel,
        "subject": row.subject,
        "message": row.message,
        "status": row.status,
        "attempts": row.attempts,
        "error": row.error,
        "latency_ms": row.latency_ms,
        "created_at": row.created_at.isoformat(),
        "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None,
    }
