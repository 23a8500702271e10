"""The alerts service: normalise, dedup and correlate incoming alerts."""

import logging
from types import SimpleNamespace

from nameko.dependency_providers import Config
from nameko.exceptions import serialize
from nameko.extensions import DependencyProvider
from nameko.messaging import Publisher

from services.alerts import contracts, ingest, metrics, monitoring, queue, quiet
from services.alerts.formats.generic import parse_generic
from services.alerts.heartbeats import parse_heartbeat, parse_heartbeat_change
from services.alerts.heartbeats import recovery_alert as heartbeats_recovery_alert
from services.alerts.integrations import KeyCache, held_to_kind, keyless_integration, parse_integration
from services.alerts.maintenance import parse_change, parse_window
from services.alerts.migrations import MIGRATIONS
from services.alerts.models import db
from services.alerts.store import MINTED, AlertStore
from services.incidents import contracts as incident_contracts
from services.notifications import contracts as notification_contracts
from services.oncall import contracts as oncall_contracts
from services.shared.access import INTEGRATION, KEY_HEADER, KEY_PARAM, KEY_REQUIRED, READ, integration_key
from services.shared.batching import consume_batches
from services.shared.clock import Clock
from services.shared.errors import KlaxonError, Unauthorized, ValidationFailed
from services.shared.group_commit import Rounds
from services.shared.http_api import DATABASE_OUTAGES, SERVICE_OUTAGES, json_api, json_body, outage_of, query
from services.shared.messaging import retried_on_outage
from services.shared.rate_limit import RateLimiter
from services.shared.rpc import RpcProxy, rpc
from services.shared.storage import Storage
from services.shared.ticker import every
from services.shared.tracing import TRACEPARENT, Tracing, spans_for, traceparent_of
from services.shared.web import HealthAndMetrics, HttpMetrics, http

logger = logging.getLogger("klaxon.alerts")
QUEUED = "queued"
# A service that did not answer in time or is not running, a database that cannot be reached.
OUTAGES = SERVICE_OUTAGES | DATABASE_OUTAGES


class IntegrationKeys(DependencyProvider):
    """One KeyCache per process (KLAXON_INTEGRATION_CACHE_SECONDS, as the edge's)."""

    def setup(self):
        self.cache = KeyCache(float(self.container.config.get("INTEGRATION_CACHE_SECONDS", 5)))

    def get_dependency(self, worker_ctx):
        return self.cache


class SenderLimits(DependencyProvider):
    """One rate limiter per process for this service's own port, as each edge process has;
    and the keyless sender's limit (KLAXON_KEYLESS_RATE_LIMIT)."""

    def setup(self):
        self.limits = SimpleNamespace(
            limiter=RateLimiter(),
            keyless=keyless_integration(int(self.container.config.get("KEYLESS_RATE_LIMIT", 6000))),
        )

    def get_dependency(self, worker_ctx):
        return self.limits


class AlertsService(HealthAndMetrics):
    name = contracts.SERVICE

    store = Storage(db, MIGRATIONS, AlertStore)
    config = Config()
    tracing = Tracing()
    http_metrics = HttpMetrics()
    incidents = RpcProxy(incident_contracts.SERVICE)
    # Whose credentials a request to this service's own port carries (services.shared.access).
    identity = RpcProxy(oncall_contracts.SERVICE)
    catalog = RpcProxy(oncall_contracts.SERVICE)  # the teams of services, for windows' matchers
    notifications = RpcProxy(notification_contracts.SERVICE)
    # The default exchange: a routing key is a queue's name. No publisher confirm: an
    # answer is advice to a waiting sender, whose alert is stored already; one lost on
    # the way makes the edge answer 202 (queued) when its wait runs out, which is true.
    reply = Publisher(use_confirms=False)
    # The queue the edge publishes to (confirmed): where a round this port could not
    # correlate in time goes, to be correlated once the incidents service answers.
    later = Publisher(exchange=queue.EXCHANGE, declare=[queue.INGEST_QUEUE])
    clock = Clock()
    together = Rounds(max_weight=ingest.SEGMENT_LIMIT)
    keys = IntegrationKeys()
    limits = SenderLimits()

    @rpc
    def ingest(self, alert):
        """One alert, answered once correlated; alerts that arrive together (on this
        service's port or by RPC) share one batch: one admit transaction, one correlation
        RPC, one link transaction, as the queue's batches do."""
        return self._ingest_normalised(ingest.normalise(alert))

    def _ingest_normalised(self, alert):
        self.store.release()  # the round's leader does the writing; waiting needs no connection
        return self.together(alert, self._ingest_together)

    def _quiet(self):
        """What the maintenance windows in force now hold back."""
        return quiet.Quiet(self.store.windows, self.catalog.teams_of_services, self.clock.now())

    def _ingest_together(self, alerts):
        try:
            return self._correlated_or_alone(alerts)
        except Exception as error:
            if not outage_of(error, OUTAGES):
                raise
            return self._queued(alerts)

    def _queued(self, alerts):
        """Alerts whose round met an outage (a service silent, a database down): to the
        durable queue, as the edge's go, answered 202 `queued` as the edge answers. The
        queue's batches take them once the outage ends, and complete whatever the round
        stored of them (services.alerts.ingest)."""
        # The round may have stored them: the queue's batches look for each again.
        message = queue.alerts_message([unminted(alert) for alert in alerts])
        self.later(message, routing_key=queue.INGEST_QUEUE.routing_key)
        return [{"alert_id": alert["alert_id"], "status": QUEUED} for alert in alerts]

    def _correlated_or_alone(self, alerts):
        try:
            return ingest.ingest_many(self.store, self.incidents, alerts, self._quiet())
        except KlaxonError:
            # One alert the batch cannot take must not cost the others their answers. The
            # batch may have stored some of them: each is looked for again.
            return self._ingest_one_by_one([unminted(alert) for alert in alerts])

    def _ingest_one_by_one(self, alerts):
        """Each alert's own answer; from an outage on (each call would wait it out), the
        rest go to the queue. Those answered already keep their answers."""
        answers = []
        for index, alert in enumerate(alerts):
            try:
                answers.append(self._ingest_alone(alert))
            except Exception as error:
                if not outage_of(error, OUTAGES):
                    raise
                return answers + self._queued(alerts[index:])
        return answers

    def _ingest_alone(self, alert):
        try:
            [answer] = ingest.ingest_many(self.store, self.incidents, [alert], self._quiet())
        except KlaxonError as error:
            return error
        return answer

    # A batch of queued messages shares one transaction and one correlation RPC. Requeued
    # after a pause when something is down: the messages wait out the outage.
    @consume_batches(queue.INGEST_QUEUE, weigh=queue.alerts_in, traces=queue.traceparents)
    @retried_on_outage
    def on_queued(self, messages):
        try:
            self._process_in_order(messages)
        except KlaxonError:
            # One alert the batch cannot take must not cost the others: one by one now. Alert
            # by alert, not message by message: the edge packs many senders' alerts in one.
            for message in messages:
                for single in queue.one_by_one(message):
                    self._process_alone(single)

    @retried_on_outage
    def _process_alone(self, message):
        try:
            self._process_in_order([message])
        except KlaxonError as error:
            alerts = message.get("alerts") or []
            self._reply([{"alert_id": a["alert_id"], "error": serialize(error)} for a in alerts], alerts)
            raise

    def _process_in_order(self, messages):
        alerts = []
        for message in messages:
            if message["kind"] == queue.ACKNOWLEDGE:
                self._ingest_valid(alerts)
                alerts = []
                ingest.acknowledge(
                    self.store,
                    self.incidents,
                    message["dedup_key"],
                    message["integration_id"],
                    message["actor"],
                )
            else:
                alerts += message["alerts"]
        self._ingest_valid(alerts)

    def _ingest_valid(self, alerts):
        valid = [normalised for normalised in map(normalised_or_none, alerts) if normalised is not None]
        if valid:
            with spans_for(valid, "alerts.ingest", admitted_alert) as spans:
                for alert, span in zip(valid, spans, strict=True):
                    alert[TRACEPARENT] = traceparent_of(span)  # correlation continues from here
                self._reply(ingest.ingest_many(self.store, self.incidents, valid, self._quiet()), alerts)

    def _reply(self, answers, alerts):
        """Send each answer a sender waits for to its reply queue, one message per queue."""
        reply_to = {alert["alert_id"]: alert[queue.REPLY_TO] for alert in alerts if alert.get(queue.REPLY_TO)}
        by_queue = {}
        for answer in answers:
            if answer["alert_id"] in reply_to:
                by_queue.setdefault(reply_to[answer["alert_id"]], []).append(answer)
        for address, mine in by_queue.items():
            self.reply({"answers": mine}, routing_key=address)

    @rpc
    def create_integration(self, payload):
        return self.store.integrations.create(parse_integration(payload), self.clock.now())

    @rpc
    def list_integrations(self):
        return self.store.integrations.list()

    @rpc
    def revoke_integration(self, integration_id):
        revoked = self.store.integrations.revoke(integration_id, self.clock.now())
        self.keys.forget()
        return revoked

    @rpc
    def authenticate(self, key):
        return self.store.integrations.authenticate(key)

    # -- maintenance windows and heartbeats ------------------------------------------------
    @every("MAINTENANCE_TICK_SECONDS", 5.0)
    def maintenance_tick(self):
        """Replays what ended windows held back, warns authors of windows ending soon, and
        notices silent heartbeats; in every replica, each thing done once."""
        now = self.clock.now()
        quiet.replay_due(self.store, self.incidents, self._quiet(), now)
        for window, end in quiet.expiring_soon(self.store, now):
            if "@" in window["author"]:  # a person; not `klaxon apply`
                self._tell_author(window, end)
        monitoring.check_heartbeats(self.store, self._ingest_internal, now)
        metrics.MAINTENANCE_TICK.set(now.timestamp())

    def _tell_author(self, window, end):
        notice = quiet.expiry_notice(window, end, self.config.get("PUBLIC_URL"))
        channel = self.config.get("DEFAULT_CHANNEL") or "log"
        self.notifications.notify({**notice, "channel": channel if channel in ("log", "email") else "log"})

    def _ingest_internal(self, alerts):
        normalised = [ingest.normalise(alert) for alert in alerts]
        return ingest.ingest_many(self.store, self.incidents, normalised, self._quiet())

    @rpc
    def create_window(self, payload, author):
        return self.store.windows.create(parse_window(payload), author, self.clock.now())

    @rpc
    def list_windows(self, states=("active", "upcoming")):
        return self.store.windows.list(tuple(states), self.clock.now())

    @rpc
    def get_window(self, window_id):
        return self.store.windows.get(window_id, self.clock.now())

    @rpc
    def change_window(self, window_id, payload, actor):
        return self.store.windows.change(window_id, parse_change(payload), actor, self.clock.now())

    @rpc
    def delete_window(self, window_id, actor):
        self.store.windows.delete(window_id, actor, self.clock.now())

    @rpc
    def create_heartbeat(self, payload):
        return self.store.heartbeats.create(parse_heartbeat(payload), self.clock.now())

    @rpc
    def list_heartbeats(self):
        return self.store.heartbeats.list()

    @rpc
    def get_heartbeat(self, heartbeat_id):
        return self.store.heartbeats.get(heartbeat_id)

    @rpc
    def change_heartbeat(self, heartbeat_id, payload):
        return self.store.heartbeats.change(heartbeat_id, parse_heartbeat_change(payload), self.clock.now())

    @rpc
    def delete_heartbeat(self, heartbeat_id):
        monitor = self.store.heartbeats.get(heartbeat_id)
        if monitor["state"] == "down" and monitor["down_alert_id"]:
            # The incident of its silence must not stay open for a monitor that is gone.
            self._ingest_internal(
                [heartbeats_recovery_alert(monitor, monitor["down_alert_id"], self.clock.now())]
            )
        return self.store.heartbeats.delete(heartbeat_id)

    @rpc
    def beat(self, heartbeat_id, key):
        return monitoring.beat(self.store, self._ingest_internal, heartbeat_id, key, self.clock.now())

    @rpc
    def get_alert(self, alert_id):
        return self.store.get(alert_id)

    @rpc
    def list_alerts(self, filters, cursor=None, limit=None):
        return self.store.list(filters, cursor=cursor, limit=limit)

    # -- this service's own port: the same API as the edge's (SPEC §7) ----------------
    @http("POST", "/api/v1/alerts")
    @json_api(INTEGRATION)
    def http_post_alert(self, request):
        integration_id = self._sender(request)
        alert = parse_generic(json_body(request))
        alert["integration_id"] = integration_id
        alert[MINTED] = True  # its id is new: parse_generic made it
        answer = self._ingest_normalised(alert)  # parsed here: no second pass, as on the edge
        return (202 if answer.get("status") == QUEUED else 201), answer

    @http("GET", "/api/v1/alerts")
    @json_api(READ)
    def http_list_alerts(self, request):
        filters = query(request, ALERT_FILTERS)
        return 200, self.list_alerts(filters, request.args.get("cursor"), request.args.get("limit"))

    @http("GET", "/api/v1/alerts/<alert_id>")
    @json_api(READ)
    def http_get_alert(self, request, alert_id):
        return 200, self.get_alert(alert_id)

    def _sender(self, request):
        """The integration id of the request's key (None for keyless senders, when allowed),
        held to its kind and its rate limit as on the edge."""
        key = bearer_or_header(request)
        if key:
            integration = self.keys.authenticate(key, self.store.integrations.authenticate)
        elif self.config.get("KEYLESS_INGEST"):
            integration = self.limits.keyless
        else:
            raise Unauthorized(KEY_REQUIRED)
        self.limits.limiter.take(held_to_kind(integration, "generic"))
        return integration["id"]


def admitted_alert(alert):
    return {
        "alert_id": alert["alert_id"],
        "service": alert["service"],
        "integration": alert.get("integration_id"),
    }


def unminted(alert):
    return {key: value for key, value in alert.items() if key != MINTED}


def normalised_or_none(alert):
    try:
        return ingest.normalise(alert)
    except ValidationFailed as error:
        # The edge validated it; a message that still fails is logged, not retried forever.
        logger.error("dropping queued alert %s: %s", alert.get("alert_id"), error)
        return None


ALERT_FILTERS = (
    "service",
    "severity",
    "status",
    "incident_id",
    "dedup_key",
    "source",
    "action",
    "suppressed_by",
)


def bearer_or_header(request):
    return integration_key(
        request.headers.get("Authorization"), request.headers.get(KEY_HEADER), request.args.get(KEY_PARAM)
    )
