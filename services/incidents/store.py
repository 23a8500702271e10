"""Queries of the incidents service: the only module here that touches SQL."""

import datetime as dt
import json
from collections import Counter

import peewee
from prometheus_client.core import GaugeMetricFamily

from services.incidents import contracts as c
from services.incidents import domain
from services.incidents.correlation import correlation_key, is_group_key, window_start
from services.incidents.models import Incident, IncidentAlert, TimelineEntry
from services.shared.compiled import CompiledQuery, Slot, padded, slots
from services.shared.db import (
    insert_returning,
    insert_rows,
    lock_all,
    send_query_with_next,
    write_transaction,
)
from services.shared.errors import NotFound, invalid
from services.shared.paging import equality_filters, keyset_page, oldest_first, page_limit
from services.shared.store import BaseStore
from services.shared.tracing import TRACEPARENT, current_trace_id, trace_id_of

EQUALITY_FILTERS = ("status", "severity", "service", "team", "assignee")


class IncidentStore(BaseStore):
    # -- correlation -------------------------------------------------------------------
    def correlate(self, alert, window_seconds, now):
        """Attach `alert` to the open incident with its key, or open one. Atomic per key."""
        [(incident, action)] = self.correlate_many([alert], window_seconds, now)
        return incident, action

    def correlate_many(self, alerts, window_seconds, now):
        """Correlate `alerts` in order, in one transaction; [(incident dict, action)] in that order.

        Holds the lock of every correlation key involved, so it is atomic per key against
        any other batch; an alert already correlated keeps its first answer.
        """
        return with_incidents(self._correlate(alerts, window_seconds, now))

    def correlate_ids(self, alerts, window_seconds, now):
        """`correlate_many` answering [(incident id, action)], with {id: incident dict} of
        only the incidents that alerts opened (in this batch, or in an earlier delivery of
        the same alert, announced again): an alert that joins one needs no read of it."""
        answers = self._correlate(alerts, window_seconds, now)
        opened = {incident_id for incident_id, action in answers if action == "new_incident"}
        rows = INCIDENTS_BY_ID.rows_in(Incident, opened) if opened else ()
        return answers, {row.id: incident_dict(row) for row in rows}

    def _correlate(self, alerts, window_seconds, now):
        keys = [correlation_key(alert) for alert in alerts]
        with write_transaction(self.db, lock_keys=[f"correlation:{key}" for key in keys]):
            batch = CorrelationBatch(window_seconds, now)
            batch.preload(self._open_incidents_for(keys, now, window_seconds), alerts)
            for alert, key in zip(alerts, keys, strict=True):
                batch.add(alert, key)
            batch.flush()
        return [batch.answer(alert["alert_id"]) for alert in alerts]

    def _open_incidents_for(self, keys, now, window_seconds):
        """{key: the newest open incident that may take its alerts}, each one locked."""
        candidates = newest_open_incidents(keys, window_start(now, window_seconds))
        if not candidates:
            return {}
        # A concurrent resolve holds an incident's lock; re-read them once we hold them too.
        lock_all(self.db, [f"incident:{row.id}" for row in candidates.values()])
        fresh = INCIDENTS_BY_ID.rows_in(Incident, [row.id for row in candidates.values()])
        return {row.correlation_key: row for row in fresh if row.status != "resolved"}

    # -- manual creation and changes ---------------------------------------------------
    def create(self, new, actor, now):
        with write_transaction(self.db):
            incident = Incident.create(
                title=new.title,
                service=new.service,
                severity=new.severity,
                team=new.team,
                assignee=new.assignee,
                created_at=now,
                updated_at=now,
            )
            self._timeline(incident.id, c.CREATED, actor, now, {"manual": True})
            if new.note:
                self._timeline(incident.id, c.NOTE, actor, now, {"note": new.note})
        return self.get(incident.id)

    def update(self, incident_id, change, actor, now):
        """Apply a validated `IncidentChange`; return (incident, previous status)."""
        with write_transaction(self.db, lock_key=f"incident:{incident_id}"):
            incident = self._get(incident_id)
            previous = incident.status
            if change.status is not None:
                self._move(incident, change.status, actor, now)
            if change.assignee is not None:
                self._assign(incident_id, incident.team, change.assignee, actor, now, ref=None)
            if change.note is not None:
                self._timeline(incident_id, c.NOTE, actor, now, {"note": change.note})
        return self.get(incident_id), previous

    def resolve_if_quiet(self, incident_id, settled_alerts, actor, note, now):
        """Resolve the incident if the caller has seen every one of its alerts resolved:
        `settled_alerts` resolved alerts against the incident's `alert_count`. An alert
        correlated into it meanwhile, not yet known resolved, keeps it open.

        Returns (incident, previous status) when it resolved it, else None."""
        with write_transaction(self.db, lock_key=f"incident:{incident_id}"):
            incident = self._get(incident_id)
            if incident.status == "resolved" or incident.alert_count > settled_alerts:
                return None
            previous = incident.status
            self._move(incident, "resolved", actor, now)
            self._timeline(incident_id, c.NOTE, actor, now, {"note": note})
        return self.get(incident_id), previous

    def record_resolved_alerts(self, incident_id, resolved_alerts, actor, now):
        """An alert_resolved entry per resolving alert; a repeated alert adds nothing."""
        if not resolved_alerts:
            return
        with write_transaction(self.db):
            self._get(incident_id)
            for alert in resolved_alerts:
                detail = {"alert_id": alert["resolved_alert_id"]}
                self._timeline(incident_id, c.ALERT_RESOLVED, actor, now, detail, alert["alert_id"])

    def _move(self, incident, target, actor, now):
        changes = domain.transition_changes(incident, target, now)
        Incident.update(**changes).where(Incident.id == incident.id).execute()
        detail = {"from": incident.status, "to": target}
        self._timeline(incident.id, domain.TIMELINE_KIND[target], actor, now, detail)

    def route(self, incident_id, team, assignee, actor, at, now, notes=(), ref="route"):
        """Record how the router routed an incident (`notes`: kind, detail and ref of each
        timeline entry) and, with a `team`, assign it; at the time `at` it was routed.

        Once per `ref`: a redelivered routing adds no entry and never undoes a later
        reassignment. Returns whether it assigned the incident now."""
        rows = [timeline_row(incident_id, n["kind"], actor, at, n["detail"], n["ref"]) for n in notes]
        if team is not None:
            assignment = {"team": team, "assignee": assignee}
            rows.append(timeline_row(incident_id, c.ASSIGNED, actor, at, assignment, ref))
        # One statement writes every entry; the assignment entry comes back only if this is
        # the first delivery of the routing, and only then is the incident assigned.
        with write_transaction(self.db, lock_key=f"incident:{incident_id}"):
            self._get(incident_id)
            written = {kind for (kind,) in insert_returning(TimelineEntry, rows, "kind", skip_conflicts=True)}
            if c.ASSIGNED not in written:
                return False
            # Nobody reads its row count: it travels with the COMMIT.
            assignment = Incident.update(team=team, assignee=assignee, updated_at=now)
            send_query_with_next(assignment.where(Incident.id == incident_id))
        return True

    def _assign(self, incident_id, team, assignee, actor, now, ref):
        Incident.update(team=team, assignee=assignee, updated_at=now).where(
            Incident.id == incident_id
        ).execute()
        detail = {"team": team, "assignee": assignee}
        self._timeline(incident_id, c.ASSIGNED, actor, now, detail, ref)

    def record(self, incident_id, kind, actor, detail, now, ref=None):
        """Add a timeline entry; with a `ref`, a second one for the same ref is ignored."""
        with write_transaction(self.db):
            self._get(incident_id)
            self._timeline(incident_id, kind, actor, now, detail, ref)

    def _timeline(self, incident_id, kind, actor, at, detail, ref=None):
        TimelineEntry.insert(
            **timeline_row(incident_id, kind, actor, at, detail, ref)
        ).on_conflict_ignore().execute()

    # -- reading ------------------------------------------------------------------------
    def _get(self, incident_id):
        incident = next(iter(INCIDENT_BY_ID.rows(Incident, (), {"id": incident_id})), None)
        if incident is None:
            raise NotFound("incident", incident_id)
        return incident

    def summary(self, incident_id):
        """The incident's own fields: no timeline, notes or alerts."""
        return incident_dict(self._get(incident_id))

    def get(self, incident_id):
        incident = self._get(incident_id)
        timeline = [
            timeline_dict(entry)
            for entry in TimelineEntry.select()
            .where(TimelineEntry.incident_id == incident_id)
            .order_by(TimelineEntry.at, TimelineEntry.id)
        ]
        body = incident_dict(incident)
        body["timeline"] = timeline
        body["notes"] = [
            {"note": e["detail"]["note"], "actor": e["actor"], "at": e["at"]}
            for e in timeline
            if e["kind"] == c.NOTE
        ]
        return body

    def list(self, filters, cursor=None, limit=None):
        query = equality_filters(Incident.select(), Incident, filters, EQUALITY_FILTERS, ())
        query = _time_range(query, filters)
        if filters.get("q"):
            query = query.where(Incident.title.contains(filters["q"][:200]))
        rows, next_cursor = keyset_page(
            query,
            Incident.created_at,
            Incident.id,
            cursor,
            page_limit(limit),
            id_type=int,
            oldest_first=oldest_first(filters.get("sort")),
        )
        return {"items": [incident_dict(row) for row in rows], "next_cursor": next_cursor}

    def analytics_rows(self, since, until, filters):
        """(created_at, service, team, mtta, mttr) of the incidents opened in [since, until)."""
        query = Incident.select(
            Incident.created_at, Incident.service, Incident.team, Incident.mtta_seconds, Incident.mttr_seconds
        ).where((Incident.created_at >= since) & (Incident.created_at < until))
        query = equality_filters(query, Incident, filters, ("service", "team", "severity"), ())
        return [(Incident.created_at.python_value(row[0]), *row[1:]) for row in query.tuples().iterator()]

    def metrics(self, incident_id):
        incident = self._get(incident_id)
        return {
            key: incident_dict(incident)[key]
            for key in (
                "id",
                "status",
                "created_at",
                "acknowledged_at",
                "resolved_at",
                "mtta_seconds",
                "mttr_seconds",
            )
        }

    def stats(self):
        counts = dict.fromkeys(c.STATUSES, 0)
        for row in Incident.select(Incident.status, peewee.fn.COUNT(Incident.id).alias("n")).group_by(
            Incident.status
        ):
            counts[row.status] = row.n
        averages = (
            Incident.select(
                peewee.fn.AVG(Incident.mtta_seconds).alias("mtta"),
                peewee.fn.AVG(Incident.mttr_seconds).alias("mttr"),
            )
            .dicts()
            .get()
        )
        return {
            "incidents": counts,
            "mean_mtta_seconds": _rounded(averages["mtta"]),
            "mean_mttr_seconds": _rounded(averages["mttr"]),
        }

    def metric_families(self):
        gauge = GaugeMetricFamily(
            "incidents_total",
            "Incidents by status (read from the store)",
            labels=["status", "severity", "service", "team"],
        )
        query = Incident.select(
            Incident.status,
            Incident.severity,
            Incident.service,
            Incident.team,
            peewee.fn.COUNT(Incident.id).alias("n"),
        ).group_by(Incident.status, Incident.severity, Incident.service, Incident.team)
        for row in query:
            gauge.add_metric([row.status, row.severity, row.service, row.team or ""], row.n)
        return [gauge]


def _time_range(query, filters):
    for name, compare in (("since", Incident.created_at.__ge__), ("until", Incident.created_at.__lt__)):
        value = filters.get(name)
        if value in (None, ""):
            continue
        try:
            instant = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except (AttributeError, ValueError):
            raise invalid(name, "must be an RFC 3339 instant") from None
        if instant.tzinfo is None:
            raise invalid(name, "needs a time zone offset")
        query = query.where(compare(instant))
    return query


def _rounded(value):
    return None if value is None else round(float(value), 3)


def _iso(value):
    return value.isoformat() if value else None


class CorrelationBatch:
    """The work of one `correlate_many`: decisions in memory, then a few bulk writes, however
    many incidents the batch opens."""

    def __init__(self, window_seconds, now):
        self.window_seconds, self.now = window_seconds, now
        self.known = {}
        self.open_by_key = {}
        self.opened, self.links, self.attached = [], [], []
        self.traces = {}  # alert id: the trace id of its own request

    def preload(self, open_by_key, alerts):
        """What the batch needs to know first: the open incident of every key, and earlier
        answers (a redelivery keeps the answer it got then)."""
        self.open_by_key = dict(open_by_key)
        for ids in peewee.chunked({alert["alert_id"] for alert in alerts}, 500):
            for link in LINKS_BY_ALERT_ID.rows_in(IncidentAlert, ids):
                self.known[link.alert_id] = (Incident(id=link.incident_id), link.action)

    def add(self, alert, key):
        alert_id = alert["alert_id"]
        self.traces[alert_id] = trace_id_of(alert.get(TRACEPARENT))
        if alert_id not in self.known:
            self.known[alert_id] = self._decide(alert, key)

    def answer(self, alert_id):
        """(incident id, action) of an added alert; after `flush`, which gives new incidents their ids.
        A suppressed alert has no incident: (None, "suppressed")."""
        incident, action = self.known[alert_id]
        return (incident.id if incident is not None else None), action

    def _decide(self, alert, key):
        incident = self.open_by_key.get(key)
        if held_back(alert, incident):
            # Nothing is written: when its window ends the alert is correlated afresh.
            return None, SUPPRESSED
        if incident is None:
            incident = self.open_by_key[key] = NewIncident(alert, key, self.now)
            self.opened.append(incident)
            action = "new_incident"
        else:
            self.attached.append((incident, alert["alert_id"]))
            action = "attached_to_existing_incident"
        self.links.append((alert["alert_id"], incident, action))
        return incident, action

    def flush(self):
        self._insert_opened()
        insert_rows(
            IncidentAlert,
            [
                {"alert_id": alert_id, "incident_id": incident.id, "action": action, "attached_at": self.now}
                for alert_id, incident, action in self.links
            ],
        )
        created = [self._entry(incident, c.CREATED, incident.first_alert_id) for incident in self.opened]
        attached = [self._entry(incident, c.ALERT_ATTACHED, alert_id) for incident, alert_id in self.attached]
        insert_rows(TimelineEntry, created + attached)
        self._count_attached()

    def _entry(self, incident, kind, alert_id):
        """A timeline entry of the batch, in the trace of the alert it is about."""
        detail = {"alert_id": alert_id}
        return timeline_row(incident.id, kind, "klaxon", self.now, detail, trace_id=self.traces.get(alert_id))

    def _insert_opened(self):
        # One new incident per key in a batch, so the key tells the returned rows apart.
        ids = dict(insert_returning(Incident, [i.row for i in self.opened], "correlation_key", "id"))
        for incident in self.opened:
            incident.id = ids[incident.row["correlation_key"]]

    def _count_attached(self):
        counts = Counter(incident.id for incident, _ in self.attached)
        updated_at = Incident.updated_at.db_value(self.now)
        for chunk in peewee.chunked(counts.items(), 500):
            chunk = padded(chunk)  # a CASE takes the first WHEN that matches: a repeat adds nothing
            values = {"ids": [i for i, _ in chunk], "added": [n for _, n in chunk], "now": updated_at}
            COUNT_ATTACHED.send_with_next(Incident, (len(chunk),), values)


SUPPRESSED = "suppressed"


def with_incidents(outcomes):
    """[(incident dict or None, action)] of [(incident id or None, action)]."""
    ids = {i for i, _ in outcomes if i is not None}
    rows = INCIDENTS_BY_ID.rows_in(Incident, ids) if ids else ()
    incidents = {row.id: incident_dict(row) for row in rows}
    return [(dict(incidents[i]) if i is not None else None, action) for i, action in outcomes]


def held_back(alert, incident):
    """Whether a maintenance window holds the alert back: it carries the window's start
    (`suppressed_since`), and no incident that was open before that start takes it."""
    since = alert.get("suppressed_since")
    if since is None:
        return False
    opened = getattr(incident, "created_at", None)  # a NewIncident of this batch has none
    return opened is None or opened >= dt.datetime.fromisoformat(since)


class NewIncident:
    """An incident a batch opens; it gets its id when the batch is written."""

    def __init__(self, alert, key, now):
        self.id = None
        self.first_alert_id = alert["alert_id"]
        self.row = {
            "title": alert["message"],
            "service": alert["service"],
            "severity": alert["severity"],
            "status": "open",
            "correlation_key": key,
            "alert_count": 1,
            "created_at": now,
            "updated_at": now,
        }


INCIDENT_BY_ID = CompiledQuery(lambda: Incident.select().where(Incident.id == Slot("id")).limit(1))
INCIDENTS_BY_ID = CompiledQuery(lambda count: Incident.select().where(Incident.id.in_(slots("items", count))))
COUNT_ATTACHED = CompiledQuery(
    lambda count: Incident.update(
        alert_count=Incident.alert_count
        + peewee.Case(Incident.id, [(Slot("ids", i), Slot("added", i)) for i in range(count)], 0),
        updated_at=Slot("now"),
    ).where(Incident.id.in_(slots("ids", count)))
)
LINKS_BY_ALERT_ID = CompiledQuery(
    lambda count: IncidentAlert.select().where(IncidentAlert.alert_id.in_(slots("items", count)))
)
OPEN_BY_KEY = CompiledQuery(
    lambda count: Incident.select().where(
        Incident.correlation_key.in_(slots("items", count)) & (Incident.status != "resolved")
    )
)


def newest_open_incidents(keys, since):
    """The newest open incident of each key; outside a group, only one created since `since`."""
    newest = {}
    for chunk in peewee.chunked(sorted(set(keys)), 500):
        for row in OPEN_BY_KEY.rows_in(Incident, chunk):
            if not (is_group_key(row.correlation_key) or row.created_at >= since):
                continue
            best = newest.get(row.correlation_key)
            if best is None or row.created_at > best.created_at:
                newest[row.correlation_key] = row
    return newest


def timeline_row(incident_id, kind, actor, at, detail, ref=None, trace_id=None):
    return {
        "incident_id": incident_id,
        "kind": kind,
        "actor": actor,
        "at": at,
        "detail": json.dumps(detail, sort_keys=True, default=str),
        "ref": ref,
        "trace_id": trace_id or current_trace_id(),
    }


def incident_dict(incident):
    return {
        "id": incident.id,
        "title": incident.title,
        "service": incident.service,
        "severity": incident.severity,
        "status": incident.status,
        "team": incident.team,
        "assignee": incident.assignee,
        "alert_count": incident.alert_count,
        "created_at": _iso(incident.created_at),
        "updated_at": _iso(incident.updated_at),
        "acknowledged_at": _iso(incident.acknowledged_at),
        "resolved_at": _iso(incident.resolved_at),
        "mtta_seconds": incident.mtta_seconds,
        "mttr_seconds": incident.mttr_seconds,
    }


def timeline_dict(entry):
    return {
        "kind": entry.kind,
        "actor": entry.actor,
        "at": _iso(entry.at),
        "detail": json.loads(entry.detail),
        "trace_id": entry.trace_id,
    }
