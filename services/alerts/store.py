"""Queries of the alerts service: the only module here that touches SQL."""

import datetime as dt
import json

from services.alerts.contracts import DEDUPLICATED, RESOLVED
from services.alerts.integrations import key_hash, new_key
from services.alerts.models import Alert, Integration
from services.shared.db import utcnow, write_transaction
from services.shared.errors import Conflict, Forbidden, NotFound, Unauthorized
from services.shared.paging import equality_filters, keyset_page, page_limit
from services.shared.store import BaseStore

FILTERS = ("service", "severity", "status", "incident_id", "dedup_key", "source")


class AlertStore(BaseStore):
    @property
    def integrations(self):
        return IntegrationStore(self.db, self.config)

    def find(self, alert_id):
        return Alert.get_or_none(Alert.alert_id == alert_id)

    def admit(self, alert):
        """Store one alert and say what it is, atomically per dedup key:

        ("known", row) a redelivery; ("resolved", original or None) a resolve, applied to
        every firing alert with its key; ("duplicate", original) the key is still firing;
        ("new", None) a firing alert to correlate.
        """
        scope = f"dedup:{alert.get('integration_id')}:{alert['dedup_key']}" if alert["dedup_key"] else None
        with write_transaction(self.db, lock_key=scope):
            known = self.find(alert["alert_id"])
            if known is not None:
                return "known", known
            if alert["status"] == "resolved":
                return "resolved", self._resolve(alert)
            original = self.firing_with_key(alert["dedup_key"], alert.get("integration_id"))
            if original is not None:
                self._insert(
                    alert,
                    status="duplicate",
                    duplicate_of=original.alert_id,
                    incident_id=original.incident_id,
                    action=DEDUPLICATED,
                )
                Alert.update(duplicate_count=Alert.duplicate_count + 1).where(
                    Alert.alert_id == original.alert_id
                ).execute()
                return "duplicate", original
            self._insert(alert)
            return "new", None

    def _resolve(self, alert):
        originals = self._firing(alert["dedup_key"], alert.get("integration_id"))
        newest = originals.order_by(Alert.received_at.desc()).first()
        incident_id = newest.incident_id if newest else None
        self._insert(alert, incident_id=incident_id, action=RESOLVED)
        if newest is not None:
            Alert.update(status="resolved", resolved_at=utcnow()).where(
                Alert.alert_id.in_([row.alert_id for row in originals])
            ).execute()
        return newest

    def _firing(self, dedup_key, integration_id):
        same_integration = (
            Alert.integration_id == integration_id if integration_id else Alert.integration_id.is_null()
        )
        return Alert.select().where(
            (Alert.dedup_key == dedup_key)
            & same_integration
            & (Alert.status == "firing")
            & Alert.duplicate_of.is_null()
        )

    def firing_with_key(self, dedup_key, integration_id=None):
        """The firing alert with this dedup key; keys are scoped to their integration."""
        if not dedup_key:
            return None
        return self._firing(dedup_key, integration_id).order_by(Alert.received_at.desc()).first()

    def _insert(self, alert, **extra):
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
            "integration_id": alert.get("integration_id"),
            "group_key": alert.get("group_key"),
            "details": json.dumps(alert.get("details") or {}, sort_keys=True, default=str),
        }
        fields.update(extra)
        Alert.insert(**fields).on_conflict_ignore().execute()

    def record(self, alert, **extra):
        """Store a normalised alert; a redelivered one (same id) is left as it was."""
        with write_transaction(self.db):
            self._insert(alert, **extra)
        return self.find(alert["alert_id"])

    def link(self, alert_id, incident_id, action):
        with write_transaction(self.db):
            Alert.update(incident_id=incident_id, action=action).where(Alert.alert_id == alert_id).execute()

    def firing_count(self, incident_id):
        return (
            Alert.select()
            .where(
                (Alert.incident_id == incident_id) & (Alert.status == "firing") & Alert.duplicate_of.is_null()
            )
            .count()
        )

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
        "integration_id": alert.integration_id,
        "group_key": alert.group_key,
        "details": json.loads(alert.details or "{}"),
    }


class IntegrationStore(BaseStore):
    """Integrations live with the alerts they authenticate."""

    def create(self, new, now):
        key = new_key()
        with write_transaction(self.db, lock_key=f"integration:{new.name}"):
            if Integration.get_or_none(Integration.name == new.name):
                raise Conflict(f"an integration named {new.name!r} already exists")
            row = Integration.create(
                key_hash=key_hash(key), key_prefix=key[:8], created_at=now, **new.model_dump()
            )
        return {**integration_dict(row), "key": key}

    def authenticate(self, key):
        row = Integration.get_or_none(Integration.key_hash == key_hash(key))
        if row is None:
            raise Unauthorized("unknown integration key")
        if row.revoked_at is not None:
            raise Forbidden(f"the key of integration {row.name!r} was revoked")
        return integration_dict(row)

    def revoke(self, integration_id, now):
        with write_transaction(self.db):
            changed = (
                Integration.update(revoked_at=now)
                .where((Integration.id == integration_id) & Integration.revoked_at.is_null())
                .execute()
            )
        row = Integration.get_or_none(Integration.id == integration_id)
        if row is None:
            raise NotFound("integration", integration_id)
        if not changed:
            raise Conflict(f"integration {integration_id} is already revoked")
        return integration_dict(row)

    def get(self, integration_id):
        row = Integration.get_or_none(Integration.id == integration_id)
        if row is None:
            raise NotFound("integration", integration_id)
        return integration_dict(row)

    def list(self):
        return [integration_dict(row) for row in Integration.select().order_by(Integration.id)]


def integration_dict(row):
    return {
        "id": row.id,
        "name": row.name,
        "kind": row.kind,
        "key_prefix": row.key_prefix,
        "default_service": row.default_service,
        "auto_resolve": row.auto_resolve,
        "rate_limit_per_minute": row.rate_limit_per_minute,
        "created_at": row.created_at.isoformat(),
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
    }
