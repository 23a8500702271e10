"""The notifications service: channels and the delivery ledger."""

from nameko.dependency_providers import Config
from nameko.events import EventDispatcher, event_handler
from nameko.rpc import rpc

from services.notifications import contracts as c
from services.notifications.delivery import deliver
from services.notifications.migrations import MIGRATIONS
from services.notifications.models import db
from services.notifications.requests import parse_notify
from services.notifications.store import NotificationStore
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

    @event_handler("oncall", c.NOTIFICATION_REQUESTED)
    def on_notification_requested(self, payload):
        self._deliver(payload)

    def _deliver(self, payload):
        request = parse_notify(payload).model_dump()
        entry, sent_now = deliver(self.store, request)
        if sent_now:
            self.dispatch(c.NOTIFICATION_DELIVERED, entry)
        return entry
