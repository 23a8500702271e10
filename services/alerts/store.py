"""Queries of the alerts service: the only module here that touches SQL."""

import datetime as dt
import json

from services.alerts.models import Alert
from services.shared.db import utcnow, write_transaction
from services.shared.errors import NotFound
from services.shared.paging import equality_filters, keyset_page, page_limit
from services.shared.store import BaseStore

FILTERS = ("service", "severity", "status", "incident_id", "dedup_key", "source")


class AlertStore(BaseStore):
    def find(self, alert_id):
        return Alert.get_or_none(Alert.alert_id == alert_id)

    def firing_with_key(self, dedup_key):
        if not dedup_key:
            return None
        query = Alert.select().where(
            (Alert.dedup_key == dedup_key) & (Alert.status == "firing") & Alert.duplicate_of.is_null()
        )
        return query.order_by(Alert.received_at.desc()).first()

    def record(self, alert, **extra):
        """Store a normalised alert; a redelivered one (same id) is left as it was."""
        fields = {
            "alert_id": alert["alert_id"],
            "source": alert["source"],
            "service": alert["service"],
            "severity": alert["severity"],
            "message": alert["message"],
            "labels": json.dumps(alert["labels"], sort_keys=True),
            "timestamp": dt.datetime.fromisoformat(alert["timestamp"]),
            "received_at": utcnow(),
            "dedup_key": alert["dedup_key"],
            "status": alert["status"],
        }
        fields.update(extra)
        with write_transaction(self.db):
            Alert.insert(**fields).on_conflict_ignore().execute()
        return self.find(alert["alert_id"])

    def link(self, alert_id, incident_id, action):
        with write_transaction(self.db):
            Alert.update(incident_id=incident_id, action=action).where(Alert.alert_id == alert_id).execute()

    def count_duplicate(self, original_id):
        with write_transaction(self.db):
            Alert.update(duplicate_count=Alert.duplicate_count + 1).where(
                Alert.alert_id == original_id
            ).execute()

    def mark_resolved(self, alert_id):
        with write_transaction(self.db):
            Alert.update(status="resolved", resolved_at=utcnow()).where(Alert.alert_id == alert_id).execute()

    def get(self, alert_id):
        alert = self.find(alert_id)
        if alert is None:
            raise NotFound("alert", alert_id)
        return as_dict(alert)

    def list(self, filters, cursor=None, limit=None):
        query = equality_filters(Alert.select(), Alert, filters, FILTERS, ("incident_id",))
        rows, next_cursor = keyset_page(query, Alert.received_at, Alert.alert_id, cursor, page_limit(limit))
        return {"items": [as_dict(row) for row in rows], "next_cursor": next_cursor}


def as_dict(alert):
    return {
        "alert_id": alert.alert_id,
        "source": alert.source,
        "service": alert.service,
        "severity": alert.severity,
        "message": alert.message,
        "labels": json.loads(alert.labels),
        "timestamp": alert.timestamp.isoformat(),
        "received_at": alert.received_at.isoformat(),
        "dedup_key": alert.dedup_key,
        "status": alert.status,
        "incident_id": alert.incident_id,
        "action": alert.action,
        "duplicate_of": alert.duplicate_of,
        "duplicate_count": alert.duplicate_count,
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
    }
