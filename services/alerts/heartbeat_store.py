"""Heartbeat monitors: the SQL of services/alerts/heartbeats.py."""

import datetime as dt

import peewee
from prometheus_client.core import GaugeMetricFamily

from services.alerts.heartbeats import expiry
from services.alerts.integrations import key_hash, new_key
from services.alerts.models import Heartbeat
from services.shared.db import write_transaction
from services.shared.errors import Conflict, NotFound, Unauthorized
from services.shared.store import BaseStore


class HeartbeatStore(BaseStore):
    def create(self, request, now):
        key = new_key()
        with write_transaction(self.db, lock_key=f"heartbeat:{request.name}"):
            if Heartbeat.get_or_none(Heartbeat.name == request.name):
                raise Conflict(f"a heartbeat named {request.name!r} already exists")
            row = Heartbeat.create(
                key_hash=key_hash(key),
                key_prefix=key[:8],
                created_at=now,
                # A monitor that never beats is as silent as one that stopped.
                expires_at=expiry(now, request.interval_seconds, request.grace_seconds),
                **request.model_dump(),
            )
        return {**heartbeat_dict(row), "key": key}

    def get(self, heartbeat_id):
        return heartbeat_dict(self._row(heartbeat_id))

    def list(self):
        return [heartbeat_dict(row) for row in Heartbeat.select().order_by(Heartbeat.name)]

    def change(self, heartbeat_id, change, now):
        with write_transaction(self.db, lock_key=f"heartbeat-row:{heartbeat_id}"):
            row = self._row(heartbeat_id)
            for field, value in change.model_dump(exclude_none=True).items():
                setattr(row, field, value)
            if row.state == "up":
                row.expires_at = expiry(
                    row.last_beat_at or row.created_at, row.interval_seconds, row.grace_seconds
                )
            row.save()
        return heartbeat_dict(row)

    def delete(self, heartbeat_id):
        with write_transaction(self.db, lock_key=f"heartbeat-row:{heartbeat_id}"):
            row = self._row(heartbeat_id)
            row.delete_instance()
        return heartbeat_dict(row)

    def authenticate(self, heartbeat_id, key):
        """The monitor whose key this is; a key of another monitor is as good as none."""
        row = Heartbeat.get_or_none(Heartbeat.id == heartbeat_id)
        if row is None or not key or row.key_hash != key_hash(key):
            raise Unauthorized("unknown heartbeat or wrong key: send 'Authorization: Bearer <its key>'")
        return heartbeat_dict(row)

    def beat(self, heartbeat_id, now):
        """Records a beat: the monitor is up until interval + grace from now. The caller
        has resolved the alert of its silence first, so a crash in between loses nothing."""
        with write_transaction(self.db, lock_key=f"heartbeat-row:{heartbeat_id}"):
            row = self._row(heartbeat_id)
            row.last_beat_at = now
            row.expires_at = expiry(now, row.interval_seconds, row.grace_seconds)
            row.state, row.down_alert_id = "up", None
            row.save()
        return heartbeat_dict(row)

    def expired(self, now):
        rows = Heartbeat.select().where((Heartbeat.state == "up") & (Heartbeat.expires_at <= now))
        return [heartbeat_dict(row) for row in rows]

    def mark_down(self, monitor, alert_id):
        """Down, if no beat came since `monitor` was read (compare-and-set on its expiry)."""
        with write_transaction(self.db, lock_key=f"heartbeat-row:{monitor['id']}"):
            return bool(
                Heartbeat.update(state="down", down_alert_id=alert_id)
                .where(
                    (Heartbeat.id == monitor["id"])
                    & (Heartbeat.state == "up")
                    & (Heartbeat.expires_at == dt.datetime.fromisoformat(monitor["expires_at"]))
                )
                .execute()
            )

    def up_family(self):
        gauge = GaugeMetricFamily(
            "heartbeat_up",
            "1 while a heartbeat monitor hears its beats, 0 once silent",
            labels=["monitor", "service"],
        )
        for row in Heartbeat.select(Heartbeat.name, Heartbeat.service, Heartbeat.state):
            gauge.add_metric([row.name, row.service], 1 if row.state == "up" else 0)
        return gauge

    @staticmethod
    def _row(heartbeat_id):
        try:
            return Heartbeat.get(Heartbeat.id == heartbeat_id)
        except peewee.DoesNotExist:
            raise NotFound("heartbeat", heartbeat_id) from None


def heartbeat_dict(row):
    return {
        "id": row.id,
        "name": row.name,
        "service": row.service,
        "severity": row.severity,
        "interval_seconds": row.interval_seconds,
        "grace_seconds": row.grace_seconds,
        "key_prefix": row.key_prefix,
        "state": row.state,
        "last_beat_at": row.last_beat_at.isoformat() if row.last_beat_at else None,
        "expires_at": row.expires_at.isoformat(),
        "down_alert_id": row.down_alert_id,
        "created_at": row.created_at.isoformat(),
    }
