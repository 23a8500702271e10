"""Where the alerts service answers this edge process's synchronous alerts.

A synchronous `POST /api/v1/alerts` goes the same way as a queued one (the durable ingest
queue, batched with everything else) and carries the address of this process's reply
queue; the alerts service sends each answer there once the alert is correlated. The
queue is exclusive and dies with its connection, which one background thread drains.
If the connection breaks, waiting requests time out (and answer 202: their alerts are
queued) and the next synchronous request listens afresh.
"""

import threading
import uuid

from kombu import Connection, Consumer, Queue

from edge.rpc import BROKER_ERRORS, broker_unreachable, drain, release_quietly


class Waiter:
    def __init__(self):
        self.answered = threading.Event()
        self.answer = None

    def wait(self, timeout):
        """The alerts service's answer, or None if it did not come within `timeout` seconds."""
        return self.answer if self.answered.wait(timeout) else None


class ReplyListener:
    def __init__(self, amqp_uri, connect_timeout=3, heartbeat=30):
        self.amqp_uri = amqp_uri
        self.connect_timeout = connect_timeout
        self.heartbeat = heartbeat  # so that a connection dropped silently is noticed
        self.address = None
        self.waiting = {}
        self.lock = threading.Lock()
        self.connection = None

    def expect(self, alert_id):
        """A waiter for `alert_id`'s answer; call before the alert is published."""
        self._listen()
        waiter = Waiter()
        with self.lock:
            self.waiting[alert_id] = waiter
        return waiter

    def forget(self, alert_id):
        with self.lock:
            self.waiting.pop(alert_id, None)

    def close(self):
        """Stop listening; the draining thread closes the connection within a second."""
        with self.lock:
            self.connection = None

    def _listen(self):
        with self.lock:
            if self.connection is not None:
                return
            connection = Connection(
                self.amqp_uri, connect_timeout=self.connect_timeout, heartbeat=self.heartbeat
            )
            # A new name each time: the broker may not have let go of the last one yet.
            address = f"klaxon.edge.replies.{uuid.uuid4().hex}"
            try:
                queue = Queue(address, exclusive=True, auto_delete=True, durable=False)
                Consumer(
                    connection, queues=[queue], callbacks=[self._on_reply], accept=["json"], no_ack=True
                ).consume()
            except BROKER_ERRORS as exc:
                release_quietly(connection)
                raise broker_unreachable(exc) from None
            self.connection, self.address = connection, address
        threading.Thread(
            target=drain, args=(self, connection, "reply queue"), name="klaxon-replies", daemon=True
        ).start()

    def _on_reply(self, body, message):
        for answer in body.get("answers", ()):
            with self.lock:
                waiter = self.waiting.pop(answer.get("alert_id"), None)
            if waiter is not None:
                waiter.answer = answer
                waiter.answered.set()
