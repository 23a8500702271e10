"""What every ingestion endpoint shares: who is sending (integration keys), how fast
(a rate limit per integration), and the durable queue.

Authenticated integrations are cached for a few seconds so the hot path costs no RPC;
a revoked key is refused everywhere within `cache_seconds`. While the alerts service
cannot answer, a key it accepted before keeps being accepted, so alerts still queue.
"""

import threading
import time

from nameko.exceptions import RemoteError

from edge.rpc import ServiceUnavailable
from services.alerts import contracts as alerts
from services.alerts.integrations import held_to_kind, key_hash, keyless_integration
from services.alerts.queue import REPLY_TO, alerts_message
from services.shared.access import KEY_HEADER, KEY_PARAM, KEY_REQUIRED, integration_key
from services.shared.errors import Forbidden, Unauthorized
from services.shared.tracing import TRACEPARENT, annotate, current_traceparent


def key_from(req):
    return integration_key(
        req.get_header("Authorization"), req.get_header(KEY_HEADER), req.get_param(KEY_PARAM)
    )


class IntegrationAuth:
    def __init__(self, rpc, keyless, cache_seconds=5.0, clock=time.monotonic, keyless_rate_limit=6000):
        self.rpc = rpc
        self.keyless = keyless
        # The edge needs nothing from the database to accept keyless alerts.
        self.keyless_integration = keyless_integration(keyless_rate_limit)
        self.cache_seconds = cache_seconds
        self.clock = clock
        self.cache = {}
        self.refreshing = threading.Lock()

    def integration(self, key):
        """The integration a key belongs to; no key means the default one, when allowed."""
        if not key:
            if not self.keyless:
                raise Unauthorized(KEY_REQUIRED)
            return self.keyless_integration
        return self._cached(key_hash(key), lambda: self.rpc.call(alerts.SERVICE, alerts.AUTHENTICATE, key))

    def _cached(self, cache_key, load):
        hit = self.cache.get(cache_key)
        if hit is not None and hit[0] > self.clock():
            return _unwrap(hit[1])
        # One thread refreshes an expired key; the others keep using the entry meanwhile
        # instead of all asking the alerts service at once.
        if hit is not None and not self.refreshing.acquire(blocking=False):
            return _unwrap(hit[1])
        try:
            return self._load(cache_key, load, hit)
        finally:
            if hit is not None:
                self.refreshing.release()

    def _load(self, cache_key, load, hit):
        try:
            value = load()
        except Forbidden as refused:
            value = refused  # a revoked key stays revoked: remember the refusal too
        except (ServiceUnavailable, RemoteError):
            if hit is None:
                raise
            # The alerts service or its database is out: a key it vouched for moments ago
            # still gets its alerts queued, to be processed once it is back.
            return _unwrap(hit[1])
        self.cache[cache_key] = (self.clock() + self.cache_seconds, value)
        return _unwrap(value)


def _unwrap(value):
    if isinstance(value, Exception):
        raise value
    return value


class Ingestion:
    def __init__(self, auth, limiter, publisher):
        self.auth = auth
        self.limiter = limiter
        self.publisher = publisher

    def sender(self, req, kind, key=None):
        """The integration posting `req`; a key made for one kind of sender fits no other."""
        return held_to_kind(self.auth.integration(key or key_from(req)), kind)

    def enqueue(self, integration, alerts_batch, reply_to=None):
        """Stamp, rate-limit and durably queue alerts; return their ids. With `reply_to`,
        the alerts service sends each alert's answer to that queue."""
        self.limiter.take(integration, max(1, len(alerts_batch)))
        traceparent = current_traceparent()  # each alert continues its request's trace
        annotate(integration=integration["id"], alert_ids=[alert["alert_id"] for alert in alerts_batch])
        for alert in alerts_batch:
            alert["integration_id"] = integration["id"]
            if traceparent:
                alert[TRACEPARENT] = traceparent
            if reply_to:
                alert[REPLY_TO] = reply_to
        if alerts_batch:
            self.publisher.publish(alerts_message(alerts_batch))
        return [alert["alert_id"] for alert in alerts_batch]

    def publish(self, integration, message):
        self.limiter.take(integration)
        self.publisher.publish(message)
