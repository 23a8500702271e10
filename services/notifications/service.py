"""The notifications service: channels and the delivery ledger."""

from nameko.dependency_providers import Config
from nameko.events import EventDispatcher
from nameko.rpc import rpc
from nameko.web.handlers import http

from services.notifications import contracts as c
from services.notifications.delivery import deliver
from services.notifications.migrations import MIGRATIONS
from services.notifications.models import db
from services.notifications.requests import parse_notify
from services.notifications.store import NotificationStore
from services.oncall import contracts as oncall_contracts
from services.shared.http_api import json_api, json_body, query
from services.shared.messaging import handles
from services.shared.storage import Storage
from services.shared.web import HealthAndMetrics, HttpMetrics


class NotificationsService(HealthAndMetrics):
    name = c.SERVICE

    store = Storage(db, MIGRATIONS, NotificationStore)
    config = Config()
    http_metrics = HttpMetrics()
    dispatch = EventDispatcher()

    @rpc
    def notify(self, payload):
        return self._deliver(payload)

    @rpc
    def list_notifications(self, filters, cursor=None, limit=None):
        return self.store.list(filters, cursor=cursor, limit=limit)

    @handles(oncall_contracts.SERVICE, c.NOTIFICATION_REQUESTED)
    def on_notification_requested(self, payload):
        self._deliver(payload)

    # -- this service's own port: the same API as the edge's (SPEC §7) ----------------
    @http("POST", "/api/v1/notify")
    @json_api
    def http_notify(self, request):
        return 201, self.notify(json_body(request))

    @http("GET", "/api/v1/notifications")
    @json_api
    def http_list_notifications(self, request):
        filters = query(request, ("incident_id", "recipient", "channel", "status"))
        return 200, self.list_notifications(filters, request.args.get("cursor"), request.args.get("limit"))

    def _deliver(self, payload):
        request = parse_notify(payload).model_dump()
        entry, sent_now = deliver(self.store, request)
        if sent_now:
            self.dispatch(c.NOTIFICATION_DELIVERED, entry)
        return entry
