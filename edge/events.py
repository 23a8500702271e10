"""Server-sent events for the console: the services' events, pushed as they happen.

Each edge process binds one exclusive queue to the services' event exchanges (Nameko
publishes `<service>.events`, routing key = event name) and fans what arrives out to
its open `/api/v1/events` streams. Events carry ids and kinds, never alert text: a
client refetches what an event names through the API, which checks who asks.

An event's id is `<process>-<sequence>`. A client reconnecting with `Last-Event-ID` gets
what this process still holds after it; when the id is another process's or too old, it
gets a `reset` event and refetches everything it shows, so a reconnect loses nothing.
"""

import collections
import contextlib
import json
import logging
import queue
import threading
import time
import uuid

from kombu import Connection, Consumer, Exchange, Queue

from edge.rpc import BROKER_ERRORS, drain, release_quietly
from services.incidents import contracts as incidents
from services.notifications import contracts as notifications
from services.oncall import contracts as oncall
from services.shared.access import READ

logger = logging.getLogger("klaxon.edge")
SOURCES = {
    incidents.SERVICE: (
        incidents.INCIDENT_OPENED,
        incidents.INCIDENT_ACKNOWLEDGED,
        incidents.INCIDENT_RESOLVED,
        incidents.INCIDENT_REOPENED,
        incidents.INCIDENT_UPDATED,
    ),
    oncall.SERVICE: (oncall.INCIDENT_ESCALATED,),
    notifications.SERVICE: (notifications.NOTIFICATION_DELIVERED, notifications.NOTIFICATION_FAILED),
}
# What of an event's payload a stream repeats: identifiers and kinds, no free text.
FIELDS = ("incident_id", "id", "team", "status", "step", "channel", "changed", "actor")


def summary(kind, body):
    event = {"kind": kind}
    for name in FIELDS:
        if isinstance(body, dict) and name in body:
            event[name] = body[name]
    if kind == incidents.INCIDENT_OPENED and "incident_id" not in event:
        event["incident_id"] = event.get("id")
    return event


class EventHub:
    def __init__(self, amqp_uri, history=1000, heartbeat=30):
        self.amqp_uri = amqp_uri
        self.heartbeat = heartbeat
        self.process = uuid.uuid4().hex[:8]
        self.sequence = 0
        self.history = collections.deque(maxlen=history)
        self.subscribers = set()
        self.lock = threading.Lock()
        self.connection = None

    def subscribe(self, last_event_id=None):
        """(a queue of events to come, the events to send first)."""
        self._listen()
        inbox = queue.Queue(maxsize=1000)
        with self.lock:
            self.subscribers.add(inbox)
            backlog = self._since(last_event_id)
        return inbox, backlog

    def unsubscribe(self, inbox):
        with self.lock:
            self.subscribers.discard(inbox)

    def _since(self, last_event_id):
        """What a client reconnecting after `last_event_id` missed, or a `reset` to refetch."""
        if not last_event_id:
            return []
        process, _, number = last_event_id.rpartition("-")
        oldest = sequence_of(self.history[0]) if self.history else self.sequence + 1
        if process != self.process or not number.isdigit() or int(number) + 1 < oldest:
            return [{"kind": "reset", "id": self._next_id()}]
        return [event for event in self.history if sequence_of(event) > int(number)]

    def _next_id(self):
        self.sequence += 1
        return f"{self.process}-{self.sequence}"

    def publish(self, kind, body):
        with self.lock:
            event = {**summary(kind, body), "id": self._next_id()}
            self.history.append(event)
            for inbox in list(self.subscribers):
                with contextlib.suppress(queue.Full):  # a stalled client misses events, then resets
                    inbox.put_nowait(event)

    def _listen(self):
        with self.lock:
            if self.connection is not None:
                return
            connection = Connection(self.amqp_uri, connect_timeout=3, heartbeat=self.heartbeat)
            try:
                self._consume(connection)
            except BROKER_ERRORS:
                release_quietly(connection)
                raise
            self.connection = connection
        threading.Thread(
            target=drain, args=(self, connection, "event stream"), name="klaxon-events", daemon=True
        ).start()

    def _consume(self, connection):
        name = f"klaxon.edge.events.{self.process}.{uuid.uuid4().hex[:6]}"
        bindings = [
            (Exchange(f"{service}.events", type="topic", durable=True), kind)
            for service, kinds in SOURCES.items()
            for kind in kinds
        ]
        events = Queue(name, exclusive=True, auto_delete=True, durable=False)
        channel = connection.channel()
        events.bind(channel).declare()
        for exchange, kind in bindings:
            exchange.bind(channel).declare()
            events.bind(channel).bind_to(exchange=exchange, routing_key=kind)
        Consumer(channel, queues=[events], callbacks=[self._on_event], accept=["json"], no_ack=True).consume()

    def _on_event(self, body, message):
        self.publish(message.delivery_info.get("routing_key"), body)

    def close(self):
        with self.lock:
            self.connection = None


def sequence_of(event):
    return int(event["id"].rpartition("-")[2])


def frame(event):
    return f"id: {event['id']}\nevent: {event['kind']}\ndata: {json.dumps(event)}\n\n".encode()


class Events:
    """GET /api/v1/events: text/event-stream for as long as the credential stays good."""

    access = {"GET": READ}

    def __init__(self, hub, authenticator, keepalive=15.0, recheck=60.0):
        self.hub = hub
        self.authenticator = authenticator
        self.keepalive = keepalive
        self.recheck = recheck

    def on_get(self, req, resp):
        inbox, backlog = self.hub.subscribe(req.get_header("Last-Event-ID"))
        resp.content_type = "text/event-stream"
        resp.set_header("Cache-Control", "no-cache")
        resp.set_header("X-Accel-Buffering", "no")  # no proxy may hold the stream back
        resp.stream = self._stream(req, inbox, backlog)

    def _stream(self, req, inbox, backlog):
        try:
            yield b"retry: 2000\n\n"
            for event in backlog:
                yield frame(event)
            checked = time.monotonic()
            while True:
                try:
                    yield frame(inbox.get(timeout=self.keepalive))
                except queue.Empty:
                    yield b": keepalive\n\n"
                if time.monotonic() - checked > self.recheck:
                    self._still_allowed(req)
                    checked = time.monotonic()
        except Exception as exc:  # a signed-out session, an expired token, a client gone: the stream ends
            logger.info("event stream closed: %r", exc)
            return
        finally:
            self.hub.unsubscribe(inbox)

    def _still_allowed(self, req):
        """A stream outlives no session: signing out or revoking the token ends it."""
        self.authenticator.principal(req)
