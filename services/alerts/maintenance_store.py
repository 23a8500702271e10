"""Maintenance windows and their audit trail: the SQL of services/alerts/maintenance.py."""

import datetime as dt
import json

from services.alerts import maintenance
from services.alerts.models import Alert, MaintenanceWindow, WindowChange
from services.shared.compiled import CompiledQuery, Slot
from services.shared.db import write_transaction
from services.shared.errors import Conflict, NotFound, invalid
from services.shared.store import BaseStore

STATES = ("active", "upcoming", "ended")


class WindowStore(BaseStore):
    def create(self, request, author, now):
        with write_transaction(self.db):
            row = MaintenanceWindow.create(
                reason=request.reason,
                author=author,
                matchers=json.dumps([m.model_dump() for m in request.matchers]),
                starts_at=request.starts_at or now,
                ends_at=request.ends_at,
                recurrence=json.dumps(recurrence_dict(request.recurrence)) if request.recurrence else None,
                replay=request.replay,
                created_at=now,
                updated_at=now,
            )
            _audit(row.id, now, author, "created", {"reason": request.reason})
        return self.get(row.id, now)

    def get(self, window_id, now):
        window = window_dict(self._row(window_id), now)
        changes = WindowChange.select().where(WindowChange.window_id == window_id).order_by(WindowChange.id)
        window["history"] = [change_dict(change) for change in changes]
        return window

    def list(self, states, now):
        """Windows in any of `states` (active, upcoming, ended), active first, then by start."""
        unknown = set(states) - set(STATES)
        if unknown:
            raise invalid("state", f"must be one or more of {', '.join(STATES)}")
        rows = MaintenanceWindow.select().where(MaintenanceWindow.deleted_at.is_null())
        windows = [window_dict(row, now) for row in rows]
        chosen = [w for w in windows if w["state"] in states]
        return sorted(chosen, key=lambda w: (STATES.index(w["state"]), w["next_starts_at"] or "", w["id"]))

    def change(self, window_id, change, actor, now):
        with write_transaction(self.db, lock_key=window_lock(window_id)):
            row = self._row(window_id)
            if _ended(row, now):
                raise Conflict(f"maintenance window {window_id} has ended")
            detail = _apply(row, change, now)
            row.updated_at = now
            row.save()
            _bring_forward(row)
            _audit(window_id, now, actor, _action(change, detail, row, now), detail)
        return self.get(window_id, now)

    def delete(self, window_id, actor, now):
        """Ends the window now (what it holds back is replayed) and takes it off the lists;
        its audit trail stays."""
        with write_transaction(self.db, lock_key=window_lock(window_id)):
            row = self._row(window_id)
            if row.ended_at is None or row.ended_at > now:
                row.ended_at = now
            row.deleted_at = row.updated_at = now
            row.save()
            _bring_forward(row)
            _audit(window_id, now, actor, "deleted", {})

    def in_force(self, now):
        """[(window, (start, end))] of every window whose occurrence covers `now`."""
        return occurring(IN_FORCE.rows(MaintenanceWindow, (), at_slot_now(now)), now)

    def in_force_after_commit(self, now):
        """`in_force`, read with the current transaction's COMMIT: call the result once
        it has committed."""
        rows = IN_FORCE.after_commit(MaintenanceWindow, (), at_slot_now(now))
        return lambda: occurring(rows(), now)

    def by_ids(self, window_ids):
        if not window_ids:
            return {}
        rows = MaintenanceWindow.select().where(MaintenanceWindow.id.in_(list(window_ids)))
        return {row.id: stored(row) for row in rows}

    def claim_expiry_notice(self, window_id, occurrence_end):
        """True for the one replica that tells the author this occurrence ends soon."""
        with write_transaction(self.db, lock_key=window_lock(window_id)):
            moved = (
                MaintenanceWindow.update(expiry_notified_for=occurrence_end)
                .where(
                    (MaintenanceWindow.id == window_id)
                    & (
                        MaintenanceWindow.expiry_notified_for.is_null()
                        | (MaintenanceWindow.expiry_notified_for != occurrence_end)
                    )
                )
                .execute()
            )
        return bool(moved)

    @staticmethod
    def _row(window_id):
        row = MaintenanceWindow.get_or_none(MaintenanceWindow.id == window_id)
        if row is None or row.deleted_at is not None:
            raise NotFound("maintenance window", window_id)
        return row


def _apply(row, change, now):
    """Applies a WindowChange to `row`; returns what changed, for the audit trail."""
    detail = _edit(row, change)
    if change.end_now or (change.ends_at is not None and change.ends_at <= now):
        row.ended_at = now
        detail["ended_at"] = now.isoformat()
    elif change.ends_at is not None:
        if change.ends_at <= row.starts_at:
            raise invalid("ends_at", "must be after the window's start")
        detail["previous_ends_at"] = row.ends_at.isoformat() if row.ends_at else None
        row.ends_at = change.ends_at
        detail["ends_at"] = change.ends_at.isoformat()
    return detail


def _edit(row, change):
    detail = {}
    if change.reason is not None:
        detail["reason"] = row.reason = change.reason
    if change.matchers is not None:
        detail["matchers"] = [m.model_dump() for m in change.matchers]
        row.matchers = json.dumps(detail["matchers"])
    if change.replay is not None:
        detail["replay"] = row.replay = change.replay
    return detail


def window_lock(window_id):
    """The lock a window's changes hold, and a link that holds alerts back by it."""
    return f"window:{window_id}"


def ends_now(window_ids):
    """{window id: the instant it ends now (its early end or its end), or None}."""
    rows = MaintenanceWindow.select().where(MaintenanceWindow.id.in_(sorted(window_ids)))
    return {row.id: _earliest(row.ends_at, row.ended_at) for row in rows}


def _earliest(*instants):
    present = [instant for instant in instants if instant is not None]
    return min(present) if present else None


def _bring_forward(row):
    """A window that now ends sooner replays what it holds back at its new end."""
    end = _earliest(row.ends_at, row.ended_at)
    if end is None:
        return  # it still has no end: nothing it holds is due sooner
    Alert.update(suppressed_until=end).where(
        (Alert.suppressed_by == row.id) & (Alert.suppressed_until > end) & (Alert.status == "firing")
    ).execute()


def _action(change, detail, row, now):
    if "ended_at" in detail:
        return "ended_early" if row.starts_at <= now else "cancelled"
    if "ends_at" in detail:
        previous = detail["previous_ends_at"]
        longer = previous is None or change.ends_at > dt.datetime.fromisoformat(previous)
        return "extended" if longer else "shortened"
    return "edited"


def _ended(row, now):
    return (row.ended_at is not None and row.ended_at <= now) or (
        row.ends_at is not None and row.ends_at <= now
    )


def _audit(window_id, now, actor, action, detail):
    WindowChange.create(window_id=window_id, at=now, actor=actor, action=action, detail=json.dumps(detail))


def recurrence_dict(recurrence):
    return {
        "rrule": recurrence.rrule,
        "timezone": recurrence.timezone,
        "start_time": recurrence.start_time.isoformat(timespec="minutes"),
        "end_time": recurrence.end_time.isoformat(timespec="minutes"),
    }


def occurring(rows, now):
    """[(window, (start, end))] of the window rows with an occurrence covering `now`."""
    found = []
    for row in rows:
        window = stored(row)
        occurrence = maintenance.occurrence_at(window, now)
        if occurrence:
            found.append((window, occurrence))
    return found


def stored(row):
    """The window as maintenance.py reads it."""
    return {
        "id": row.id,
        "reason": row.reason,
        "author": row.author,
        "matchers": json.loads(row.matchers),
        "starts_at": row.starts_at,
        "ends_at": row.ends_at,
        "ended_at": row.ended_at,
        "recurrence": json.loads(row.recurrence) if row.recurrence else None,
        "replay": row.replay,
        "expiry_notified_for": row.expiry_notified_for,
    }


def window_dict(row, now):
    window = stored(row)
    current = maintenance.occurrence_at(window, now)
    upcoming = current or maintenance.next_occurrence(window, now)
    state = "active" if current else "upcoming" if upcoming else "ended"
    return {
        **{key: window[key] for key in ("id", "reason", "author", "matchers", "recurrence", "replay")},
        "starts_at": _iso(row.starts_at),
        "ends_at": _iso(row.ends_at),
        "ended_at": _iso(row.ended_at),
        "state": state,
        "next_starts_at": _iso(upcoming[0]) if upcoming else None,
        "next_ends_at": _iso(upcoming[1]) if upcoming else None,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
    }


def change_dict(change):
    return {
        "at": _iso(change.at),
        "actor": change.actor,
        "action": change.action,
        "detail": json.loads(change.detail),
    }


def _iso(value):
    return value.isoformat() if value else None


def _in_force_at_slot_now():
    now = Slot("now")
    return MaintenanceWindow.select().where(
        (MaintenanceWindow.starts_at <= now)
        & (MaintenanceWindow.ended_at.is_null() | (MaintenanceWindow.ended_at > now))
        & (MaintenanceWindow.ends_at.is_null() | (MaintenanceWindow.ends_at > now))
    )


IN_FORCE = CompiledQuery(_in_force_at_slot_now)


def at_slot_now(now):
    """The value of IN_FORCE's slot `now`, as the database stores an instant."""
    return {"now": MaintenanceWindow.starts_at.db_value(now)}
