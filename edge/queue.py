"""Publishing accepted alerts onto the durable ingest queue, confirmed by the broker.

A kombu connection is not safe to share, so each publish borrows one from a small pool
and gives it back; a broken one is dropped and the request answers 503, so the sender
retries. (A pool, not one per thread: under gevent every request is a greenlet of its
own, and a thread-local connection would be opened per request and never closed.)
"""

import queue
import time

from kombu import Connection, Producer
from kombu.common import maybe_declare

from edge.rpc import BROKER_ERRORS, broker_unreachable, release_quietly
from services.alerts.queue import ALERTS, INGEST_QUEUE, alerts_message
from services.shared.group_commit import GroupCommit
from services.shared.tracing import TRACEPARENT, current_traceparent


class AlertPublisher:
    """`max_idle_seconds`: a connection unused that long is replaced, not trusted: a NAT or
    a load balancer may have dropped it silently. `confirm_timeout`: the longest wait for
    the broker's confirm before the request answers 503."""

    def __init__(self, amqp_uri, connect_timeout=3, pool_size=8, max_idle_seconds=60, confirm_timeout=10):
        self.amqp_uri = amqp_uri
        self.connect_timeout = connect_timeout
        self.max_idle_seconds = max_idle_seconds
        self.confirm_timeout = confirm_timeout
        self.idle = queue.LifoQueue(maxsize=pool_size)

    def publish(self, message):
        """Return once the broker has confirmed `message` is on the durable queue."""
        connection, producer = self._borrow()
        try:
            producer.publish(
                message,
                exchange=INGEST_QUEUE.exchange,
                routing_key=INGEST_QUEUE.routing_key,
                delivery_mode=2,
                serializer="json",
                headers=trace_headers(),
                retry=False,
                confirm_timeout=self.confirm_timeout,
            )
        except BROKER_ERRORS as exc:
            release_quietly(connection)
            raise broker_unreachable(exc) from None
        self._give_back(connection, producer)

    def _borrow(self):
        while True:
            try:
                connection, producer, used_at = self.idle.get_nowait()
            except queue.Empty:
                return self._open()
            if time.monotonic() - used_at <= self.max_idle_seconds:
                return connection, producer
            release_quietly(connection)

    def _open(self):
        connection = Connection(
            self.amqp_uri,
            connect_timeout=self.connect_timeout,
            transport_options={"confirm_publish": True},
        )
        try:
            channel = connection.default_channel
            # Declared once per connection, not checked again on every publish.
            maybe_declare(INGEST_QUEUE, channel)
            return connection, Producer(channel)
        except BROKER_ERRORS as exc:
            release_quietly(connection)
            raise broker_unreachable(exc) from None

    def _give_back(self, connection, producer):
        try:
            self.idle.put_nowait((connection, producer, time.monotonic()))
        except queue.Full:
            release_quietly(connection)

    def close(self):
        while True:
            try:
                connection, _, _ = self.idle.get_nowait()
            except queue.Empty:
                return
            release_quietly(connection)


def trace_headers():
    traceparent = current_traceparent()
    return {TRACEPARENT: traceparent} if traceparent else {}


class GroupedPublisher(GroupCommit):
    """Alerts from requests that arrive together share one confirmed publish: under load
    one broker round trip answers many requests; alone, a request publishes at once."""

    def __init__(self, publisher, max_alerts=100):
        super().__init__(self._publish_together, max_weight=max_alerts)
        self.publisher = publisher

    def publish(self, message):
        if message.get("kind") != ALERTS:
            self.publisher.publish(message)
            return
        self.submit(message, weight=len(message["alerts"]))

    def _publish_together(self, messages):
        self.publisher.publish(alerts_message([alert for message in messages for alert in message["alerts"]]))
        return [None] * len(messages)
