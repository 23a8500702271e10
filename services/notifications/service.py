"""The notifications service: channels, the delivery ledger and its retries, and the
acknowledge links pages carry."""

import contextlib
import datetime as dt
import logging

import eventlet
from nameko.dependency_providers import Config

from services.incidents import contracts as incident_contracts
from services.notifications import contracts as c
from services.notifications.acklinks import AckLinks
from services.notifications.channels import channels_from
from services.notifications.delivery import Delivery
from services.notifications.load import page_load
from services.notifications.migrations import MIGRATIONS
from services.notifications.models import db
from services.notifications.noise import RateLimit
from services.notifications.requests import parse_notify
from services.notifications.retry import RetryPolicy
from services.notifications.store import NotificationStore
from services.oncall import contracts as oncall_contracts
from services.shared.access import PUBLIC, READ, RESPOND
from services.shared.clock import Clock
from services.shared.config import local_secret_key
from services.shared.errors import Conflict, NotFound
from services.shared.http_api import ID, json_api, json_body, query
from services.shared.messaging import handles
from services.shared.rpc import RpcProxy, rpc
from services.shared.storage import Storage
from services.shared.ticker import every
from services.shared.tracing import EventDispatcher, Tracing
from services.shared.web import HealthAndMetrics, HttpMetrics, http

DESCRIBE_TIMEOUT_SECONDS = 2.0
logger = logging.getLogger("klaxon.notifications")


class NotificationsService(HealthAndMetrics):
    name = c.SERVICE

    store = Storage(db, MIGRATIONS, NotificationStore)
    config = Config()
    tracing = Tracing()
    http_metrics = HttpMetrics()
    dispatch = EventDispatcher()
    clock = Clock()
    incidents = RpcProxy(incident_contracts.SERVICE)
    # Whose credentials a request to this service's own port carries (services.shared.access).
    identity = RpcProxy(oncall_contracts.SERVICE)

    @rpc
    def notify(self, payload):
        """A message asked for by hand: sent as asked, but without an acknowledge link,
        since its recipient and address are whatever the asker wrote."""
        return self._deliver(payload, by_hand=True)

    @rpc
    def list_notifications(self, filters, cursor=None, limit=None):
        return self.store.list(filters, cursor=cursor, limit=limit)

    @rpc
    def page_load(self, since, until, zones):
        """Pages per person in [since, until), and how many fell in their night."""
        pages = self.store.pages_sent(dt.datetime.fromisoformat(since), dt.datetime.fromisoformat(until))
        return page_load(pages, zones)

    @rpc
    def attempts(self, notification_id):
        return self.store.attempts(notification_id)

    @rpc
    def preview_ack(self, token):
        """What the link would acknowledge, and as whom, without using it: opening a link
        (or a mail scanner or chat unfurler fetching it) must not acknowledge anything."""
        claims = self._ack_links().verify(token, self.clock.now())
        incident = self._describe(claims["incident_id"]) or {}
        return {
            "incident_id": claims["incident_id"],
            "recipient": claims["recipient"],
            "used": self.store.ack_link_used(claims["nonce"]),
            "title": incident.get("title"),
            "status": incident.get("status"),
        }

    @rpc
    def redeem_ack(self, token):
        """Acknowledge the incident of a page's link, as the person it was sent to; once."""
        now = self.clock.now()
        claims = self._ack_links().verify(token, now)
        self.store.use_ack_link(claims["nonce"], claims["incident_id"], now)
        change = {"status": "acknowledged", "note": "acknowledged from the link in a page"}
        try:
            with contextlib.suppress(Conflict):  # acknowledged or resolved meanwhile: nothing to do
                self.incidents.update_incident(claims["incident_id"], change, claims["recipient"])
        except BaseException:
            # Not acknowledged (the incidents service did not answer, say): the link must
            # still work when its recipient follows it again.
            self._unuse_ack_link(claims["nonce"])
            raise
        incident = self.incidents.get_incident(claims["incident_id"])
        return {"incident_id": incident["id"], "status": incident["status"], "by": claims["recipient"]}

    def _unuse_ack_link(self, nonce):
        try:
            self.store.forget_ack_link(nonce)
        except Exception:  # the caller's own error is the one to report
            logger.exception("an acknowledge link that acknowledged nothing stays used")

    @handles(oncall_contracts.SERVICE, oncall_contracts.NOTIFICATION_REQUESTED)
    def on_notification_requested(self, payload):
        self._deliver(payload)

    @every("NOTIFY_RETRY_TICK_SECONDS", 1.0)
    def retry(self):
        self._delivery().retry_due(self.clock.now(), self._announce)

    # -- this service's own port: the same API as the edge's (SPEC §7) ----------------
    @http("POST", "/api/v1/notify")
    @json_api(RESPOND)
    def http_notify(self, request):
        return 201, self.notify(json_body(request))

    @http("GET", "/api/v1/notifications")
    @json_api(READ)
    def http_list_notifications(self, request):
        filters = query(request, ("incident_id", "recipient", "channel", "status"))
        return 200, self.list_notifications(filters, request.args.get("cursor"), request.args.get("limit"))

    @http("GET", f"/api/v1/notifications/<{ID}:notification_id>/attempts")
    @json_api(READ)
    def http_attempts(self, request, notification_id):
        return 200, {"items": self.attempts(notification_id)}

    @http("GET", "/api/v1/ack/<token>")
    @json_api(PUBLIC)
    def http_preview_ack(self, request, token):
        return 200, self.preview_ack(token)

    @http("POST", "/api/v1/ack/<token>")
    @json_api(PUBLIC)
    def http_redeem_ack(self, request, token):
        return 200, self.redeem_ack(token)

    def _deliver(self, payload, by_hand=False):
        request = {**parse_notify(payload).model_dump(), c.ASKED_BY_HAND: by_hand}
        entry, created = self._delivery().deliver(request, self.clock.now())
        if created and entry["status"] in ("sent", "failed"):
            self._announce(entry)
        return entry

    def _announce(self, entry):
        event = c.NOTIFICATION_DELIVERED if entry["status"] == "sent" else c.NOTIFICATION_FAILED
        self.dispatch(event, entry)

    def _delivery(self):
        policy, limit = RetryPolicy.from_config(self.config), RateLimit.from_config(self.config)
        channels, links = channels_from(self.config), self._ack_links()
        return Delivery(self.store, channels, policy, links, self._still_open, limit, self._describe)

    def _describe(self, incident_id):
        """The incident of a page whose request did not carry its facts (a retry, a delayed
        page, POST /api/v1/notify). Best effort: a page goes out even when the incidents
        service cannot be asked."""
        incident = None
        with contextlib.suppress(Exception), eventlet.Timeout(DESCRIBE_TIMEOUT_SECONDS, False):
            incident = self.incidents.incident_summary(incident_id)
        if incident is None:
            return None  # any failure only costs the page its facts
        return {
            key: incident.get(key) for key in ("id", "title", "severity", "service", "status", "assignee")
        }

    def _still_open(self, row):
        """A delayed page goes only while its incident is still unacknowledged. When the
        incidents service cannot tell in time, it goes: a page too many is better than a
        page that never comes, and the retry loop must not wait on a wedged service."""
        if row.incident_id is None:
            return True
        incident = {"status": "open"}
        try:
            with eventlet.Timeout(DESCRIBE_TIMEOUT_SECONDS, False):
                incident = self.incidents.incident_summary(row.incident_id)
        except NotFound:  # an incident that never was (or is gone) has nobody left to wake
            return False
        except Exception:  # the incidents service unreachable: sent, as said above
            logger.warning("incident %s could not be asked; its delayed page goes", row.incident_id)
        return incident["status"] == "open"

    def _ack_links(self):
        secret_key = self.config.get("SECRET_KEY") or local_secret_key()
        return AckLinks(secret_key, self.config.get("PUBLIC_URL", "http://127.0.0.1:8080"))
