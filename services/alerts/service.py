"""The alerts service: normalise, dedup and correlate incoming alerts."""

import logging

import eventlet
from nameko.dependency_providers import Config
from nameko.events import EventDispatcher
from nameko.messaging import consume
from nameko.rpc import RpcProxy, rpc

from services.alerts import contracts, ingest, queue
from services.alerts.integrations import parse_integration
from services.alerts.migrations import MIGRATIONS
from services.alerts.models import db
from services.alerts.store import AlertStore
from services.shared.clock import Clock
from services.shared.errors import ValidationFailed
from services.shared.storage import Storage
from services.shared.web import HealthAndMetrics, HttpMetrics

logger = logging.getLogger("klaxon.alerts")


class AlertsService(HealthAndMetrics):
    name = contracts.SERVICE

    store = Storage(db, MIGRATIONS, AlertStore)
    config = Config()
    http_metrics = HttpMetrics()
    incidents = RpcProxy("incidents")
    dispatch = EventDispatcher()
    clock = Clock()

    @rpc
    def ingest(self, alert):
        answer = ingest.ingest(self.store, self.incidents, alert)
        if answer["action"] == contracts.RESOLVED and answer.get("resolved_alert_id"):
            self.dispatch(contracts.ALERT_RESOLVED, answer)
        return answer

    # Requeued on error: the only errors left after the edge's validation are outages
    # (database, incidents service), and the message must wait for them to pass.
    @consume(queue.INGEST_QUEUE, requeue_on_error=True)
    def on_queued(self, message):
        try:
            self._process(message)
        except Exception:
            # Hold the message a moment before it goes back, so an outage is waited out
            # rather than spun on.
            eventlet.sleep(float(self.config.get("REQUEUE_DELAY_SECONDS", 1.0)))
            raise

    def _process(self, message):
        if message["kind"] == queue.ACKNOWLEDGE:
            ingest.acknowledge(
                self.store, self.incidents, message["dedup_key"], message["integration_id"], message["actor"]
            )
            return
        for alert in message["alerts"]:
            self._ingest_queued(alert)

    def _ingest_queued(self, alert):
        try:
            self.ingest(alert)
        except ValidationFailed as error:
            # The edge validated it; a message that still fails is logged, not retried forever.
            logger.error("dropping queued alert %s: %s", alert.get("alert_id"), error)

    @rpc
    def create_integration(self, payload):
        return self.store.integrations.create(parse_integration(payload), self.clock.now())

    @rpc
    def list_integrations(self):
        return self.store.integrations.list()

    @rpc
    def revoke_integration(self, integration_id):
        return self.store.integrations.revoke(integration_id, self.clock.now())

    @rpc
    def authenticate(self, key):
        return self.store.integrations.authenticate(key)

    @rpc
    def get_alert(self, alert_id):
        return self.store.get(alert_id)

    @rpc
    def list_alerts(self, filters, cursor=None, limit=None):
        return self.store.list(filters, cursor=cursor, limit=limit)
