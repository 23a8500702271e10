"""Publishing accepted alerts onto the durable ingest queue, confirmed by the broker.

Each thread keeps its own connection (a kombu connection is not thread-safe); a broken
one is dropped and the request answers 503, so the sender retries.
"""

import contextlib
import threading

from kombu import Connection, Producer

from edge.rpc import BROKER_ERRORS, ServiceUnavailable
from services.alerts.queue import INGEST_QUEUE


class AlertPublisher:
    def __init__(self, amqp_uri, connect_timeout=3):
        self.amqp_uri = amqp_uri
        self.connect_timeout = connect_timeout
        self.local = threading.local()

    def publish(self, message):
        """Return once the broker has confirmed `message` is on the durable queue."""
        try:
            self._producer().publish(
                message,
                exchange=INGEST_QUEUE.exchange,
                routing_key=INGEST_QUEUE.routing_key,
                declare=[INGEST_QUEUE],
                delivery_mode=2,
                serializer="json",
                retry=False,
            )
        except BROKER_ERRORS as exc:
            self._drop()
            raise ServiceUnavailable(f"message broker unreachable: {exc}") from None

    def _producer(self):
        producer = getattr(self.local, "producer", None)
        if producer is None:
            connection = Connection(
                self.amqp_uri,
                connect_timeout=self.connect_timeout,
                transport_options={"confirm_publish": True},
            )
            producer = Producer(connection.default_channel)
            self.local.connection, self.local.producer = connection, producer
        return producer

    def _drop(self):
        connection = getattr(self.local, "connection", None)
        self.local.producer = self.local.connection = None
        if connection is not None:
            with contextlib.suppress(BROKER_ERRORS):
                connection.release()
