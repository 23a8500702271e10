"""Event and queue handlers that never drop a message because something was down.

A handler declared with `handles(...)` is requeued when it fails for an outage (database,
another service), after a pause so the outage is waited out rather than spun on. A
domain error (the message itself is wrong) is logged and the message dropped: trying
again would fail the same way forever. Handlers must therefore be idempotent.
"""

import functools
import logging
from functools import partial

import eventlet
from nameko.events import event_handler

from services.shared.errors import KlaxonError
from services.shared.tracing import run_in_current_context

logger = logging.getLogger("klaxon.messaging")
REQUEUE_DELAY_SECONDS = 1.0


def retried_on_outage(handler):
    @functools.wraps(handler)
    def handle(self, *args, **kwargs):
        try:
            return handler(self, *args, **kwargs)
        except KlaxonError as error:
            logger.error("dropping a message %s cannot handle: %s", handler.__name__, error)
            return None
        except Exception:
            eventlet.sleep(float(self.config.get("REQUEUE_DELAY_SECONDS", REQUEUE_DELAY_SECONDS)))
            raise

    return handle


def handles(source_service, event_type):
    """`@event_handler` that requeues on outages; stack it on the handler method."""

    def declare(handler):
        return event_handler(source_service, event_type, requeue_on_error=True)(retried_on_outage(handler))

    return declare


def dispatch_all(dispatch, event_type, payloads, concurrency=16):
    """Dispatch one event per payload, their broker confirms awaited together rather than
    one after another; returns once every one is confirmed, or raises the first failure."""
    dispatch_here = run_in_current_context(dispatch)
    run_all([partial(dispatch_here, event_type, payload) for payload in payloads], concurrency)


def run_all(calls, concurrency=16):
    """Run the argument-less `calls` together; returns once all have, or raises the first failure."""
    pile = eventlet.GreenPile(concurrency)
    for call in calls:
        pile.spawn(call)
    for _ in pile:
        pass
