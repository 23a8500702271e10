"""The alerts service: normalise, dedup and correlate incoming alerts."""

from nameko.dependency_providers import Config
from nameko.events import EventDispatcher
from nameko.rpc import RpcProxy, rpc

from services.alerts import contracts, ingest
from services.alerts.migrations import MIGRATIONS
from services.alerts.models import db
from services.alerts.store import AlertStore
from services.shared.storage import Storage
from services.shared.web import HealthAndMetrics, HttpMetrics


class AlertsService(HealthAndMetrics):
    name = contracts.SERVICE

    store = Storage(db, MIGRATIONS, AlertStore)
    config = Config()
    http_metrics = HttpMetrics()
    incidents = RpcProxy("incidents")
    dispatch = EventDispatcher()

    @rpc
    def ingest(self, alert):
        answer = ingest.ingest(self.store, self.incidents, alert)
        if answer["action"] == contracts.RESOLVED and answer.get("resolved_alert_id"):
            self.dispatch(contracts.ALERT_RESOLVED, answer)
        return answer

    @rpc
    def get_alert(self, alert_id):
        return self.store.get(alert_id)

    @rpc
    def list_alerts(self, filters, cursor=None, limit=None):
        return self.store.list(filters, cursor=cursor, limit=limit)
