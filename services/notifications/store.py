"""The delivery ledger: the only module here that touches SQL."""

import datetime as dt

from services.notifications.acklinks import already_used
from services.notifications.contracts import ledger_key
from services.notifications.models import Attempt, Notification, UsedAckLink
from services.shared.db import for_update, insert_rows, write_transaction
from services.shared.paging import equality_filters, keyset_page, page_limit
from services.shared.redaction import masked_address
from services.shared.store import BaseStore

FILTERS = ("incident_id", "recipient", "channel", "status")


class NotificationStore(BaseStore):
    def claim(self, request, now, lease_seconds=60, status="pending"):
        """The ledger row for `request` and whether this call created it (and so must send).

        A new row is due again after `lease_seconds`: if this sender dies before it records
        its attempt, the retry loop takes the delivery over. A "scheduled" row is sent by
        the retry loop when its time comes.
        """
        key = ledger_key(request)
        fields = {k: request.get(k) for k in CLAIMED}
        with write_transaction(self.db, lock_key=f"ledger:{key}"):
            row = Notification.get_or_none(Notification.key == key)
            if row is not None:
                return row, False
            due = now + dt.timedelta(seconds=lease_seconds)
            return Notification.create(
                key=key, created_at=now, next_attempt_at=due, status=status, **fields
            ), True

    def record_attempt(self, row, error, latency_ms, now, next_attempt_at, waiting="retrying"):
        """Write one attempt; the row is sent, `waiting` (until `next_attempt_at`: retrying,
        or held for the next summary) or failed."""
        number = row.attempts + 1
        status = "sent" if error is None else (waiting if next_attempt_at else "failed")
        with write_transaction(self.db):
            Notification.update(
                status=status,
                attempts=number,
                error=error,
                latency_ms=latency_ms,
                delivered_at=now if error is None else None,
                next_attempt_at=next_attempt_at if error else None,
            ).where(Notification.id == row.id).execute()
            insert_rows(
                Attempt,
                [
                    {
                        "notification_id": row.id,
                        "number": number,
                        "status": status,
                        "error": error,
                        "latency_ms": latency_ms,
                        "at": now,
                    }
                ],
            )
        return Notification.get_by_id(row.id)

    def lease_due(self, now, lease_seconds, limit=50):
        """Deliveries due another try, each leased to this sender for `lease_seconds` (its
        next try moved that far on) in one short transaction: a replica skips the rows
        another one is leasing, and finds them not due once it has. The sends happen
        outside any transaction, so one failing does not undo what the others recorded."""
        with write_transaction(self.db):
            query = (
                Notification.select()
                .where(Notification.status.in_(DUE_STATUSES) & (Notification.next_attempt_at <= now))
                .order_by(Notification.next_attempt_at)
                .limit(limit)
            )
            due = list(for_update(self.db, query, skip_locked=True))
            if due:
                Notification.update(next_attempt_at=now + dt.timedelta(seconds=lease_seconds)).where(
                    Notification.id.in_([row.id for row in due])
                ).execute()
        return due

    def sends_since(self, channel, address, since):
        """Pages that went to one contact method since `since` (the noise control's count)."""
        return (
            Notification.select()
            .where(
                (Notification.channel == channel)
                & (Notification.address == address)
                & (Notification.status == "sent")
                & (Notification.delivered_at >= since)
            )
            .count()
        )

    def hold(self, row, until):
        with write_transaction(self.db):
            Notification.update(status="held", next_attempt_at=until).where(
                Notification.id == row.id
            ).execute()
        return Notification.get_by_id(row.id)

    def cancel(self, row, reason):
        with write_transaction(self.db):
            Notification.update(status="cancelled", error=reason, next_attempt_at=None).where(
                Notification.id == row.id
            ).execute()
        return Notification.get_by_id(row.id)

    def attempts(self, notification_id):
        rows = Attempt.select().where(Attempt.notification_id == notification_id).order_by(Attempt.number)
        return [attempt_dict(row) for row in rows]

    def ack_link_used(self, nonce):
        return UsedAckLink.get_or_none(UsedAckLink.nonce == nonce) is not None

    def use_ack_link(self, nonce, incident_id, now):
        """Record a followed acknowledge link; Conflict when it was followed before."""
        with write_transaction(self.db, lock_key=f"ack:{nonce}"):
            if UsedAckLink.get_or_none(UsedAckLink.nonce == nonce) is not None:
                raise already_used()
            UsedAckLink.create(nonce=nonce, incident_id=incident_id, used_at=now)

    def forget_ack_link(self, nonce):
        """The link was followed but acknowledged nothing: it may be followed again."""
        with write_transaction(self.db, lock_key=f"ack:{nonce}"):
            UsedAckLink.delete().where(UsedAckLink.nonce == nonce).execute()

    def pages_sent(self, since, until):
        """(recipient, created_at) of every page of an incident sent in [since, until)."""
        query = Notification.select(Notification.recipient, Notification.created_at).where(
            (Notification.created_at >= since)
            & (Notification.created_at < until)
            & Notification.incident_id.is_null(False)
            & (Notification.status == "sent")
        )
        return [(row[0], Notification.created_at.python_value(row[1])) for row in query.tuples().iterator()]

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
        "address": masked_address(row.address),  # a webhook's path can be its credential
        "next_attempt_at": row.next_attempt_at.isoformat() if row.next_attempt_at else None,
    }


def attempt_dict(row):
    return {
        "number": row.number,
        "status": row.status,
        "error": row.error,
        "latency_ms": row.latency_ms,
        "at": row.at.isoformat(),
    }


DUE_STATUSES = ("pending", "retrying", "scheduled", "held")
CLAIMED = ("incident_id", "step", "recipient", "channel", "subject", "message", "address", "secret")
