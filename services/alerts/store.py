"""Queries of the alerts service: the only module here that touches SQL."""

import dataclasses
import datetime as dt
import json
from collections import Counter, defaultdict

import peewee

from services.alerts.contracts import ATTACHED, DEDUPLICATED, NEW_INCIDENT, RESOLVED
from services.alerts.heartbeat_store import HeartbeatStore
from services.alerts.integrations import key_hash, new_key
from services.alerts.maintenance_store import WindowStore, ends_now, window_lock
from services.alerts.models import Alert, Integration
from services.shared.compiled import CompiledQuery, Slot, padded, slots
from services.shared.db import (
    flushed_by_the_next_commit,
    insert_rows,
    send_query_with_next,
    utcnow,
    write_transaction,
)
from services.shared.errors import Conflict, Forbidden, NotFound, Unauthorized
from services.shared.paging import equality_filters, keyset_page, page_limit
from services.shared.store import BaseStore

FILTERS = ("service", "severity", "status", "incident_id", "dedup_key", "source", "action", "suppressed_by")
# How long a resolve that arrived before its trigger waits for it (senders' retries and
# parallel consumers reorder within seconds).
REORDER_WINDOW = dt.timedelta(minutes=10)
# An alert's key when the process admitting it has just minted its id (services.alerts.
# service, its own port): no earlier delivery of it can be stored, so its admission does
# not look for one, which spares the round's first round trip. Never carried further:
# `ingest.normalise` drops it, so a queued or retried alert is looked for as any other.
MINTED = "minted"
CORRELATED_ACTIONS = (NEW_INCIDENT, ATTACHED)


class AlertStore(BaseStore):
    @property
    def integrations(self):
        return IntegrationStore(self.db, self.config)

    @property
    def windows(self):
        return WindowStore(self.db, self.config)

    @property
    def heartbeats(self):
        return HeartbeatStore(self.db, self.config)

    def metric_families(self):
        return [self.heartbeats.up_family()]

    def find(self, alert_id):
        return Alert.get_or_none(Alert.alert_id == alert_id)

    def admit(self, alert):
        """Store one alert and say what it is, atomically per dedup key:

        ("known", row) a redelivery; ("resolved", original or None) a resolve, applied to
        every firing alert with its key; ("duplicate", original) the key is still firing;
        ("stale", row) a firing alert that started before a resolve of its key which found
        nothing to resolve (the two arrived out of order): stored resolved, correlated
        nowhere; ("new", None) a firing alert to correlate.
        """
        [outcome] = self.admit_many([alert])
        return outcome

    def admit_many(self, alerts, linked_later=None, at_commit=None):
        """`admit` for a batch, in order, in one transaction holding every dedup key's lock.

        An original admitted earlier in the same batch has no incident yet: its row says
        so (incident_id None) and the caller links the duplicates once it is correlated.
        `linked_later(outcomes)` says whether the caller links some of them (link_many)
        before it answers: that commit is then the one that waits for the disk.
        `at_commit(outcomes)` runs last in the transaction: a read it queues
        (read_after_commit) travels with the COMMIT.
        """
        scopes = [dedup_scope(alert) for alert in alerts if alert["dedup_key"]]
        with write_transaction(self.db, lock_keys=scopes):
            admission = Admission(alerts)
            outcomes = [admission.add(alert) for alert in alerts]
            admission.flush()
            if linked_later is not None and linked_later(outcomes):
                flushed_by_the_next_commit(self.db)
            if at_commit is not None:
                at_commit(outcomes)
        return outcomes

    def firing_with_key(self, dedup_key, integration_id=None):
        """The firing alert with this dedup key; keys are scoped to their integration."""
        if not dedup_key:
            return None
        return firing_originals(integration_id, [dedup_key]).first()

    def _insert(self, alert, **extra):
        Alert.insert(**alert_row(alert, **extra)).on_conflict_ignore().execute()

    def record(self, alert, **extra):
        """Store a normalised alert; a redelivered one (same id) is left as it was."""
        with write_transaction(self.db):
            self._insert(alert, **extra)
        return self.find(alert["alert_id"])

    def link(self, alert_id, incident_id, action):
        self.link_many([(alert_id, incident_id, action)])

    def link_many(self, links, lock_keys=(), held=None, resolvable=None):
        """Set (alert_id, incident_id, action) triples, in one statement per chunk; an action
        of None leaves the alert's action as it is. Returns the ids of those alerts that a
        resolve reached while they were being correlated: their incidents may be quiet now.
        `held`: {alert id: Hold} of the alerts a maintenance window holds back.
        `resolvable`: the ids among them a resolve could reach, those with a dedup key
        (None: all of them). With none, nothing is read and the writes go with the COMMIT.

        Holding the alerts' dedup-key locks (`lock_keys`), a concurrent resolve either sees
        the link or is seen by it."""
        held = held or {}
        if resolvable is None:
            resolvable = [alert_id for alert_id, _, _ in links]
        # A window ended or shortened since the holds were decided must not hold its alerts
        # past its new end: its lock orders this link with that change.
        window_locks = sorted({window_lock(hold.window_id) for hold in held.values()})
        with write_transaction(self.db, lock_keys=[*lock_keys, *window_locks]):
            for chunk in peewee.chunked(links, 500):
                send_links(chunk)
            hold_many(within_their_windows(held))
            # Read before the COMMIT, not with it: should the read fail, the links roll back
            # with it and the retry correlates again, asks again. Read after a COMMIT that
            # went through, a failure would lose a resolve that came first for good.
            return resolved_among(resolvable) if resolvable else set()

    # -- maintenance windows' replay -----------------------------------------------------
    def suppressed_due(self, now, limit):
        """Firing alerts whose window's occurrence has ended by `now`, oldest first."""
        query = (
            Alert.select()
            .where((Alert.status == "firing") & (Alert.suppressed_until <= now))
            .order_by(Alert.suppressed_until, Alert.alert_id)
            .limit(limit)
        )
        return list(query)

    def claim(self, rows, lease_until):
        """The rows this replica now replays: each moved from its due time to `lease_until`
        only if no other replica moved it first. Should this one die, the lease runs out and
        another replays it (correlation is idempotent by alert id)."""
        claimed = []
        for row in rows:
            with write_transaction(self.db):
                moved = (
                    Alert.update(suppressed_until=lease_until)
                    .where(
                        (Alert.alert_id == row.alert_id) & (Alert.suppressed_until == row.suppressed_until)
                    )
                    .execute()
                )
            if moved:
                claimed.append(row)
        return claimed

    def keep_suppressed(self, alert_ids):
        """Alerts of windows without replay: suppressed for good, never replayed. No longer
        "firing" either, so the sender's next alert with the same dedup key, after the
        window, is new and opens an incident (as after an Alertmanager silence)."""
        with write_transaction(self.db):
            for chunk in peewee.chunked(alert_ids, 500):
                Alert.update(status="suppressed", suppressed_until=None).where(
                    Alert.alert_id.in_(chunk)
                ).execute()

    def linked_counts(self, incident_id):
        """(firing, resolved): the incident's alerts as this store knows them, counting the
        alerts correlated into it (not duplicates, not the resolve messages)."""
        query = (
            Alert.select(Alert.status, peewee.fn.COUNT(Alert.alert_id).alias("n"))
            .where(
                (Alert.incident_id == incident_id)
                & Alert.duplicate_of.is_null()
                & Alert.action.in_(CORRELATED_ACTIONS)
            )
            .group_by(Alert.status)
        )
        counts = {row.status: row.n for row in query}
        return counts.get("firing", 0), counts.get("resolved", 0)

    def get(self, alert_id):
        alert = self.find(alert_id)
        if alert is None:
            raise NotFound("alert", alert_id)
        return as_dict(alert)

    def list(self, filters, cursor=None, limit=None):
        query = equality_filters(Alert.select(), Alert, filters, FILTERS, ("incident_id", "suppressed_by"))
        rows, next_cursor = keyset_page(query, Alert.received_at, Alert.alert_id, cursor, page_limit(limit))
        return {"items": [as_dict(row) for row in rows], "next_cursor": next_cursor}


def within_their_windows(held):
    """`held` ({alert id: Hold}) with no hold ending after its window ends now."""
    if not held:
        return held
    ends = ends_now({hold.window_id for hold in held.values()})
    return {alert_id: _capped(hold, ends.get(hold.window_id)) for alert_id, hold in held.items()}


def _capped(hold, window_end):
    if window_end is None or hold.ends_at <= window_end:
        return hold
    return dataclasses.replace(hold, ends_at=window_end)


def hold_many(held):
    by_window = defaultdict(list)
    for alert_id, hold in held.items():
        by_window[(hold.window_id, hold.ends_at)].append(alert_id)
    for (window_id, until), alert_ids in by_window.items():
        for chunk in peewee.chunked(alert_ids, 500):
            send_query_with_next(
                Alert.update(suppressed_by=window_id, suppressed_until=until).where(Alert.alert_id.in_(chunk))
            )


def as_correlatable(row):
    """A stored alert as `ingest` correlates it (a maintenance window's replay)."""
    return {
        "alert_id": row.alert_id,
        "service": row.service,
        "severity": row.severity,
        "message": row.message,
        "labels": json.loads(row.labels),
        "timestamp": row.timestamp.isoformat(),
        "dedup_key": row.dedup_key,
        "integration_id": row.integration_id,
        "group_key": row.group_key,
    }


ALERTS_BY_ID = CompiledQuery(lambda count: Alert.select().where(Alert.alert_id.in_(slots("items", count))))
RESOLVED_BY_ID = CompiledQuery(
    lambda count: Alert.select(Alert.alert_id).where(
        Alert.alert_id.in_(slots("items", count)) & (Alert.status == "resolved")
    )
)


def link_update(ids, actions):
    """The UPDATE that sets `ids` alerts' incident ids, and `actions` of them their action
    (by slots "ids", "incidents", "acted" and "actions"); the others keep theirs."""
    change = {
        # Cast: a chunk of suppressed alerts only has NULLs, which PostgreSQL reads as text.
        "incident_id": peewee.Case(
            Alert.alert_id, [(Slot("ids", i), Slot("incidents", i)) for i in range(ids)]
        ).cast("INTEGER"),
        "suppressed_until": None,
    }
    if actions:
        whens = [(Slot("acted", i), Slot("actions", i)) for i in range(actions)]
        change["action"] = peewee.Case(Alert.alert_id, whens, Alert.action)
    return Alert.update(**change).where(Alert.alert_id.in_(slots("ids", ids)))


LINK_UPDATE = CompiledQuery(link_update)


def duplicates_link(originals):
    """The UPDATE that gives duplicates admitted while their original had no incident yet
    the incident it was linked to (by slots "originals" and "incidents"). The partial index
    of migration 5 holds just those duplicates: it is empty, almost always."""
    incident = peewee.Case(
        Alert.duplicate_of, [(Slot("originals", i), Slot("incidents", i)) for i in range(originals)]
    )
    return Alert.update(incident_id=incident).where(
        Alert.duplicate_of.in_(slots("originals", originals)) & Alert.incident_id.is_null()
    )


DUPLICATES_LINK = CompiledQuery(duplicates_link)


def send_links(links):
    """Set (alert_id, incident_id, action) triples in one UPDATE, sent with the next
    statement; an action of None leaves the alert's action as it is. Padded, as an IN
    list is: a CASE takes the first WHEN that matches, so a repeated one changes nothing."""
    acted = padded([(alert_id, action) for alert_id, _, action in links if action])
    links = padded(links)
    values = {
        "ids": [alert_id for alert_id, _, _ in links],
        "incidents": [incident_id for _, incident_id, _ in links],
        "acted": [alert_id for alert_id, _ in acted],
        "actions": [action for _, action in acted],
    }
    LINK_UPDATE.send_with_next(Alert, (len(links), len(acted)), values)
    send_duplicates_links([(alert_id, incident_id) for alert_id, incident_id, _ in links if incident_id])


def send_duplicates_links(linked):
    """Duplicates of the (original id, incident id) pairs that have no incident get their
    original's: a repeat admitted between its original's admission and its link (another
    round, or while the original waited on the queue) finds no incident to copy."""
    if not linked:
        return
    linked = padded(linked)
    values = {"originals": [alert_id for alert_id, _ in linked], "incidents": [i for _, i in linked]}
    DUPLICATES_LINK.send_with_next(Alert, (len(linked),), values)


def resolved_among(alert_ids):
    resolved = set()
    for chunk in peewee.chunked(alert_ids, 500):
        resolved.update(row.alert_id for row in RESOLVED_BY_ID.rows_in(Alert, chunk))
    return resolved


def dedup_scope(alert):
    return f"dedup:{alert.get('integration_id')}:{alert['dedup_key']}"


def alert_row(alert, **extra):
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
        "incident_id": None,
        "action": None,
        "duplicate_of": None,
        "duplicate_count": 0,
        "resolved_at": None,
        "resolves": None,
    }
    fields.update(extra)
    return fields


class Admission:
    """The work of one `admit_many`: two reads, decisions in memory, then bulk writes."""

    def __init__(self, alerts):
        self.rows = []
        self.resolved_ids = []
        self.duplicates = Counter()
        self.known = self._known([alert["alert_id"] for alert in alerts if not alert.get(MINTED)])
        self.firing = self._firing([alert for alert in alerts if alert["dedup_key"]])
        fresh = {_pair(alert) for alert in alerts if alert["dedup_key"] and alert["status"] == "firing"}
        self.resolved_until = self._resolved_until(fresh - set(self.firing))

    @staticmethod
    def _known(alert_ids):
        known = {}
        for ids in peewee.chunked(set(alert_ids), 500):
            known.update({row.alert_id: row for row in ALERTS_BY_ID.rows_in(Alert, ids)})
        return known

    @staticmethod
    def _firing(alerts):
        """Firing originals per (integration, dedup key), newest first."""
        firing = defaultdict(list)
        for integration_id, keys in _by_integration({_pair(alert) for alert in alerts}):
            for row in firing_originals(integration_id, keys):
                firing[(row.integration_id, row.dedup_key)].append(row)
        return firing

    @staticmethod
    def _resolved_until(pairs):
        """Per (integration, dedup key): the latest instant named by a resolve that found
        nothing to resolve, received within REORDER_WINDOW. A firing alert that started by
        then is already over. The window bounds what a repeated resolve can hold back."""
        until = {}
        since = utcnow() - REORDER_WINDOW
        for integration_id, keys in _by_integration(pairs):
            for row in orphan_resolves(integration_id, keys, since):
                until[(row.integration_id, row.dedup_key)] = row.until
        return until

    def add(self, alert):
        if alert["alert_id"] in self.known:
            return "known", self.known[alert["alert_id"]]
        pair = _pair(alert)
        if alert["status"] == "resolved":
            return "resolved", self._resolve(alert, pair)
        originals = self.firing.get(pair) if alert["dedup_key"] else None
        if originals:
            return "duplicate", self._duplicate(alert, originals[0])
        if self._started_before_its_resolve(alert, pair):
            return "stale", self._keep(alert, status="resolved", resolved_at=utcnow(), action=RESOLVED)
        row = self._keep(alert)
        if alert["dedup_key"]:
            self.firing[pair].insert(0, row)
        return "new", None

    def _duplicate(self, alert, original):
        self._keep(
            alert,
            status="duplicate",
            duplicate_of=original.alert_id,
            incident_id=original.incident_id,
            action=DEDUPLICATED,
        )
        self.duplicates[original.alert_id] += 1
        return original

    def _started_before_its_resolve(self, alert, pair):
        until = self.resolved_until.get(pair) if alert["dedup_key"] else None
        return until is not None and dt.datetime.fromisoformat(alert["timestamp"]) <= until

    def _resolve(self, alert, pair):
        originals = self.firing.pop(pair, []) if alert["dedup_key"] else []
        newest = originals[0] if originals else None
        if alert["dedup_key"] and newest is None:
            at = dt.datetime.fromisoformat(alert["timestamp"])
            self.resolved_until[pair] = max(at, self.resolved_until.get(pair, at))
        self._keep(
            alert,
            incident_id=newest.incident_id if newest else None,
            action=RESOLVED,
            resolves=newest.alert_id if newest else None,
        )
        self.resolved_ids += [row.alert_id for row in originals]
        return newest

    def _keep(self, alert, **extra):
        fields = alert_row(alert, **extra)
        self.rows.append(fields)
        row = self.known[alert["alert_id"]] = Alert(**fields)
        return row

    def flush(self):
        insert_rows(Alert, self.rows)
        for ids in peewee.chunked(self.resolved_ids, 500):
            send_query_with_next(
                Alert.update(status="resolved", resolved_at=utcnow()).where(Alert.alert_id.in_(ids))
            )
        for alert_id, count in self.duplicates.items():
            send_query_with_next(
                Alert.update(duplicate_count=Alert.duplicate_count + count).where(Alert.alert_id == alert_id)
            )


def _pair(alert):
    return alert.get("integration_id"), alert["dedup_key"]


def _by_integration(pairs):
    """(integration id, [dedup keys]) for a set of (integration id, dedup key) pairs."""
    for integration_id in {integration for integration, _ in pairs}:
        yield integration_id, [key for integration, key in pairs if integration == integration_id]


def orphan_resolves(integration_id, dedup_keys, since):
    """Per dedup key of one integration, the latest timestamp of a resolve received `since`
    that resolved nothing."""
    same = Alert.integration_id == integration_id if integration_id else Alert.integration_id.is_null()
    until = peewee.fn.MAX(Alert.timestamp).python_value(Alert.timestamp.python_value)
    return (
        Alert.select(Alert.integration_id, Alert.dedup_key, until.alias("until"))
        .where(
            same
            & Alert.dedup_key.in_(dedup_keys)
            & (Alert.status == "resolved")
            & (Alert.action == RESOLVED)
            & Alert.resolves.is_null()
            & (Alert.received_at >= since)
        )
        .group_by(Alert.integration_id, Alert.dedup_key)
    )


def firing_originals(integration_id, dedup_keys):
    """Firing, non-duplicate alerts of one integration with any of `dedup_keys`, newest first."""
    same = Alert.integration_id == integration_id if integration_id else Alert.integration_id.is_null()
    return (
        Alert.select()
        .where(
            same & Alert.dedup_key.in_(dedup_keys) & (Alert.status == "firing") & Alert.duplicate_of.is_null()
        )
        .order_by(Alert.received_at.desc())
    )


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
        "suppressed_by": alert.suppressed_by,
        "suppressed_until": alert.suppressed_until.isoformat() if alert.suppressed_until else None,
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
