"""A queue consumer that hands its worker a batch of messages instead of one.

Under a storm, one worker per message means one transaction and one RPC per alert; a
batch shares them. A message that finds no batch in the works starts one at once: alone,
nothing is worth waiting for. One that finds a batch in the works waits for it to finish
and goes with everything that arrived meanwhile, in one batch, unless `linger_seconds`
pass first (a slow batch does not hold the others back for long) or a full batch is
waiting (a backlog keeps `concurrency` batches in the works). Measured with the
synchronous path's bench: a second batch started 10 ms after the first, half as large,
cost about a sixth more CPU per alert over all processes than waiting for the first to
finish; messages arriving while every worker is busy go together in the next batch.
A batch is bounded by weight, not by count: `weigh(body)` says how much a message holds
(the alerts in it), so a backlog of large messages never makes a batch too large for one
transaction. The batch is
acknowledged only when its worker has finished, and requeued as a whole if the worker
fails: handlers must be idempotent, as every redelivered message already requires.
"""

import contextlib
import logging
from functools import partial

import eventlet
from nameko.exceptions import ContainerBeingKilled
from nameko.messaging import Consumer, QueueConsumer

logger = logging.getLogger("klaxon.batching")
DEFAULT_BATCH_SIZE = 200
DEFAULT_LINGER_SECONDS = 0.1
DEFAULT_CONCURRENCY = 2


def batch_settings(config):
    return (
        int(config.get("BATCH_SIZE", DEFAULT_BATCH_SIZE)),
        float(config.get("BATCH_LINGER_SECONDS", DEFAULT_LINGER_SECONDS)),
        int(config.get("BATCH_CONCURRENCY", DEFAULT_CONCURRENCY)),
    )


class BatchQueueConsumer(QueueConsumer):
    """Its own connection, so the batch queue's prefetch is not capped by max_workers:
    a full batch of one-alert messages for each worker, and one more filling meanwhile."""

    @property
    def prefetch_count(self):
        size, _, concurrency = batch_settings(self.container.config)
        return (concurrency + 1) * size


class BatchConsumer(Consumer):
    """At most `concurrency` batches are in the works; messages arriving meanwhile wait for
    the next free worker and go together. Batches grow with the load instead of the
    number of transactions: group commit, as databases do it."""

    queue_consumer = BatchQueueConsumer()

    def __init__(
        self, queue, batch_size=None, linger_seconds=None, concurrency=None, weigh=None, traces=None, **kwargs
    ):
        super().__init__(queue, requeue_on_error=True, **kwargs)
        self.weigh = weigh or (lambda body: 1)
        self.traces = traces or (lambda body: [])
        self.pending_weight = 0
        self.batch_size = batch_size
        self.linger_seconds = linger_seconds
        self.concurrency = concurrency
        self.pending = []
        self.timer = None
        self.in_flight = 0

    def traceparents(self, args):
        """The traces of the batch's messages: the batch's span links to each (services.shared.tracing)."""
        [bodies] = args
        return [traceparent for body in bodies for traceparent in self.traces(body)]

    def setup(self):
        """Sizes given to the decorator win; else the service's config (KLAXON_BATCH_*)."""
        size, linger, concurrency = batch_settings(self.container.config)
        self.batch_size = self.batch_size or size
        self.linger_seconds = linger if self.linger_seconds is None else self.linger_seconds
        self.concurrency = self.concurrency or concurrency
        super().setup()

    def handle_message(self, body, message):
        weight = self.weigh(body)
        self.pending.append((body, message, weight))
        self.pending_weight += weight
        if self.in_flight >= self.concurrency:
            return  # the next batch to finish takes these
        if self.pending_weight >= self.batch_size or self.in_flight == 0:
            self.flush()
        elif self.timer is None:
            self.timer = eventlet.spawn_after(self.linger_seconds, self.flush)

    def flush(self):
        timer, self.timer = self.timer, None
        if timer is not None and timer is not eventlet.getcurrent():
            timer.cancel()
        # Cancelling may yield to the hub, where more messages arrive: read `pending` after.
        while self.pending and self.in_flight < self.concurrency:
            self._start(self._take_batch())

    def _take_batch(self):
        """The oldest pending messages up to `batch_size` in weight; at least one."""
        taken, weight = 0, 0
        for _, _, more in self.pending:
            if taken and weight + more > self.batch_size:
                break
            taken, weight = taken + 1, weight + more
        batch, self.pending = self.pending[:taken], self.pending[taken:]
        self.pending_weight -= weight
        return batch

    def _start(self, batch):
        messages = [message for _, message, _ in batch]
        self.in_flight += 1
        try:
            self.container.spawn_worker(
                self,
                ([body for body, _, _ in batch],),
                {},
                context_data=self.unpack_message_headers(messages[0]),
                handle_result=partial(self.handle_batch_result, messages),
            )
        except ContainerBeingKilled:
            self.in_flight -= 1
            self._requeue(messages)

    def handle_batch_result(self, messages, worker_ctx, result=None, exc_info=None):
        for message in messages:
            self.handle_message_processed(message, result, exc_info)
        self.in_flight -= 1
        if self.pending and (self.timer is None or self.in_flight == 0):
            # What waited for this worker, or lingers with no batch left in the works, goes
            # at once, from a greenlet of its own: this one still holds its worker slot.
            eventlet.spawn_n(self.flush)
        return result, exc_info

    def _requeue(self, messages):
        # On a closing connection the broker takes them back by itself.
        for message in messages:
            with contextlib.suppress(Exception):
                self.queue_consumer.requeue_message(message)


consume_batches = BatchConsumer.decorator
